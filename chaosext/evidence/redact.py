"""Scrub secrets from journals, logs and reports before anyone else sees them.

What is removed:

* PEM private keys (``-----BEGIN ... PRIVATE KEY-----`` blocks, even truncated ones), also
  base64-encoded as in a Kubernetes Secret's ``data`` (``tls.key: LS0tLS1CRUdJTi...``);
* bearer/basic credentials (``Authorization: Bearer ...``), JSON web tokens, passwords in URLs;
* the value of every key named like password, passwd, token, secret, api_key, authorization,
  private_key, client-key-data, credential(s), cookie (in JSON objects and in ``key=value`` /
  ``key: value`` text);
* every value of the experiment's ``secrets`` block wherever it appears (probe output, logs...).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["MASK", "Redactor", "find_leaks", "secret_values"]

MASK = "***REDACTED***"

_KEY = (
    r"(?:password|passwd|pwd|token|secret|api[-_]?key|authorization|private[-_]?key"
    r"|client[-_]key[-_]data|credentials?|cookie)"
)
_SENSITIVE_KEY = re.compile(rf"(?i)(?:^|[-_.]){_KEY}(?:s)?(?:$|[-_.])|^{_KEY}|{_KEY}$")

_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)", re.DOTALL)
# base64 of "-----BEGIN": a Secret's data field holding a PEM document
_B64_PEM = re.compile(r"LS0tLS1CRUdJTi[A-Za-z0-9+/]*={0,2}")
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9\-._~+/]{8,}=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+):[^\s@/]+@")
_KEY_VALUE = re.compile(
    rf"""(?ix)
    (["']?[\w.-]*{_KEY}[\w.-]*["']?     # the key, maybe quoted
    \s*[:=]\s*)                          # the separator
    (?!\*\*\*REDACTED)                   # not already masked
    ("[^"]*"|'[^']*'|[^\s,;}}\])'"]+)   # the value
    """
)


def _is_sensitive_key(key: str) -> bool:
    return bool(_SENSITIVE_KEY.search(key))


def secret_values(experiment: Any) -> set[str]:
    """Every leaf value of an experiment's ``secrets`` block (the values to scrub anywhere)."""
    values: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str | int | float) and not isinstance(node, bool):
            text = str(node)
            if len(text) >= 6:
                values.add(text)

    if isinstance(experiment, dict):
        walk(experiment.get("secrets"))
    return values


def _b64_private_key(match: re.Match[str]) -> bool:
    """Whether a base64 run that starts with "-----BEGIN" encodes a private key (not a certificate)."""
    head = match.group(0)[:64]
    try:
        decoded = base64.b64decode(head[: len(head) - len(head) % 4])
    except (binascii.Error, ValueError):
        return False
    return b"PRIVATE KEY" in decoded


class Redactor:
    """Scrubs text and JSON-like data; ``known`` are literal secret values to remove wherever found."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self.known = sorted({value for value in known if len(value) >= 6}, key=len, reverse=True)

    def add_known(self, values: Iterable[str]) -> None:
        self.known = sorted(set(self.known) | {v for v in values if len(v) >= 6}, key=len, reverse=True)

    def text(self, text: str) -> str:
        """Every rule: the credentials, and the value of every ``key=value`` with a sensitive key."""
        return _KEY_VALUE.sub(lambda m: f"{m.group(1)}{MASK}", self.credentials(text))

    def credentials(self, text: str) -> str:
        """Only what is a credential by its own shape (keys, tokens, known values), leaving
        ``secret = ...`` code alone: for text that is mostly code, such as a test's failure report."""
        for value in self.known:
            text = text.replace(value, MASK)
        text = _PEM.sub("-----BEGIN PRIVATE KEY----- " + MASK + " -----END PRIVATE KEY-----", text)
        text = _B64_PEM.sub(lambda m: MASK if _b64_private_key(m) else m.group(0), text)
        text = _JWT.sub(MASK, text)
        text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {MASK}", text)
        return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", text)

    def data(self, node: Any) -> Any:
        """A scrubbed deep copy of JSON-like data."""
        if isinstance(node, dict):
            cleaned: dict[Any, Any] = {}
            for key, value in node.items():
                if isinstance(key, str) and _is_sensitive_key(key):
                    cleaned[key] = self._mask_all(value)
                else:
                    cleaned[key] = self.data(value)
            return cleaned
        if isinstance(node, list):
            return [self.data(value) for value in node]
        if isinstance(node, str):
            return self.text(node)
        return node

    def _mask_all(self, node: Any) -> Any:
        if isinstance(node, dict):
            return {key: self._mask_all(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self._mask_all(value) for value in node]
        if node is None or isinstance(node, bool):
            return node
        return MASK

    @classmethod
    def for_journal(cls, journal: Any) -> Redactor:
        experiment = journal.get("experiment") if isinstance(journal, dict) else None
        return cls(secret_values(experiment))


def find_leaks(text: str, known: Iterable[str] = ()) -> list[str]:
    """What in ``text`` still looks like a secret (used by tests and as a last check before writing)."""
    leaks = [f"known secret value {value[:3]}..." for value in known if len(value) >= 6 and value in text]
    if re.search(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?!\s*\*\*\*REDACTED)", text):
        leaks.append("PEM private key")
    if any(_b64_private_key(m) for m in _B64_PEM.finditer(text)):
        leaks.append("base64-encoded PEM private key")
    for match in _AUTH_SCHEME.finditer(text):
        if MASK not in match.group(0):
            leaks.append(f"{match.group(1)} credential")
    if _JWT.search(text):
        leaks.append("JSON web token")
    return leaks
