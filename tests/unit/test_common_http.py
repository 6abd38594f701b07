"""The control APIs' requests (chaosext.common.http) against a real HTTP server on this machine:
one kept-open connection per server, redirects left alone when asked, the environment's proxy
settings honoured, and a refused connection told apart from a request that may have arrived."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chaosext.common import http


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def _answer(self, status: int, body: dict[str, Any], location: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        length = int(self.headers.get("Content-Length") or 0)
        sent = json.loads(self.rfile.read(length) or b"null")
        if self.path == "/moved":
            self._answer(301, {}, "/elsewhere")
        else:
            self._answer(200, {"path": self.path, "got": sent, "if_none_match": self.headers.get("If-None-Match")})

    do_GET = do_POST  # noqa: N815


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _base(srv: _Server) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_calls_from_one_thread_share_one_connection(server: _Server) -> None:
    for follow in (False, False, True, True):
        answer = http.call(_base(server), "POST", "/toxics", {"n": 1}, {"If-None-Match": "*"}, follow=follow)
        assert answer.status_code == 200
        assert answer.json() == {"path": "/toxics", "got": {"n": 1}, "if_none_match": "*"}
    # one connection for the direct requests, one for requests' session: none opened per call
    assert server.connections == 2


@pytest.mark.parametrize("follow", [False, True])
def test_a_base_url_with_a_path_keeps_it(server: _Server, follow: bool) -> None:
    answer = http.call(f"{_base(server)}/api", "POST", "/toxics", {}, follow=follow)
    assert answer.json()["path"] == "/api/toxics"


def test_a_redirect_is_followed_only_when_asked(server: _Server) -> None:
    assert http.call(_base(server), "POST", "/moved", {}, follow=False).status_code == 301
    followed = http.call(_base(server), "POST", "/moved", {}, follow=True)
    assert followed.status_code == 200 and followed.json()["path"] == "/elsewhere"


@pytest.mark.parametrize("follow", [False, True])
def test_a_refused_connection_never_reached_the_server(follow: bool) -> None:
    with pytest.raises(http.Failed, match="Max retries exceeded .*Connection refused") as failed:
        http.call(f"http://127.0.0.1:{_closed_port()}", "POST", "/toxics", {}, follow=follow)
    assert failed.value.sent is False


def test_the_environment_proxy_is_used_and_no_proxy_honoured(server: _Server, monkeypatch: pytest.MonkeyPatch) -> None:
    base = _base(server)
    assert http.call(base, "POST", "/x", {}, follow=False).status_code == 200
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(http.Failed, match="Unable to connect to proxy") as failed:
        http.call(base, "POST", "/x", {}, follow=False)
    assert failed.value.sent is False, "the proxy refused the connection: the server never saw it"
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert http.call(base, "POST", "/x", {}, follow=False).status_code == 200
