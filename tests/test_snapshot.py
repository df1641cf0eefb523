"""Snapshots round-trip exactly, replay from the command line, and any snapshot in tests/snapshots/
is a regression fixture."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from flows.cli import app
from optimizer.problem import SolveParams
from optimizer.snapshot import load_snapshot, save_snapshot
from optimizer.solve import solve_household
from optimizer.verify import verify
from tests.conftest import household

FIXTURES = sorted((Path(__file__).parent / "snapshots").glob("*.npz"))


def test_round_trip_is_exact(tmp_path):
    p = household(cash_usd=np.array([250.0]), substitute_of=np.array([-1, 0]), gain_budget_usd=123.0,
                  exposures=np.array([[1.0, 0.3], [0.0, -0.2]]), exposure_names=("sector:tech", "beta"))
    params = SolveParams(priority="drift_first", trading_cost_rate=0.001)
    back, back_params = load_snapshot(save_snapshot(p, params, tmp_path / "h.npz"))
    assert back_params == params
    for name in ("household_id", "as_of", "class_names", "exposure_names", "gain_budget_usd", "short_term_rate"):
        assert getattr(back, name) == getattr(p, name)
    for name in ("account_ids", "lot_acquired", "lot_basis_usd", "exposures", "substitute_of", "security_ids"):
        np.testing.assert_array_equal(getattr(back, name), getattr(p, name))
    a, b = solve_household(p, params), solve_household(back, back_params)
    np.testing.assert_array_equal(a.lot_sold_usd, b.lot_sold_usd)
    np.testing.assert_array_equal(a.buy_usd, b.buy_usd)


def test_replay_command(tmp_path):
    path = save_snapshot(household(cash_usd=np.array([1000.0])), SolveParams(), tmp_path / "h.npz")
    result = CliRunner().invoke(app, ["replay", str(path)])
    assert result.exit_code == 0, result.output
    assert "verification: passed" in result.output
    assert "buy" in result.output and "B" in result.output


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_snapshot_fixtures_solve_and_verify(path):
    problem, params = load_snapshot(path)
    assert verify(solve_household(problem, params)) == []
