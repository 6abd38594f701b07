"""``python -m chaosext.faults.reaper FAULT_ID``: undo a fault when its duration ends.

Runs detached from the experiment (its own session), so a fault is removed on time even when
``chaos run`` was killed with SIGKILL.
"""

from __future__ import annotations

import sys
import time

from chaosext.faults import markers
from chaosext.faults.engine import undo


def main(fault_id: str) -> int:
    while True:
        marker = markers.load(fault_id)
        if marker is None:
            return 0  # rolled back already
        if marker.expires_at is None or time.time() >= marker.expires_at:
            break
        time.sleep(min(0.2, max(0.0, marker.expires_at - time.time())))
    for attempt in range(1, 6):
        try:
            undo(fault_id, "expired")
            print(f"{time.strftime('%H:%M:%S')} reaper removed {fault_id}", flush=True)
            return 0
        except Exception as exc:  # keep trying: the target may be restarting
            print(f"{time.strftime('%H:%M:%S')} reaper attempt {attempt} for {fault_id}: {exc}", flush=True)
            time.sleep(attempt)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
