"""Shared fixtures: small hand-built households and a small generated firm."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pytest

AS_OF = dt.date(2026, 11, 20)


def household(**overrides) -> "HouseholdProblem":  # noqa: F821
    """A one-account taxable household holding one lot of A ($100 × 10 shares, basis $1,000),
    model 50 % A / 50 % B, prices $100 each, no cash: edit fields per test."""
    from optimizer.problem import HouseholdProblem

    base = dict(
        household_id="H1", as_of=AS_OF,
        account_ids=np.array(["T"]), account_taxable=np.array([True]),
        cash_usd=np.array([0.0]), min_cash_usd=np.array([0.0]),
        security_ids=np.array(["A", "B"]), price_usd=np.array([100.0, 100.0]),
        security_class=np.array([0, 0]), identical_group=np.array([0, 1]), target_weight=np.array([0.5, 0.5]),
        buy_blocked=np.array([False, False]), class_names=("equity", "cash"), class_target_weight=np.array([1.0, 0.0]),
        lot_ids=np.array(["L1"]), lot_account=np.array([0]), lot_security=np.array([0]),
        lot_quantity_shares=np.array([10.0]), lot_basis_usd=np.array([1000.0]),
        lot_acquired=np.array(["2020-01-02"], dtype="datetime64[D]"), lot_loss_sale_blocked=np.array([False]),
        short_term_rate=0.40, long_term_rate=0.20,
    )
    base.update(overrides)
    return HouseholdProblem(**base)


@pytest.fixture(scope="session")
def small_firm(tmp_path_factory) -> Path:
    from data_contracts.sample_firm import write_sample_firm

    out = tmp_path_factory.mktemp("firm")
    write_sample_firm(60, 11, AS_OF, out)
    return out


@pytest.fixture(scope="session")
def prefect_local(tmp_path_factory):
    """A real, local Prefect (temporary server on 127.0.0.1, SQLite in a temp PREFECT_HOME)."""
    home = tmp_path_factory.mktemp("prefect_home")
    os.environ["PREFECT_HOME"] = str(home)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield home
