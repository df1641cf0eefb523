"""`lotwise reports serve` (a real uvicorn server on 127.0.0.1) and the Data Docs it serves, opened
in a real headless Chromium with no network."""

from __future__ import annotations

import base64
import http.client
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import AS_OF
from tests.live import free_port, stop, until

TOKEN = "t0ken-of-twenty-chars"
PASSWORD = "a-password-long-enough"


def _serve(var: Path, *args: str, env: dict | None = None):
    """Start `lotwise reports serve` on a free loopback port; returns (process, base URL) once it answers."""
    port = free_port()
    log = var.parent / f"reports-{port}.log"
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "reports", "serve", "--var", str(var), "--port", str(port),
                             *args], stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"

    def up():
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            return httpx.get(url + "/", timeout=2).status_code in (200, 401)
        except httpx.HTTPError:
            return False

    until("the reports server", up, timeout_s=60, every_s=0.2)
    return proc, url


def _raw(url: str, method: str, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    """One request with the path sent exactly as given (no client normalizes its dots away)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture
def var(tmp_path) -> Path:
    """A var folder with a run, its Data Docs, a day lock, a warehouse, and a link out of the runs."""
    var = tmp_path / "var"
    run = var / "runs" / "2026-11-20" / "20261120-abc"
    (run / "custodians" / "birch").mkdir(parents=True)
    (run / "trades.csv").write_text("household_id,security_id\nH1,VTI\n")
    (run / "desk_report.html").write_text("<h1>Daily rebalance</h1>")
    (run / "custodians" / "birch" / "BIRCH_ORDERS_20261120.csv").write_text("x\n")
    (var / "runs" / "2026-11-20.lock").write_text('{"run": "daily_rebalance /drops/2026-11-20", "pid": 7}')
    (var / "runs" / "2026-11-20" / ".20261120-abc.writing-1").mkdir()
    docs = var / "data_docs" / "2026-11-20" / "20261120-abc"
    docs.mkdir(parents=True)
    (docs / "index.html").write_text("<title>Data Docs</title>")
    (var / "warehouse").mkdir()
    (var / "warehouse" / "lotwise.duckdb").write_text("the warehouse")
    (tmp_path / "secret.txt").write_text("not served")
    (var / "runs" / "2026-11-20" / "elsewhere.txt").symlink_to(tmp_path / "secret.txt")
    return var


def test_links_name_the_files_on_the_reports_server(var, tmp_path):
    from tasks.artifacts import artifact_key, order_file_links, publish_artifacts
    from tasks.reports_server import report_url

    run = var / "runs" / "2026-11-20" / "20261120-abc"
    base = "https://reports.desk.example:8443/lotwise"
    assert report_url(base, var, run / "desk_report.html") == f"{base}/runs/2026-11-20/20261120-abc/desk_report.html"
    assert report_url(base + "/", var, run) == f"{base}/runs/2026-11-20/20261120-abc/"
    assert report_url(base, var, var / "data_docs" / "2026-11-20" / "20261120-abc" / "index.html") == \
        f"{base}/data-docs/2026-11-20/20261120-abc/index.html"
    (run / "a file #1.csv").write_text("")
    assert report_url(base, var, run / "a file #1.csv").endswith("/20261120-abc/a%20file%20%231.csv")
    with pytest.raises(ValueError, match="does not serve it"):
        report_url(base, var, var / "warehouse" / "lotwise.duckdb")
    # Artifact keys: Prefect's alphabet, one per order file even where custodian ids differ only in case.
    assert artifact_key("orders-Birch_2") == "orders-birch-2"
    (run / "custodians" / "Birch").mkdir()
    (run / "custodians" / "Birch" / "a.csv").write_text("")
    (run / "custodians" / "Birch" / "b.csv").write_text("")
    links = order_file_links(run)
    assert len(links) == 3 and all(k == artifact_key(k) for k in links)
    assert {p.name for _, p in links.values()} == {"a.csv", "b.csv", "BIRCH_ORDERS_20261120.csv"}
    # A table and a link under one key would hide one of them in the dashboard: refused before publishing.
    with pytest.raises(ValueError, match="review-queue"):
        publish_artifacts("daily", "# x", {"review-queue": ("table", None)}, {"review-queue": ("link", run)}, set(),
                          base, var)


def test_the_runs_and_data_docs_are_served_read_only_and_nothing_else(var):
    proc, url = _serve(var)
    try:
        got = httpx.get(f"{url}/runs/2026-11-20/20261120-abc/trades.csv")
        assert got.status_code == 200 and got.text == "household_id,security_id\nH1,VTI\n"
        assert got.headers["cache-control"] == "no-store" and got.headers["x-content-type-options"] == "nosniff"
        head = httpx.head(f"{url}/runs/2026-11-20/20261120-abc/trades.csv")
        assert head.status_code == 200 and head.headers["content-length"] == str(len(got.content)) and head.content == b""
        assert "Data Docs" in httpx.get(f"{url}/data-docs/2026-11-20/20261120-abc/").text  # a folder's index.html
        # A run folder lists what it holds; a folder's address without its slash is sent to it.
        listing = httpx.get(f"{url}/runs/2026-11-20/20261120-abc/").text
        assert 'href="trades.csv"' in listing and 'href="custodians/"' in listing
        assert httpx.get(f"{url}/runs/2026-11-20/20261120-abc").status_code == 308
        day = httpx.get(f"{url}/runs/2026-11-20/").text
        assert "20261120-abc" in day and "writing" not in day and "elsewhere" not in day
        assert "2026-11-20/" in httpx.get(f"{url}/runs/").text and ".lock" not in httpx.get(f"{url}/runs/").text
        # Read-only: nothing but GET and HEAD, and the file is untouched.
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            assert _raw(url, method, "/runs/2026-11-20/20261120-abc/trades.csv")[0] == 405, method
        assert (var / "runs" / "2026-11-20" / "20261120-abc" / "trades.csv").read_text().startswith("household_id")
        # Nothing outside the two roots: dots, encoded dots, a link pointing out, hidden names, other folders.
        for path in ("/runs/../warehouse/lotwise.duckdb", "/runs/%2e%2e/warehouse/lotwise.duckdb",
                     "/runs/2026-11-20/..%2f..%2f..%2fsecret.txt", "/data-docs/../runs/2026-11-20/20261120-abc/trades.csv",
                     "/runs/2026-11-20/elsewhere.txt", "/runs/2026-11-20.lock", "/runs/2026-11-20/.20261120-abc.writing-1/",
                     "/warehouse/lotwise.duckdb",
                     "/runs/2026-11-20/20261120-abc/trades.csv%00.html", "/docs", "/openapi.json", "/etc/passwd"):
            status, body = _raw(url, "GET", path)
            assert status == 404 and b"not served" not in body and b"drops" not in body, (path, status)
    finally:
        stop(proc)


def test_it_listens_beyond_loopback_only_behind_a_secret(var):
    from tasks.reports_server import Access, refusal

    for host in ("0.0.0.0", "::", "192.168.1.5", "desk-reports.example"):
        assert refusal(host, Access()) is not None and refusal(host, Access(token=TOKEN)) is None
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        assert refusal(host, Access()) is None
    # The command refuses with one line and exit code 2, before listening anywhere.
    for args in (["--host", "0.0.0.0"], ["--host", "0.0.0.0", "--token", "short"],
                 ["--host", "::", "--basic-auth", "desk"]):
        done = subprocess.run([sys.executable, "-m", "flows.cli", "reports", "serve", "--var", str(var), *args],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and done.stdout == "", (args, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("refusing to serve: "), done.stderr
    # With a secret every request must authenticate: a token, or basic authentication (the browser's prompt).
    proc, url = _serve(var, env={"LOTWISE_REPORTS_TOKEN": TOKEN, "LOTWISE_REPORTS_BASIC_AUTH": f"desk:{PASSWORD}"})
    try:
        page = "/runs/2026-11-20/20261120-abc/trades.csv"
        basic = base64.b64encode(f"desk:{PASSWORD}".encode()).decode()
        wrong = base64.b64encode(b"desk:guess-guess-guess-guess").decode()
        assert httpx.get(url + page).status_code == 401
        assert httpx.get(url + page).headers["www-authenticate"].startswith("Basic")
        assert httpx.get(url + page, headers={"Authorization": f"Basic {wrong}"}).status_code == 401
        assert httpx.get(url + page, headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 401
        assert httpx.get(url + page, headers={"Authorization": f"Basic {basic}"}).text.startswith("household_id")
        assert httpx.get(url + page, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert _raw(url, "POST", page, {"Authorization": f"Bearer {TOKEN}"})[0] == 405
    finally:
        stop(proc)


def _data_docs(folder: Path) -> None:
    """Data Docs of two suites on two small batches, one of them failing an expectation."""
    import great_expectations as gx
    import polars as pl

    from data_contracts.expectations import QualityRecorder

    E = gx.expectations
    quality = QualityRecorder("20261120-abc", AS_OF)
    quality.validate("custodians/alder/cash.csv", "cash", [E.ExpectColumnValuesToNotBeNull(column="cash_usd")],
                     pl.DataFrame({"cash_usd": [1.0, 2.0]}))
    quality.validate("custodians/birch/positions.csv", "positions",
                     [E.ExpectColumnValuesToBeBetween(column="quantity_shares", min_value=0)],
                     pl.DataFrame({"quantity_shares": [3.0, -1.0]}))
    quality.write_docs(folder)


def test_the_data_docs_open_with_no_network_in_a_headless_browser(tmp_path):
    from tests.browser import chromium, click_first, failed_loads, texts

    var = tmp_path / "var"
    docs = var / "data_docs" / AS_OF.isoformat() / "20261120-abc"
    _data_docs(docs)
    pages = list(docs.rglob("*.html"))
    remote = re.compile(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="https?://', re.I)
    assert len(pages) >= 5 and not [p for p in pages if remote.search(p.read_text())]
    proc, url = _serve(var)
    try:
        with chromium(tmp_path / "profile", offline=True) as browser:
            for index in (f"{url}/data-docs/{AS_OF.isoformat()}/20261120-abc/index.html", (docs / "index.html").as_uri()):
                browser.get(index)
                # bootstrap-table draws the validation results from data in the page: no scripts, no rows.
                rows = until("the validation results table", lambda: texts(
                    browser, "table[id$='-body-table'] tbody tr", lambda r: r.is_displayed() and r.text), 30)
                shown = "\n".join(rows)
                assert len(rows) == 2 and "custodians--alder--cash.csv" in shown and "custodians--birch--positions.csv" in shown
                assert browser.execute_script("return typeof jQuery === 'function' && typeof jQuery.fn.bootstrapTable")
                assert browser.execute_script(  # the status icons (Font Awesome) drew with their font
                    "return document.fonts.check('900 16px \"Font Awesome 6 Free\"')")
                if index.startswith("http"):  # Chromium times no file:// loads; its log below still lists failures
                    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
                    assert len(loaded) >= 10 and all(n.startswith(index.rsplit("/", 1)[0]) for n in loaded), loaded
                assert failed_loads(browser) == []
            # A row opens its validation page, drawn as well: the failed expectation is there.
            until("a row", lambda: click_first(browser, "table[id$='-body-table'] tbody tr",
                                               lambda r: "positions" in r.text), 30)
            until("the validation page", lambda: "validations/positions/" in browser.current_url, 30)
            body = until("its content", lambda: texts(browser, "body", lambda b: "Failed" in b.text), 30)[0]
            assert "Expectation Validation Result" in body and "quantity_shares" in body
            assert failed_loads(browser) == []
    finally:
        stop(proc)


def test_a_daily_run_is_named_after_its_date(tmp_path, prefect_local):
    from prefect import get_client

    from data_contracts.config import RunConfig
    from flows.daily_rebalance import daily_rebalance, previous_business_day

    def name_of(state) -> str:
        with get_client(sync_client=True) as client:
            return client.read_flow_run(state.state_details.flow_run_id).name

    # No drop for either day (the run fails at once): the name is given before anything runs.
    given = daily_rebalance(as_of=AS_OF, drop_root=tmp_path / "drop", var_dir=tmp_path / "var", return_state=True)
    assert given.is_failed() and name_of(given) == "daily-2026-11-20"
    # A scheduled run gets no date: it is named after the business day it takes, in the firm's time zone.
    config = RunConfig(time_zone="Pacific/Kiritimati")
    days = {previous_business_day(config.time_zone)}
    scheduled = daily_rebalance(drop_root=tmp_path / "drop", var_dir=tmp_path / "var", config=config, return_state=True)
    days.add(previous_business_day(config.time_zone))  # the same day unless midnight passed in between
    assert scheduled.is_failed() and name_of(scheduled) in {f"daily-{d.isoformat()}" for d in days}
