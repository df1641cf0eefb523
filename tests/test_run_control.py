"""Run control: one run per date at a time, and a killed run resumed without re-solving its finished batches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_contracts.config import RunConfig
from tests.conftest import AS_OF
from warehouse.locks import RunInProgress, day_lock

OUTPUTS = ("trades.csv", "lot_sales.csv", "realized_gains_by_account.csv", "realized_gains_by_household.csv",
           "drift.csv", "exceptions.csv")


def test_a_second_run_of_the_same_date_refuses_and_says_why(small_firm, tmp_path, prefect_local):
    from flows.daily_rebalance import daily_rebalance

    var = tmp_path / "var"
    with day_lock(var / "runs", AS_OF, "the 06:30 schedule"):  # another run of the day is in progress
        with pytest.raises(RunInProgress, match="the 06:30 schedule") as refused:
            daily_rebalance(input_dir=small_firm, as_of=AS_OF, var_dir=var)
    assert "publishes nothing" in str(refused.value)
    assert not (var / "warehouse").exists()  # it stopped before reading anything
    # From the command line the refusal is an exit code of its own, with the reason, not a crash.
    from typer.testing import CliRunner

    from flows.cli import DATE_HELD_EXIT, app

    with day_lock(var / "runs", AS_OF, "the 06:30 schedule"):
        result = CliRunner().invoke(app, ["run", "--input", str(small_firm), "--as-of", AS_OF.isoformat(),
                                          "--var", str(var)])
    assert result.exit_code == DATE_HELD_EXIT == 4 and "the 06:30 schedule" in result.output
    assert not any((var / "runs").glob(f"{AS_OF}/*"))
    # Once the first has finished, the same run goes ahead.
    summary = daily_rebalance(input_dir=small_firm, as_of=AS_OF, var_dir=var)
    assert summary["households_solved"] == 60


def test_previous_business_day_is_the_weekday_before_in_the_firms_zone():
    import datetime as dt

    from flows.daily_rebalance import previous_business_day

    utc = dt.timezone.utc
    # Monday 2026-11-23 06:30 in New York (11:30 UTC) → Friday 2026-11-20.
    assert previous_business_day("America/New_York", dt.datetime(2026, 11, 23, 11, 30, tzinfo=utc)) == dt.date(2026, 11, 20)
    # Tuesday 03:00 UTC is still Monday evening in New York → Friday.
    assert previous_business_day("America/New_York", dt.datetime(2026, 11, 24, 3, 0, tzinfo=utc)) == dt.date(2026, 11, 20)
    # The same instant in Tokyo is Tuesday noon → Monday.
    assert previous_business_day("Asia/Tokyo", dt.datetime(2026, 11, 24, 3, 0, tzinfo=utc)) == dt.date(2026, 11, 23)


def _finished_batches(var: Path) -> list[Path]:
    return [p.parent for p in (var / "checkpoints").glob("*/*/batch-*/counts.json")]


def test_a_killed_run_resumes_its_finished_batches_and_publishes_what_an_uninterrupted_run_would(
        small_firm, tmp_path, prefect_local):
    from flows.daily_rebalance import daily_rebalance

    config = tmp_path / "run.yaml"
    config.write_text("batch_size: 2\n")  # 60 households → 30 batches, so the kill lands mid-way
    killed = tmp_path / "killed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-child")  # the child's own temporary Prefect server
    child = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--input", str(small_firm), "--as-of",
                              AS_OF.isoformat(), "--var", str(killed), "--config", str(config)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while len(_finished_batches(killed)) < 3:  # wait for real progress, then kill the whole process group
            assert child.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no batch finished within 180 s"
            time.sleep(0.01)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    finished = len(_finished_batches(killed))
    assert 3 <= finished < 30  # killed mid-way: some batches done, not all
    assert not list((killed / "runs").glob(f"{AS_OF}/*/run_summary.json"))  # nothing was published

    cfg = RunConfig.load(config)
    resumed = daily_rebalance(input_dir=small_firm, as_of=AS_OF, var_dir=killed, config=cfg)
    assert resumed["batches_resumed"] == finished  # read back, not solved again
    assert not (killed / "checkpoints" / AS_OF.isoformat() / resumed["run_id"]).exists()  # cleaned after publishing

    straight = daily_rebalance(input_dir=small_firm, as_of=AS_OF, var_dir=tmp_path / "straight", config=cfg)
    assert straight["run_id"] == resumed["run_id"] and straight["batches_resumed"] == 0
    for name in OUTPUTS:  # no duplicates, no gaps: the very same files
        a = (killed / "runs" / AS_OF.isoformat() / resumed["run_id"] / name).read_bytes()
        b = (tmp_path / "straight" / "runs" / AS_OF.isoformat() / straight["run_id"] / name).read_bytes()
        assert a == b, name


def test_a_day_whose_files_never_arrived_fails_loudly_and_stages_nothing(tmp_path, prefect_local):
    # Missing input is never success: the flow run is Failed with the reason as its message, the CLI
    # exits 3 with the reason, and nothing is staged, so a cash flow never builds on the empty day.
    from typer.testing import CliRunner

    from flows.cli import NO_USABLE_INPUT_EXIT, app
    from flows.daily_rebalance import daily_rebalance
    from tasks.cash_flow import CashFlowRejected, latest_daily_run
    from tasks.validate import NoUsableInput

    var, drop = tmp_path / "var", tmp_path / "input" / AS_OF.isoformat()
    state = daily_rebalance(input_dir=drop, as_of=AS_OF, var_dir=var, return_state=True)
    assert state.is_failed() and f"no drop for {AS_OF}: {drop} does not exist" in state.message
    with pytest.raises(NoUsableInput):
        state.result()
    result = CliRunner().invoke(app, ["run", "--input", str(drop), "--as-of", AS_OF.isoformat(), "--var", str(var)])
    assert result.exit_code == NO_USABLE_INPUT_EXIT and "does not exist" in result.output
    drop.mkdir(parents=True)  # the folder arrived, empty
    with pytest.raises(NoUsableInput, match="holds no file"):
        daily_rebalance(input_dir=drop, as_of=AS_OF, var_dir=var)
    assert not list((var / "warehouse" / "parquet").glob("stg_*"))
    assert not list((var / "runs").glob(f"{AS_OF}/*/run_summary.json"))
    with pytest.raises(CashFlowRejected, match="no daily run has been published"):
        latest_daily_run(var / "warehouse" / "parquet")


def test_a_day_without_a_readable_household_fails_with_the_firm_level_reason(small_firm, tmp_path, prefect_local):
    from flows.daily_rebalance import daily_rebalance
    from tasks.validate import NoUsableInput
    from tests.helpers import copy_firm

    firm = copy_firm(small_firm, tmp_path / "input")
    (firm / "firm" / "households.csv").unlink()  # every custodian file arrived, the firm's households did not
    with pytest.raises(NoUsableInput, match="no household could be read .*households.csv"):
        daily_rebalance(input_dir=firm, as_of=AS_OF, var_dir=tmp_path / "var")


def test_a_day_a_custodian_sent_nothing_holds_its_households_and_says_so_first(tmp_path, prefect_local):
    # Yesterday every custodian delivered; today cedar sent nothing. The day still runs for everyone
    # else, cedar's households (by yesterday's accounts, those with accounts elsewhere too) are held with
    # the reason, and the summary's first line names cedar.
    import datetime as dt
    import shutil

    import polars as pl

    from data_contracts.sample_firm import write_sample_firm
    from flows.daily_rebalance import daily_rebalance
    from tasks.artifacts import daily_title
    from tests.helpers import households_at

    yesterday = AS_OF - dt.timedelta(days=1)
    var = tmp_path / "var"
    write_sample_firm(40, 11, yesterday, tmp_path / "d1")
    first = daily_rebalance(input_dir=tmp_path / "d1", as_of=yesterday, var_dir=var)
    assert first["missing_custodians"] == []
    write_sample_firm(40, 11, AS_OF, tmp_path / "d2")
    shutil.rmtree(tmp_path / "d2" / "custodians" / "cedar")
    cedar = households_at(tmp_path / "d1", "cedar")
    s = daily_rebalance(input_dir=tmp_path / "d2", as_of=AS_OF, var_dir=var)
    assert s["missing_custodians"] == ["cedar"] and s["households_quarantined"] >= len(cedar) > 0
    assert daily_title(s).endswith(f"PARTIAL DAY: no files from cedar; {s['households_quarantined']:,} households held")
    folder = Path(s["output_dir"])
    exceptions = pl.read_csv(folder / "exceptions.csv", infer_schema=False)
    named = exceptions.filter(pl.col("reason").str.starts_with(f"custodian cedar delivered no files for {AS_OF}"))
    assert set(named["household_id"].drop_nulls()) == cedar and named["household_id"].null_count() == 1
    assert (named["file"] == "custodians/cedar").all()
    trades = pl.read_csv(folder / "trades.csv", infer_schema=False)
    assert trades.height > 0 and not set(trades["household_id"]) & cedar


def test_the_run_id_is_the_date_and_a_digest_of_the_inputs_and_the_configuration(small_firm, tmp_path):
    import re

    from data_contracts.cash_flow import parse_request
    from data_contracts.config import EXECUTION_FIELDS
    from tasks.cash_flow import BaseRun, cash_flow_run_id
    from tasks.ingest import run_id_for
    from tests.helpers import copy_firm, edit_cell

    default = run_id_for(small_firm, AS_OF, RunConfig())
    assert re.fullmatch(r"20261120-[0-9a-f]{16}", default)
    assert run_id_for(small_firm, AS_OF, RunConfig()) == default  # same inputs, same configuration
    # The same effective configuration however the file spells it: defaults written out, another key order.
    spelled = tmp_path / "spelled.yaml"
    spelled.write_text("trading_cost_rate: 5.0e-4\nclass_drift_penalty: 0.1\n")
    assert run_id_for(small_firm, AS_OF, RunConfig.load(spelled)) == default
    two = {"alder": {"fractional_shares": True}, "birch": {"min_trade_usd": 100}}
    assert run_id_for(small_firm, AS_OF, RunConfig(custodians=two)) == \
        run_id_for(small_firm, AS_OF, RunConfig(custodians=dict(reversed(two.items()))))
    # Where and how the batches run decides nothing (tests/test_dask.py): it is the same run.
    assert EXECUTION_FIELDS <= set(RunConfig.model_fields)
    assert run_id_for(small_firm, AS_OF, RunConfig(batch_size=7, task_runner="dask", workers=3, lock_wait_seconds=5,
                                                   snapshots="all", time_zone="Asia/Tokyo",
                                                   reports_base_url="https://reports.desk.example")) == default
    # Anything that decides the outputs is another run.
    others = [RunConfig(trading_cost_rate=0.001), RunConfig(max_tracking_error=None), RunConfig(shares="fractional"),
              RunConfig(custodians=two), RunConfig(review_tax_usd=5_000.0), RunConfig(stale_price_days=3)]
    ids = {run_id_for(small_firm, AS_OF, c) for c in others}
    assert len(ids) == len(others) and default not in ids and all(i.startswith("20261120-") for i in ids)
    # And so are other inputs, or another date.
    edited = copy_firm(small_firm, tmp_path / "edited")
    edit_cell(edited / "custodians" / "alder" / "cash.csv", 2, "cash_usd", "1.00")
    assert run_id_for(edited, AS_OF, RunConfig()) != default
    other_day = run_id_for(small_firm, AS_OF.replace(day=19), RunConfig())
    assert other_day.startswith("20261119-") and other_day[9:] == default[9:]

    # A cash flow's id folds the configuration in the same way.
    request = parse_request(household_id="H0000001", amount_usd="100.00", event_id="evt-1")
    base = BaseRun(AS_OF, default)
    cf = cash_flow_run_id(request, base, RunConfig())
    assert re.fullmatch(r"cf-[0-9a-f]{16}", cf)
    assert cash_flow_run_id(request, base, RunConfig(workers=4)) == cf  # a redelivered event is the same run
    assert cash_flow_run_id(request, base, RunConfig(trading_cost_rate=0.001)) != cf


def _files(*folders: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for f in folders for p in sorted(f.rglob("*")) if p.is_file()}


def test_a_run_with_another_configuration_gets_its_own_id_and_leaves_the_first_run_alone(
        small_firm, tmp_path, prefect_local):
    from flows.cli import _run

    var = tmp_path / "var"
    first = _run(small_firm, AS_OF, var, None)  # `lotwise run` without --config
    first_run = [var / "runs" / AS_OF.isoformat() / first["run_id"], var / "data_docs" / AS_OF.isoformat() / first["run_id"],
                 *(var / "warehouse" / "parquet").glob(f"*/as_of_date={AS_OF}/run_id={first['run_id']}")]
    before = _files(*first_run)
    assert len(first_run) > 10 and any(p.endswith("trades.csv") for p in before)

    config = tmp_path / "run.yaml"
    config.write_text("trading_cost_rate: 0.002\nreview_tax_usd: 5000\n")  # `lotwise run --config run.yaml`
    second = _run(small_firm, AS_OF, var, config)
    assert second["run_id"] != first["run_id"] and second["run_id"][:9] == first["run_id"][:9] == "20261120-"
    assert _files(*first_run) == before  # not a byte, not a modification time of the first run changed
    assert sorted(p.name for p in (var / "runs" / AS_OF.isoformat()).iterdir() if not p.name.startswith(".")) == \
        sorted([first["run_id"], second["run_id"]])
    assert second["households_reused"] == 0  # decisions taken under another configuration are not carried over
    assert second["households_solved"] == first["households_solved"] == 60


@pytest.mark.parametrize("config_text, words", [
    (None, "No such file or directory"),
    ("shares: [\n", "not YAML"),
    ("shares: sometimes\n", "shares: Input should be 'round', 'mip' or 'fractional'"),
    ("- 1\n", "a mapping of settings, not a list"),
])
def test_a_configuration_that_cannot_be_used_is_one_line_and_exit_2(tmp_path, config_text, words):
    config = tmp_path / "run.yaml"
    if config_text is not None:
        config.write_text(config_text)
    cmd = [sys.executable, "-c", "from flows.cli import main; main()", "run", "--input", str(tmp_path),
           "--as-of", AS_OF.isoformat(), "--var", str(tmp_path / "var"), "--config", str(config)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"lotwise: {config}: ") and words in lines[0]
    assert "Traceback" not in done.stdout + done.stderr and not (tmp_path / "var").exists()  # refused before anything
    # --debug shows the traceback for whoever needs it.
    debug = subprocess.run(cmd + ["--debug"], capture_output=True, text=True, timeout=120)
    assert debug.returncode != 0 and "ConfigError" in debug.stderr


def test_a_run_into_a_var_folder_that_does_not_exist_yet_creates_it(small_firm, tmp_path):
    # A fresh PREFECT_HOME inside the new folder: the temporary server must be able to start there.
    var = tmp_path / "new" / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    done = subprocess.run([sys.executable, "-c", "from flows.cli import main; main()", "run", "--input", str(small_firm),
                           "--as-of", AS_OF.isoformat(), "--var", str(var)], capture_output=True, text=True,
                          timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (var / "prefect").is_dir() and list((var / "runs" / AS_OF.isoformat()).glob("*/trades.csv"))
