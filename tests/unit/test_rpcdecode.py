"""supervisord's XML-RPC answers decoded with ElementTree give what xmlrpc.client gives, and
raise what it raises."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest

from chaosext.stack.rpcdecode import AnswerDecoder, decode

PROGRAM = {"name": "payment-service-1", "group": "payment-service-1", "start": 1700000000, "stop": 0,
           "now": 1700000042, "state": 20, "statename": "RUNNING", "spawnerr": "", "exitstatus": 0,
           "logfile": "/tmp/logs/payment-service-1.log", "stderr_logfile": "", "pid": 4242,
           "description": "pid 4242, uptime 0:00:42 <&> 'quoted'"}


def _answer(*params: Any) -> bytes:
    return xmlrpc.client.dumps(params, methodresponse=True, allow_none=True).encode()


@pytest.mark.parametrize("value", [
    [PROGRAM, {**PROGRAM, "name": "checkout-api-1", "pid": 0, "statename": "STOPPED"}],
    {"statecode": 1, "statename": "RUNNING"},
    [{"faultCode": 10, "faultString": "BAD_NAME: nope"}, PROGRAM],
    True, False, 0, -7, 2**31 - 1, 1.5, "", "plain text", None, [], {}, [[1, ["a", {"b": [True]}]]],
])
def test_every_answer_decodes_as_xmlrpc_client_decodes_it(value: Any) -> None:
    data = _answer(value)
    assert decode(data) == xmlrpc.client.loads(data, use_builtin_types=False)[0]


def test_a_value_without_a_type_is_a_string() -> None:
    data = b"<?xml version='1.0'?><methodResponse><params><param><value>bare</value></param></params></methodResponse>"
    assert decode(data) == ("bare",)


def test_other_types_are_left_to_xmlrpc_client() -> None:
    data = _answer([xmlrpc.client.DateTime("20240102T03:04:05"), xmlrpc.client.Binary(b"\x00\x01")])
    assert decode(data) == xmlrpc.client.loads(data)[0]


def test_a_fault_answer_raises_the_fault() -> None:
    data = xmlrpc.client.dumps(xmlrpc.client.Fault(10, "BAD_NAME: nope"), methodresponse=True).encode()
    with pytest.raises(xmlrpc.client.Fault, match="BAD_NAME: nope"):
        decode(data)


def test_the_transport_pair_decodes_what_was_fed() -> None:
    parser, decoder = AnswerDecoder.pair()
    data = _answer({"statecode": 1})
    parser.feed(data[:10])
    parser.feed(data[10:])
    parser.close()
    assert decoder.close() == ({"statecode": 1},)
