"""``free_port``: a local port nothing listens on, for a server a test starts."""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` for both TCP and UDP (a DNS server binds both).

    The kernel picks a free TCP port; it is kept only if UDP can bind it too. The port is released
    before returning, so another process could take it in between: start the server right away.
    """
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((host, port))
                except OSError:
                    continue
                return port
    raise RuntimeError(f"no port free for both TCP and UDP on {host} after 50 tries")
