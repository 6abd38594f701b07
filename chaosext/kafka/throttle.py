"""``python -m chaosext.kafka.throttle --pid PID --pause-ms P --run-ms R --until EPOCH``: slow a process
down by freezing it (SIGSTOP) for P ms out of every P+R ms, until EPOCH.

It is a real slow-down of a consumer's processing as the consumer itself experiences it (a slow
host, long GC pauses): nothing in the consumer cooperates. Whatever ends it (its deadline, SIGTERM
from the fault's undo, an error), the process is always continued (SIGCONT) on the way out; the
undo sends SIGCONT again in case this process was SIGKILLed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from types import FrameType

from chaosext.common import procs

__all__ = ["is_throttler", "main"]

_stop = False


def is_throttler(pid: int) -> bool:
    return any("chaosext.kafka.throttle" in arg for arg in procs.cmdline(pid))


def _on_term(signum: int, frame: FrameType | None) -> None:
    global _stop
    _stop = True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chaosext.kafka.throttle")
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--pause-ms", type=float, required=True)
    parser.add_argument("--run-ms", type=float, required=True)
    parser.add_argument("--until", type=float, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    cycles = 0
    try:
        while not _stop and time.time() < args.until and _alive(args.pid):
            os.kill(args.pid, signal.SIGSTOP)
            time.sleep(min(args.pause_ms / 1000.0, max(0.0, args.until - time.time())))
            os.kill(args.pid, signal.SIGCONT)
            if _stop:
                break
            time.sleep(args.run_ms / 1000.0)
            cycles += 1
    except ProcessLookupError:
        pass
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(args.pid, signal.SIGCONT)
    print(f"{time.strftime('%H:%M:%S')} throttle of pid {args.pid} ended after {cycles} cycles", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
