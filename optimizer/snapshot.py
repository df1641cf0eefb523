"""Snapshots of a household's solver input: one ``.npz`` file, replayable anywhere.

A snapshot holds every field of the ``HouseholdProblem`` (arrays as they are, scalars and tuples
in a JSON header) and the ``SolveParams``; no pickle, so a snapshot from production is safe to load
in a test. ``lotwise replay SNAPSHOT`` solves and verifies it; dropping the file into
``tests/snapshots/`` makes it a regression fixture.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path

import numpy as np

from optimizer.problem import HouseholdProblem, SolveParams

FORMAT = "lotwise-household-snapshot/1"


def save_snapshot(problem: HouseholdProblem, params: SolveParams, path: Path) -> Path:
    arrays, header = {}, {"format": FORMAT, "params": dataclasses.asdict(params), "problem": {}}
    for f in dataclasses.fields(problem):
        value = getattr(problem, f.name)
        if isinstance(value, np.ndarray):
            arrays[f.name] = value.astype(str) if value.dtype == object else value
        elif isinstance(value, dt.date):
            header["problem"][f.name] = value.isoformat()
        else:
            header["problem"][f.name] = list(value) if isinstance(value, tuple) else value
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # a client's lots: owner-only
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as out:
        np.savez_compressed(out, __header__=np.array(json.dumps(header)), **arrays)
    return path


def load_snapshot(path: Path) -> tuple[HouseholdProblem, SolveParams]:
    with np.load(Path(path), allow_pickle=False) as data:
        header = json.loads(str(data["__header__"]))
        if header.get("format") != FORMAT:
            raise ValueError(f"{path}: not a Lotwise household snapshot (format {header.get('format')!r})")
        fields = {k: data[k] for k in data.files if k != "__header__"}
    types = {f.name: f.type for f in dataclasses.fields(HouseholdProblem)}
    for k, v in header["problem"].items():
        if k == "as_of":
            v = dt.date.fromisoformat(v)
        elif isinstance(v, list):
            v = tuple(v)
        fields[k] = v
    unknown = set(fields) - set(types)
    if unknown:
        raise ValueError(f"{path}: unknown fields {sorted(unknown)}")
    return HouseholdProblem(**fields), SolveParams(**header["params"])
