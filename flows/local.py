"""Local Prefect defaults: call before Prefect is imported (it reads its settings at import)."""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.io import private_dir


def use_local_prefect(var_dir: Path) -> None:
    """Prefect's database under ``var/prefect``, no telemetry; a server already configured still wins."""
    home = (Path(var_dir) / "prefect").resolve()
    # A new --var: Prefect's temporary server cannot create its database in a folder that does not
    # exist, and would be waited for until the startup timeout. Client data lives under var: owner-only.
    private_dir(home)
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # A temporary server on a fresh database migrates it first: 20.4 s measured on 2 cores, just past
    # Prefect's default 20 s wait, so a first run would fail for want of patience.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
