"""One run per business day at a time: an exclusive lock on ``<runs>/<date>.lock``.

Two runs of the same date (the 06:30 schedule and someone's manual rerun, say) would both read
the earlier run's decisions, both solve and race to publish. The second one therefore waits for
the first, up to a configured time, and then refuses, saying who holds the lock and since when.

``flock`` locks belong to the open file, so a run that is killed (SIGKILL, a lost machine's NFS
client aside) releases its lock with its process: a rerun never has to clean up after a crash.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class RunInProgress(RuntimeError):
    """Another run holds the day's lock."""


@contextmanager
def day_lock(runs_dir: Path, as_of: dt.date, holder: str, wait_seconds: float = 0.0) -> Iterator[Path]:
    """Hold the lock of ``as_of`` while the body runs; wait up to ``wait_seconds`` for it, then refuse."""
    runs_dir = Path(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    path = runs_dir / f"{as_of.isoformat()}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    held_by = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown"
                    raise RunInProgress(
                        f"another run for {as_of} is in progress ({held_by}); waited {wait_seconds:g} s for it. "
                        f"This run publishes nothing: rerun it when that one has finished.") from None
                time.sleep(0.25)  # the holder's progress is what we wait for; flock has no timeout
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"run": holder, "pid": os.getpid(), "host": socket.gethostname(),
                                  "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}).encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
