"""Decoding supervisord's XML-RPC answers with ElementTree's C parser.

``xmlrpc.client`` decodes an answer in Python callbacks, one per tag: supervisord's
``getAllProcessInfo`` for the stack's 13 programs (15 kB) takes it about 2.5 ms, more than the
call itself, and every instance or Kafka fault lists the programs. ElementTree builds the tree
in C and the walk below takes a fraction of that. The common types (int, boolean, string,
double, array, struct, nil) are decoded here; any other answer (a fault, another type, XML
that does not parse) goes to ``xmlrpc.client`` as before, so results and errors stay its own.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import xmlrpc.client
from collections.abc import Callable
from typing import Any

__all__ = ["AnswerDecoder", "decode"]


class _Other(Exception):
    """A tag this decoder leaves to ``xmlrpc.client``."""


def _boolean(text: str) -> bool:
    if text not in ("0", "1"):
        raise _Other(text)
    return text == "1"


_SCALARS: dict[str, Callable[[str], Any]] = {
    "string": str,
    "int": int,
    "i4": int,
    "i8": int,
    "boolean": _boolean,
    "double": float,
}


def _value(element: ET.Element | None) -> Any:
    if element is None or element.tag != "value":
        raise _Other("no value")
    if len(element) == 0:
        return element.text or ""  # a value without a type is a string
    typed = element[0]
    scalar = _SCALARS.get(typed.tag)
    if scalar is not None:
        return scalar(typed.text or "")
    if typed.tag == "struct":
        return {member.findtext("name", ""): _value(member.find("value")) for member in typed}
    if typed.tag == "array":
        data = typed.find("data")
        return [_value(item) for item in (data if data is not None else ())]
    if typed.tag == "nil":
        return None
    raise _Other(typed.tag)


def decode(data: bytes) -> tuple[Any, ...]:
    """The params of a ``methodResponse``, as ``xmlrpc.client.loads(data)[0]`` gives them (and
    its exceptions: ``Fault`` for a fault answer)."""
    try:
        root = ET.fromstring(data)
        params = root.find("params")
        if root.tag == "methodResponse" and params is not None:
            return tuple(_value(param.find("value")) for param in params)
    except (_Other, ET.ParseError, ValueError):
        pass
    answer: tuple[Any, ...] = xmlrpc.client.loads(data)[0]
    return answer


class _Collector:
    """The "parser" half: keeps the bytes fed to it."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def feed(self, data: bytes | str) -> None:
        self.chunks.append(data.encode() if isinstance(data, str) else data)

    def close(self) -> None:
        pass


class AnswerDecoder:
    """The "unmarshaller" half of a transport's ``getparser()`` pair, decoding with :func:`decode`."""

    def __init__(self, collector: _Collector) -> None:
        self._collector = collector

    @staticmethod
    def pair() -> tuple[_Collector, AnswerDecoder]:
        collector = _Collector()
        return collector, AnswerDecoder(collector)

    def close(self) -> tuple[Any, ...]:
        return decode(b"".join(self._collector.chunks))
