"""Print a var file's configuration as ``CHAOSEXT_<KEY>=value`` lines.

chaos run passes a var file's values only to the configuration keys an experiment declares;
chaosext's activities also read ``CHAOSEXT_<KEY>`` from the environment (chaosext.target.setting),
so scripts/ci-run-experiments.sh exports these lines and every experiment sees the whole target.
For the local target, the stack's own endpoints (which move with CHAOSEXT_PORT_OFFSET) fill the
keys the var file does not set.

Usage: python cluster/ci/target_env.py VARFILE
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from varfile import VarFileError, env_value, load_configuration

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


LOCAL_KEYS = {
    "checkout_url": "checkout",
    "toxiproxy_url": "toxiproxy",
    "prometheus_url": "prometheus",
    "dns_server": "dns",
    "dns_control_url": "dns_control",
    "kafka_bootstrap": "kafka_bootstrap",
}


def local_endpoints() -> dict[str, str]:
    """The local stack's endpoints under the configuration keys chaosext's activities read."""
    from chaosext.stack.config import load_config

    endpoints = load_config().endpoints()
    return {key: endpoints[name].rstrip("/") for key, name in LOCAL_KEYS.items()}


def env_lines(path: Path) -> list[str]:
    config = load_configuration(path)
    if config.get("target", "local") == "local":
        config = {**local_endpoints(), **config}
    lines = []
    for key, value in sorted(config.items()):
        text = env_value(value)
        if text is None or not _KEY.match(key) or "\n" in text:
            continue
        lines.append(f"CHAOSEXT_{key.upper()}={text}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: target_env.py VARFILE", file=sys.stderr)
        return 2
    try:
        for line in env_lines(Path(args[0])):
            print(line)
    except VarFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
