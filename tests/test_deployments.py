"""The deployments against a real Prefect server started here on 127.0.0.1 (and stopped at the end):
they load, a lotwise.cashflow event starts the cash-flow run, and its artifacts read back; in a
real headless browser the dashboard's desk report link opens the report from `lotwise reports serve`."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import AS_OF
from tests.live import free_port, stop, until

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    url = f"http://127.0.0.1:{free_port()}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(root / "prefect"), PREFECT_API_URL=url, DO_NOT_TRACK="1",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_RUNNER_POLL_FREQUENCY="1")
    port = url.rsplit(":", 1)[1].split("/")[0]
    log = open(root / "server.log", "wb")
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", port],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def healthy():
        assert proc.poll() is None, (root / "server.log").read_text()[-3000:]
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        until("the Prefect server", healthy)
        yield dict(url=url, env=env, root=root)
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def served(server, small_firm):
    """The day's daily run against the server, then the deployments served by `python -m deploy`;
    their links name a reports server on a port of this module's own (``reports``)."""
    var, reports_url = server["root"] / "var", f"http://127.0.0.1:{free_port()}"
    config = server["root"] / "run.yaml"
    config.write_text(f"reports_base_url: {reports_url}\n")
    subprocess.run([sys.executable, "-m", "flows.cli", "run", "--input", str(small_firm), "--as-of", AS_OF.isoformat(),
                    "--var", str(var), "--config", str(config)], env=server["env"], check=True, capture_output=True)
    log = open(server["root"] / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "deploy", "--var", str(var), "--reports-url", reports_url],
                            env=server["env"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = httpx.Client(base_url=server["url"], timeout=30)

    def deployments():
        assert proc.poll() is None, (server["root"] / "serve.log").read_text()[-3000:]
        found = {d["name"]: d for d in api.post("/deployments/filter", json={}).json()}
        return found if {"daily-rebalance", "cash-flow-rebalance"} <= found.keys() else None

    try:
        yield dict(var=var, api=api, deployments=until("the served deployments", deployments), reports_url=reports_url,
                   **server)
    finally:
        stop(proc)
        log.close()
        api.close()


@pytest.fixture(scope="module")
def reports(served):
    """`lotwise reports serve` on the port the runs' links name, serving the runs' var folder."""
    port = served["reports_url"].rsplit(":", 1)[1]
    log = open(served["root"] / "reports.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "reports", "serve", "--var", str(served["var"]),
                             "--port", port], env=served["env"], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)

    def up():
        assert proc.poll() is None, (served["root"] / "reports.log").read_text()[-3000:]
        try:
            return httpx.get(served["reports_url"] + "/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        until("the reports server", up, timeout_s=60)
        yield served["reports_url"]
    finally:
        stop(proc)
        log.close()


def _served_file(link: str, base_url: str, var: Path) -> Path:
    """The file under ``var`` that a link on the reports server at ``base_url`` names."""
    assert link.startswith(base_url + "/runs/"), link
    return var / "runs" / link.removeprefix(base_url + "/runs/")


def _runs_of(api: httpx.Client, deployment_id: str) -> list[dict]:
    return api.post("/flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [deployment_id]}}}).json()


def _finished(api: httpx.Client, deployment_id: str, seen: set[str]):
    fresh = [r for r in _runs_of(api, deployment_id) if r["id"] not in seen]
    return fresh[0] if fresh and fresh[0]["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None


def _artifacts(api: httpx.Client, flow_run_id: str) -> dict[str, dict]:
    found = api.post("/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}}).json()
    return {a["key"]: a for a in found}


def test_the_deployments_load_with_their_schedule_and_trigger(served):
    daily = served["deployments"]["daily-rebalance"]
    (schedule,) = [s["schedule"] for s in daily["schedules"]]
    assert schedule["cron"] == "30 6 * * 1-5" and schedule["timezone"] == "America/New_York"
    assert daily["global_concurrency_limit"]["limit"] == 1 and daily["concurrency_options"]["collision_strategy"] == "ENQUEUE"
    # The server's scheduler really creates the runs: business days at 06:30 in New York.
    scheduled = until("scheduled daily runs", lambda: [
        r for r in _runs_of(served["api"], daily["id"]) if r["state_type"] == "SCHEDULED"])
    ny = ZoneInfo("America/New_York")
    for r in scheduled:
        start = dt.datetime.fromisoformat(r["expected_start_time"]).astimezone(ny)
        assert (start.hour, start.minute, start.weekday() < 5) == (6, 30, True)
    cash_id = served["deployments"]["cash-flow-rebalance"]["id"]
    # The serve process registers the trigger's automation after the deployment itself: wait for it.
    mine = until("the cash-flow trigger's automation", lambda: [
        a for a in served["api"].post("/automations/filter", json={}).json()
        if any(act.get("deployment_id") == cash_id for act in a["actions"])])
    assert len(mine) == 1 and mine[0]["trigger"]["expect"] == ["lotwise.cashflow"]


def test_a_cashflow_event_runs_the_household_and_its_artifacts_read_back(served, small_firm):
    import polars as pl

    api, env = served["api"], served["env"]
    deployment = served["deployments"]["cash-flow-rebalance"]["id"]
    seen = {r["id"] for r in _runs_of(api, deployment)}
    accounts = pl.concat([pl.read_csv(p, infer_schema=False) for p in small_firm.glob("custodians/*/accounts.csv")])
    household = accounts.filter(pl.col("account_type").str.starts_with("taxable"))["household_id"].sort()[0]
    emitted = subprocess.run([sys.executable, "-m", "flows.cli", "cashflow", "--household", household, "--amount", "25000",
                              "--var", str(served["var"])], env=env, capture_output=True, text=True)
    assert emitted.returncode == 0, emitted.stdout + emitted.stderr
    run = until("the cash-flow run started by the event", lambda: _finished(api, deployment, seen))
    assert run["state_type"] == "COMPLETED", run["state"]
    assert run["parameters"]["household_id"] == household and run["parameters"]["amount_usd"] == "25000"

    arts = _artifacts(api, run["id"])
    assert {"cash-flow-summary", "cash-flow-trades", "cash-flow-blocks", "cash-flow-trade-file", "cash-flow-report"} <= arts.keys()
    assert household in arts["cash-flow-summary"]["data"] and "published" in arts["cash-flow-summary"]["data"]
    link = re.fullmatch(r"\[trades\.csv\]\((.+)\)", arts["cash-flow-trade-file"]["data"])
    assert link and link[1].endswith("/trades.csv") and _served_file(link[1], served["reports_url"], served["var"]).is_file()
    # Account numbers are masked in the dashboard: none of the household's appears whole.
    shown = str(arts["cash-flow-trades"]["data"]) + arts["cash-flow-summary"]["data"]
    assert not any(a in shown for a in accounts.filter(pl.col("household_id") == household)["account_id"])


def test_a_bad_event_fails_its_run_with_the_reason_and_trades_nothing(served):
    api, env = served["api"], served["env"]
    deployment = served["deployments"]["cash-flow-rebalance"]["id"]
    seen = {r["id"] for r in _runs_of(api, deployment)}
    before = sorted(p.name for p in (served["var"] / "runs" / AS_OF.isoformat()).iterdir())
    # Anyone with API access can emit an event: the flow validates it again.
    emit = ("from prefect.events import emit_event; emit_event(event='lotwise.cashflow', "
            "resource={'prefect.resource.id': 'lotwise.household.H0000001'}, "
            "payload={'household_id': 'H0000001', 'amount_usd': 'lots', 'account_id': ''})")
    subprocess.run([sys.executable, "-c", emit], env=env, check=True, capture_output=True)
    run = until("the cash-flow run of the bad event", lambda: _finished(api, deployment, seen))
    assert run["state_type"] == "FAILED"
    assert "not an amount in dollars and cents" in _artifacts(api, run["id"])["cash-flow-summary"]["data"]
    assert sorted(p.name for p in (served["var"] / "runs" / AS_OF.isoformat()).iterdir()) == before


def test_the_daily_run_tells_its_story_in_artifacts(served, small_firm):
    import polars as pl

    api = served["api"]
    runs = api.post("/flow_runs/filter", json={"flows": {"name": {"any_": ["daily_rebalance"]}},
                                               "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}).json()
    assert runs, "the daily run is not in the server"
    assert runs[0]["name"] == f"daily-{AS_OF.isoformat()}"  # a daily run is named after its date
    keys = [a["key"] for a in api.post("/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [runs[0]["id"]]}}}).json()]
    assert len(keys) == len(set(keys)), sorted(keys)  # no artifact hides another behind its key
    arts = _artifacts(api, runs[0]["id"])
    assert {"daily-summary", "daily-review-queue", "daily-exceptions", "daily-block-trades", "daily-trades",
            "daily-folder", "daily-report", "daily-review-queue-file", "daily-data-docs"} <= arts.keys()
    assert arts["daily-review-queue"]["type"] == "table" and arts["daily-review-queue"]["data"] != "[]"
    summary = arts["daily-summary"]["data"]
    assert "| households | 60 |" in summary and "stage timings" in summary and "solve" in summary
    assert "estimated taxes saved or deferred vs a tax-naive rebalance" in summary
    report = re.fullmatch(r"\[desk report .*\]\((.+)\)", arts["daily-report"]["data"])
    assert report and report[1].endswith("/desk_report.html")
    assert _served_file(report[1], served["reports_url"], served["var"]).is_file()
    assert report[1] in summary  # the summary carries the links under its figures
    assert "asset-class drift per household" in summary and "households by review reason" in summary
    accounts = pl.concat([pl.read_csv(p, infer_schema=False) for p in small_firm.glob("custodians/*/accounts.csv")])
    shown = "".join(str(a["data"]) for a in arts.values())
    assert not any(a in shown for a in accounts["account_id"])  # masked everywhere in the dashboard
    # Task names say which households each batch holds.
    tasks = api.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [runs[0]["id"]]}}}).json()
    batches = [t["name"] for t in tasks if t["name"].startswith("optimize ")]
    assert batches and all(re.fullmatch(r"optimize \S+\.\.\S+ \(\d+ households\)", n) for n in batches)


def test_the_desk_report_opens_from_the_dashboard_in_a_browser(served, reports, tmp_path):
    """Headless Chromium: the Prefect UI's run page, its Artifacts tab, the desk report's artifact,
    its link, and the report itself, served by `lotwise reports serve`."""
    from tests.browser import attributes, chromium, click_first, texts

    api, ui = served["api"], served["url"].removesuffix("/api")
    run = api.post("/flow_runs/filter", json={"flows": {"name": {"any_": ["daily_rebalance"]}},
                                              "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}).json()[0]
    with chromium(tmp_path / "profile") as browser:
        browser.get(f"{ui}/runs/flow-run/{run['id']}")
        until("the run page named after its date", lambda: f"daily-{AS_OF.isoformat()}" in browser.title, 120)
        until("the Artifacts tab", lambda: click_first(browser, "li.p-tab#artifacts"), 60)
        until("the desk report's artifact", lambda: click_first(
            browser, "a[href*='/artifacts/artifact/']", lambda a: "daily-report" in a.text.split("\n")), 60)
        to_report = lambda a: (a.get_attribute("href") or "").startswith(reports + "/runs/")  # noqa: E731
        href = until("the desk report link", lambda: attributes(browser, "a", "href", to_report), 60)[0]
        assert href.endswith("/desk_report.html") and not href.startswith("file:")
        run_id = href.split("/")[-2]
        before = set(browser.window_handles)
        until("the link clicked", lambda: click_first(browser, "a", to_report), 60)  # the UI opens a new tab
        (tab,) = until("the report's tab", lambda: set(browser.window_handles) - before, 60)
        browser.switch_to.window(tab)
        heading = until("the desk report", lambda: texts(browser, "h1", lambda h: h.text), 60)[0]
        assert browser.current_url == href
        assert heading == f"Daily rebalance {AS_OF.isoformat()} — run {run_id}"
        figures = dict(browser.execute_script(  # read in one go: nothing to go stale in between
            "return [...document.querySelectorAll('body > table:first-of-type tr')]"
            ".map(r => [r.querySelector('th').innerText, r.querySelector('td').innerText])"))
        assert figures["households"] == "60" and figures["held back (bad input)"] == "0"
        body = browser.find_element("tag name", "body").text
        assert "Drift before and after" in body and "Review queue, first" in body


def test_ctrl_c_stops_the_deployment_server_within_its_grace(server, tmp_path):
    # Ctrl-C in a terminal signals the whole process group. Prefect's own shutdown can then wait on a
    # connection for good; `python -m deploy` stops within its grace (10 s) whatever happens.
    from deploy.__main__ import STOP_GRACE_SECONDS

    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "deploy", "--var", str(tmp_path / "var")], env=server["env"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            until("the deployments being served", lambda: proc.poll() is None and b"are being served" in log_path.read_bytes())
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(STOP_GRACE_SECONDS + 10)
        finally:
            stop(proc)
    assert b"python -m deploy: stopping (signal 2)" in log_path.read_bytes()
