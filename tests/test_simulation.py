"""The simulator on synthetic paths with known answers, its price file, its tax year, and the command."""

import datetime as dt
import re
from xml.etree import ElementTree

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from data_contracts.price_history import PriceFileError, read_price_history
from data_contracts.sample_prices import business_days, firm_groups, from_closes, generate_prices, sector_universe
from flows.cli import app
from tasks.simulation.book import open_book
from tasks.simulation.engine import SimOptions, rebalance_rows, simulate
from tasks.simulation.results import drawdown_windows, irr, model_drawdowns, portfolio_path, summary, yearly
from tasks.simulation.run import HouseholdSource, run_simulation
from tasks.simulation.setup import SetupError, choose_substitutes, from_firm, from_prices, with_price_model
from tests.conftest import AS_OF

DAYS = business_days(dt.date(2020, 1, 1), dt.date(2021, 6, 30))
WIGGLE = 1 + 0.001 * np.sin(np.arange(len(DAYS)))  # both tickers share it: their returns correlate fully


def run(closes: dict[str, np.ndarray], weights: dict[str, float], every: str = "day",
        strategies: tuple[str, ...] = ("lotwise", "naive"), **kw):
    prices = from_closes(DAYS, closes)
    start = DAYS[40].astype(dt.date)  # 40 business days of history before it, to choose substitutes
    setup = from_prices(prices, start, 1_000_000.0, weights=weights)
    sim = simulate(setup, prices, SimOptions(start, DAYS[-1].astype(dt.date), every=every, strategies=strategies, **kw))
    path = portfolio_path(sim)
    years = yearly(sim, path)
    return setup, sim, years, summary(sim, path, years)


def test_a_fall_and_recovery_is_harvested_once_and_the_substitute_swapped_back_after_31_days():
    # A (the whole model) and B (its substitute: identical returns, half the price) fall 30 % overnight
    # on day 70 (six weeks after A was bought on day 40: no longer inside its own wash-sale window), stay
    # flat 90 business days, then recover to where they were by day 250.
    level = np.ones(len(DAYS))
    level[70:] = 0.7
    level[160:250] = np.linspace(0.7, 1.0, 90)
    level[250:] = 1.0
    setup, sim, years, table = run({"A": 100 * level * WIGGLE, "B": 50 * level * WIGGLE}, {"A": 1.0})
    assert setup.substitutes.row(0)[:2] == ("A", "B") and setup.substitutes["correlation"][0] > 0.99
    trades = sim.path.filter(pl.col("strategy") == "lotwise").sort("date")
    lotwise = [s for s in sim.wash_sale_lines.iter_rows(named=True) if s["strategy"] == "lotwise"]
    assert lotwise == []
    # One harvest: the only day A is sold is the day of the fall, at a loss of 30 % of $1M.
    a_sales = trades.filter(pl.col("sold_usd") > 0)["date"].to_list()
    fall, back = DAYS[70].astype(dt.date), a_sales[-1]
    assert a_sales[0] == fall and len(a_sales) == 2  # the harvest, then the swap back from B
    # B is held from the fall until the first business day at least 31 days later, then sold.
    assert (back - fall).days >= 31 and (back - fall).days <= 34
    # The loss realized: $1M of A bought at 100 (× wiggle) sold at 70 (× wiggle): 30 % of $1M, about $300,000.
    harvested = years.filter(pl.col("strategy") == "lotwise")["losses_harvested_usd"].sum()
    assert harvested == pytest.approx(300_000, rel=0.01)
    # Naive holds A throughout (it is the whole model) and realizes nothing, so it pays more tax:
    # lotwise's loss is worth the $3,000 deduction each year at 37 % + 5 % (= $1,260 a year).
    taxes = dict(table.select("strategy", "taxes_usd").iter_rows())
    assert taxes["naive"] == 0.0 and taxes["lotwise"] < 0 and taxes["lotwise"] == pytest.approx(-1260 * 2, rel=1e-6)
    assert table.filter(pl.col("strategy") == "lotwise")["after_tax_excess_vs_naive_annualized"][0] > 0


def test_a_steadily_rising_market_has_no_harvests_only_deferral():
    # A grows 20 % a year, B 5 %: a 50/50 model drifts toward A. Naive sells A's gains every month; lotwise
    # trades drift against tax, so it harvests nothing (there is no loss) and realizes less.
    t = np.arange(len(DAYS)) / 252
    setup, sim, years, table = run({"A": 100 * np.exp(0.20 * t) * WIGGLE, "B": 100 * np.exp(0.05 * t) / WIGGLE},
                                   {"A": 0.5, "B": 0.5}, every="month")
    by = {r["strategy"]: r for r in table.iter_rows(named=True)}
    assert by["lotwise"]["losses_harvested_usd"] == 0.0 and by["lotwise"]["wash_sales"] == 0
    assert by["naive"]["taxes_usd"] > by["lotwise"]["taxes_usd"] >= 0
    assert by["lotwise"]["gains_deferred_usd"] > by["naive"]["gains_deferred_usd"]
    assert by["lotwise"]["after_tax_excess_vs_naive_annualized"] > 0


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_lotwise_never_creates_a_wash_sale_on_random_histories(seed):
    prices = generate_prices(sector_universe(12, seed, n_sectors=3), dt.date(2019, 1, 1), dt.date(2020, 12, 31), seed)
    setup = from_prices(prices, dt.date(2019, 6, 3), 500_000.0, weights={t: 1.0 for t in prices.tickers[:6]})
    sim = simulate(setup, prices, SimOptions(dt.date(2019, 6, 3), dt.date(2020, 12, 31), every="week",
                                             strategies=("lotwise",), flow_usd=-20_000.0, flow_every="quarter"))
    # Every disallowed loss is one the optimizer chose and stated (a partial wash sale), never more.
    lines = sim.wash_sale_lines
    assert (lines["disallowed_usd"] <= lines["stated_usd"] + 0.01).all()
    path = sim.path.sort("date")
    assert (path["value_usd"] > 0).all()


def test_taxes_are_settled_on_15_april_and_paid_from_cash():
    # 10 shares bought 2019-01-02 for $1,000, sold 2020-03-02 at $200: a $1,000 long-term gain. On
    # 15 April 2021 the tax is $1,000 × (20 % + 5 % state + 3.8 % NIIT) = $288, due from cash.
    household = dict(household_id="H", filing_status="single", federal_ordinary_rate=0.37, federal_ltcg_rate=0.20,
                     state_rate=0.05, niit_applies=True, st_loss_carryforward_usd=0.0, lt_loss_carryforward_usd=0.0)
    accounts = pl.DataFrame({"account_id": ["T"], "account_type": ["taxable_individual"]})
    lots = pl.DataFrame({"account_id": ["T"], "security_id": ["A"], "lot_id": ["L1"], "quantity_shares": [10.0],
                         "cost_basis_usd": [1000.0], "acquisition_date": [dt.date(2019, 1, 2)]})
    book = open_book(household, accounts, {"T": 0.0}, lots, {}, "T", "pay", dt.date(2020, 1, 2))
    book.execute(dt.date(2020, 3, 2), {"A": 200.0}, [("L1", 10.0)], [])
    assert book.ytd() == (0.0, pytest.approx(1000.0))
    book.roll_to(dt.date(2021, 1, 4))
    assert book.tax_due_usd == 0.0 and book.carry_usd() == (0.0, 0.0)
    book.roll_to(dt.date(2021, 4, 15))
    assert book.tax_due_usd == pytest.approx(288.0)
    assert book.years[2020].taxes_usd == pytest.approx(288.0) and book.years[2020].lt_gain_usd == pytest.approx(1000.0)


def test_irr_of_a_known_pair_of_flows():
    # −100 on 2020-01-01, +121 on 2022-01-01 (731 days = 2.0014 years): (121 / 100)^(1 / 2.0014) − 1 ≈ 9.99 %.
    years = 731 / 365.25
    assert irr([dt.date(2020, 1, 1), dt.date(2022, 1, 1)], np.array([-100.0, 121.0])) == pytest.approx(1.21 ** (1 / years) - 1)
    assert np.isnan(irr([dt.date(2020, 1, 1)], np.array([-100.0])))


def test_rebalance_days_are_the_first_trading_days_of_each_period():
    prices = from_closes(DAYS, {"A": np.ones(len(DAYS))})
    months = rebalance_rows(prices, dt.date(2020, 1, 1), dt.date(2020, 3, 31), "month")
    # 1 January 2020 is a Wednesday (a business day here: no exchange calendar), February starts on
    # Saturday the 1st, so its first trading day is Monday the 3rd; March starts on Sunday: Monday the 2nd.
    assert [d.astype(dt.date) for d in prices.dates[months]] == [dt.date(2020, 1, 1), dt.date(2020, 2, 3), dt.date(2020, 3, 2)]
    weeks = rebalance_rows(prices, dt.date(2020, 1, 1), dt.date(2020, 1, 31), "week")
    assert [d.astype(dt.date).isoformat() for d in prices.dates[weeks]] == [
        "2020-01-01", "2020-01-06", "2020-01-13", "2020-01-20", "2020-01-27"]


def test_a_price_file_carries_gaps_forward_and_names_bad_cells(tmp_path):
    good = tmp_path / "p.csv"
    good.write_text("Date,A,B\n2020-01-03,10,\n2020-01-02,9,20\n2020-01-06,,21\n")
    h = read_price_history(good)
    assert h.tickers == ("A", "B") and h.dates.astype(str).tolist() == ["2020-01-02", "2020-01-03", "2020-01-06"]
    # A on 01-06 takes 01-03's 10; B on 01-03 takes 01-02's 20. Both are reported with their line.
    assert h.close_usd.tolist() == [[9.0, 20.0], [10.0, 20.0], [10.0, 21.0]]
    assert sorted(h.carried.select("row", "field").iter_rows()) == [(2, "B"), (4, "A")]
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,A\n2020-01-02,9\n2020-13-01,x\n2020-01-02,-1\n")
    with pytest.raises(PriceFileError) as exc:
        read_price_history(bad)
    reasons = [(p["row"], p["field"]) for p in exc.value.problems]
    assert reasons == [(2, "Date"), (3, "A"), (3, "Date"), (4, "A"), (4, "Date")]
    assert "bad.csv row 4, A: close -1.0 is not positive" in str(exc.value)


def test_the_command_writes_the_results(tmp_path):
    prices = generate_prices(sector_universe(8, 3, n_sectors=2), dt.date(2019, 1, 1), dt.date(2020, 12, 31), 3)
    csv = prices.to_csv(tmp_path / "prices.csv")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["simulate", "--prices", str(csv), "--start", "2019-07-01", "--end", "2020-12-31",
                                      "--every", "month", "--weights", "S001=0.5,S002=0.3,S003=0.2",
                                      "--flow-usd", "10000", "--dividend-yield", "0.02", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out / "summary.csv")
    assert sorted(table["strategy"]) == ["buy-and-hold", "lotwise", "naive"]
    assert table.filter(pl.col("strategy") == "lotwise")["wash_sales"][0] == 0
    html = (out / "simulation.html").read_text()
    assert html.count("<svg") == 3 and "<script" not in html
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):  # each chart is well-formed XML with its lines or bars
        root = ElementTree.fromstring(svg)
        assert root.findall(".//{http://www.w3.org/2000/svg}polyline") or root.findall(".//{http://www.w3.org/2000/svg}rect")
    years = pl.read_csv(out / "yearly.csv")
    # Buy-and-hold sells only to pay its tax (on 2019's dividends, in April 2020): nothing in 2019.
    hold = years.filter(pl.col("strategy") == "buy-and-hold").sort("year")
    assert hold["turnover"][0] == 0 and 0 < hold["turnover"][1] < 0.01 and hold["taxes_usd"][0] > 0
    bad = CliRunner().invoke(app, ["simulate", "--prices", str(csv), "--start", "2019-07-01", "--end", "2020-12-31",
                                   "--weights", "NOPE=1", "--out", str(out)])
    assert bad.exit_code == 2 and "NOPE" in bad.output


def test_firm_households_start_from_their_lots_with_their_mandates(small_firm):
    # The sample firm's own households, models, accounts and mandates, from the lots they hold on
    # the firm's day, on a generated history of the firm's securities running seven months past it.
    securities = pl.read_csv(small_firm / "firm" / "securities.csv", infer_schema=False)
    prices = generate_prices(firm_groups(securities), AS_OF - dt.timedelta(days=60), dt.date(2027, 6, 30), 5)
    mandated = sorted({p.stem for p in (small_firm / "firm" / "mandates").glob("*.yaml")})[:2]
    ids = mandated + ["H0000001", "H0000002"]
    setup = from_firm(small_firm, AS_OF, prices, AS_OF, ids, "lots")
    held = setup.start_lots.height
    assert held > 0 and setup.mandates["household_id"].is_in(mandated).any()
    sim = simulate(setup, prices, SimOptions(AS_OF, dt.date(2027, 6, 30), every="month", strategies=("lotwise", "naive")))
    first = sim.path.filter(pl.col("date") == pl.col("date").min())
    # Day one's value is the lots at the first close plus the accounts' cash: nothing was bought to start.
    close = dict(zip(prices.tickers, prices.close_usd[prices.index_on_or_before(AS_OF)].tolist()))
    lots_value = sum(q * close[s] for s, q in setup.start_lots.select("security_id", "quantity_shares").iter_rows())
    assert first.filter(pl.col("strategy") == "lotwise")["value_before_usd"].sum() == pytest.approx(
        lots_value + sum(setup.start_cash_usd.values()))
    from tasks.simulation.engine import UNSTATED_WASH  # a partial wash sale it chose is stated, and allowed
    assert sim.wash_sale_lines.filter((pl.col("strategy") == "lotwise") & UNSTATED_WASH).height == 0
    # Lots acquired after the start cannot be started from; a price-file model replaces the firm's.
    with pytest.raises(SetupError, match="acquired after the start date"):
        from_firm(small_firm, AS_OF, prices, AS_OF - dt.timedelta(days=30), ids, "lots")
    cash_start = with_price_model(from_firm(small_firm, AS_OF, prices, AS_OF, ids, "cash"), prices, AS_OF,
                                  {"VTI": 0.6, "BND": 0.4}, 0.0)
    assert set(cash_start.models["security_id"]) == {"VTI", "BND", "CASH"} and cash_start.start_lots.height == 0


@pytest.mark.parametrize("minimum, sells, buys", [(400.0, [("L1", 5.0)], [("T", "B", 5.0)]), (600.0, [], [])])
def test_the_minimum_trade_binds_the_naive_strategy_too(minimum, sells, buys):
    # 10 shares of A at $100, model 50/50 A/B: naive sells 5 A ($500) and buys 5 B. A $400 minimum lets
    # both through; at $600 both are dropped (and no buy is left without the sale that paid for it).
    from optimizer.problem import SolveParams
    from tasks.simulation.strategies import decide
    from tests.conftest import household

    d = decide("naive", household(min_trade_usd=np.array([minimum])), SolveParams(shares="fractional"))
    assert [(i, pytest.approx(q)) for i, q in d.sells] == sells
    assert [(a, s, pytest.approx(q)) for a, s, q in d.buys] == buys


ALTERNATING = np.cumprod(1 + np.where(np.arange(len(DAYS)) % 2 == 0, 0.01, -0.01))  # daily returns +1 %, −1 %, …


def hold_in_lockstep(cash_weight: float):
    """Buy-and-hold, daily from row 100 to row 200, of a model of A and B (50/50 of the invested part), A = 2 × B
    moving ±1 % a day in turn; 100 returns of history behind the start."""
    prices = from_closes(DAYS, {"A": 100 * ALTERNATING, "B": 50 * ALTERNATING})
    start, end = DAYS[100].astype(dt.date), DAYS[200].astype(dt.date)
    setup = from_prices(prices, start, 1_000_000.0, weights={"A": 0.5, "B": 0.5}, cash_weight=cash_weight)
    sim = simulate(setup, prices, SimOptions(start, end, every="day", strategies=("buy-and-hold",)))
    path = portfolio_path(sim)
    return sim, summary(sim, path, yearly(sim, path))


def test_buy_and_hold_of_the_model_tracks_it_exactly_when_prices_move_in_lockstep():
    # A and B move by the same factor g_t every day (A = 2 × B), so any mix of them earns g_t − 1: buy-and-hold
    # at the model's 50/50 earns R_t = g_t − 1 and the model portfolio M_t = ½(g_t − 1) + ½(g_t − 1), the same.
    sim, table = hold_in_lockstep(cash_weight=0.0)
    assert sim.daily.height == 100  # one row per trading day after the first rebalance (rows 101 … 200)
    assert table["realized_tracking_error"][0] < 1e-12
    assert table["ex_ante_tracking_error_max"][0] < 1e-9  # holding the model's weights: d = 0


def test_a_half_cash_model_held_fully_invested_tracks_it_by_hand():
    # Model: A 25 %, B 25 %, cash 50 %. Buy-and-hold invests all its cash at A:B = 1:1, so its active dollars
    # are d = (0.25 V, 0.25 V). Daily: R_t = g_t − 1 = ±1 %, M_t = ½(g_t − 1) = ±0.5 %, so R_t − M_t = ±0.5 %
    # alternating over 100 days (mean 0): sample std 0.005 × √(100/99), × √252 = 0.079772 a year.
    sim, table = hold_in_lockstep(cash_weight=0.5)
    assert table["realized_tracking_error"][0] == pytest.approx(0.005 * np.sqrt(100 / 99) * np.sqrt(252), rel=1e-6)
    # Ex-ante on the first day, from the 100 returns before it (±1 %, mean 0): both securities' annual variance
    # 1e-4 × 252 = 0.0252, perfectly correlated (one factor), plus the specific floor 1e-4 each:
    # dᵀΣd / V² = 0.25² × (0.0253 + 2 × 0.0252 + 0.0253) = 0.0063125, TE = 7.945 %.
    first = sim.path.sort("date")["ex_ante_tracking_error"][0]
    assert first == pytest.approx(np.sqrt(0.0063125), rel=1e-6)


def test_the_risk_model_reaches_the_households_problems(monkeypatch):
    # The engine estimates a model from the trailing prices on each rebalance date and puts its frames on the
    # day it builds; from 60 daily returns on, build_problems gives each household its risk arrays.
    import tasks.simulation.engine as engine

    seen = []
    real = engine.build_problems

    def spy(day, ids, config):
        problems = real(day, ids, config)
        seen.append((day.as_of, day.risk_loadings is not None, problems[0].risk_loadings is not None))
        return problems

    monkeypatch.setattr(engine, "build_problems", spy)
    prices = generate_prices(sector_universe(6, 2, n_sectors=2), dt.date(2020, 1, 1), dt.date(2020, 12, 31), 2)
    start = prices.dates[40].astype(dt.date)  # 40 returns behind the first rebalance (26 Feb), 43 behind 2 March
    setup = from_prices(prices, start, 100_000.0)
    sim = simulate(setup, prices, SimOptions(start, dt.date(2020, 8, 31), every="month", strategies=("buy-and-hold",)))
    # April … August, then 31 August: --end, marked to market with no trade.
    assert [(has, filled) for _, has, filled in seen] == [(False, False)] * 2 + [(True, True)] * 6
    last = sim.path.sort("date").row(-1, named=True)
    assert last["date"] == dt.date(2020, 8, 31) and not last["rebalanced"] and last["sold_usd"] == last["bought_usd"] == 0
    assert any("no risk model on 2 rebalance date(s), 2020-02-26 to 2020-03-02" in n for n in sim.notes)
    assert sim.path["ex_ante_tracking_error"].null_count() == 2


def test_the_excess_over_buy_and_hold_splits_into_its_pre_tax_and_tax_parts():
    # A grows 20 % a year, B 5 %: monthly, all three strategies. Each strategy's after-tax excess over buy-and-hold
    # is its pre-tax part plus its tax part, exactly (to float rounding), per year and annualized.
    t = np.arange(len(DAYS)) / 252
    setup, sim, years, table = run({"A": 100 * np.exp(0.20 * t) * WIGGLE, "B": 100 * np.exp(0.05 * t) / WIGGLE},
                                   {"A": 0.5, "B": 0.5}, every="month", strategies=("lotwise", "naive", "buy-and-hold"))
    by = {r["strategy"]: r for r in table.iter_rows(named=True)}
    for r in by.values():
        assert r["excess_after_tax_annualized"] == pytest.approx(
            r["after_tax_return_annualized"] - by["buy-and-hold"]["after_tax_return_annualized"], abs=1e-15)
        assert r["excess_pre_tax_annualized"] + r["tax_alpha_annualized"] == pytest.approx(
            r["excess_after_tax_annualized"], abs=1e-15)
    assert by["buy-and-hold"]["excess_after_tax_annualized"] == by["buy-and-hold"]["tax_alpha_annualized"] == 0.0
    for r in years.iter_rows(named=True):
        assert r["excess_pre_tax"] + r["tax_alpha"] == pytest.approx(r["excess_after_tax"], abs=1e-15)
    # A year's after-tax return runs from the liquidation value at the last rebalance of the year before (the
    # starting $1M in the first year) to the year's last; there are no deposits or withdrawals here.
    hold = years.filter(pl.col("strategy") == "buy-and-hold").sort("year")
    assert hold["after_tax_return"][0] == pytest.approx(hold["end_liquidation_usd"][0] / 1_000_000.0 - 1, abs=1e-9)
    assert hold["after_tax_return"][1] == pytest.approx(hold["end_liquidation_usd"][1] / hold["end_liquidation_usd"][0] - 1,
                                                        abs=1e-9)


def _correlated_closes(seed: int) -> dict[str, np.ndarray]:
    """A and C nearly the same stock (correlation ≈ 0.99); B only loosely tied to A (≈ 0.3)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 0.01, (len(DAYS), 3))
    a = z[:, 0]
    return {"A": 100 * np.exp(np.cumsum(a)), "C": 80 * np.exp(np.cumsum(a + 0.15 * z[:, 1])),
            "B": 60 * np.exp(np.cumsum(0.3 * a + z[:, 2]))}


def test_a_substitute_below_the_correlation_floor_is_not_chosen_and_that_is_reported(tmp_path):
    prices = from_closes(DAYS, _correlated_closes(4))
    start = DAYS[260].astype(dt.date)
    log_returns = np.diff(np.log(prices.close_usd[260 - 252:261]), axis=0)  # the 252 days up to the start
    corr = np.corrcoef(log_returns, rowvar=False)  # columns A, C, B
    assert corr[0, 1] > 0.95 and 0.1 < corr[0, 2] < 0.5
    subs = choose_substitutes(prices, start, ["A", "C"])
    # C is A's best correlated ticker but is in the model itself: never a candidate. B, the only other, is
    # below 0.7: no substitute, and the reason names it with its correlation.
    a = subs.filter(pl.col("ticker") == "A").row(0, named=True)
    assert a["substitute"] is None and a["correlation"] is None
    assert a["reason"] == f"no substitute: the best candidate, B, correlates {corr[0, 2]:.3f}, below the floor 0.70"
    # With the floor at 0.1 both model tickers get B (reused: the only candidate), each with its true correlation.
    low = choose_substitutes(prices, start, ["A", "C"], min_correlation=0.1)
    assert low.select("ticker", "substitute").rows() == [("A", "B"), ("C", "B")]
    assert low["correlation"].to_list() == pytest.approx([corr[0, 2], corr[1, 2]], rel=1e-12)
    # The results say it too: substitutes.csv, the notes, the page.
    csv = prices.to_csv(tmp_path / "prices.csv")
    outcome = run_simulation(csv, HouseholdSource(weights={"A": 0.5, "C": 0.5}), SimOptions(
        start, DAYS[300].astype(dt.date), every="month", strategies=("buy-and-hold",)), tmp_path / "out")
    written = pl.read_csv(outcome.files["substitutes"])
    assert written.filter(pl.col("ticker") == "A")["substitute"][0] is None
    assert any(n.startswith("A: no substitute: the best candidate, B") for n in outcome.run.notes)
    assert "below the floor 0.70" in outcome.files["html"].read_text()
    assert outcome.setup.securities.filter(pl.col("security_id") == "A")["substitute_id"][0] is None


def test_a_solver_failure_withholds_the_household_that_day_and_is_noted(monkeypatch):
    # As the daily run withholds a household whose LP stops without an optimum, the simulation makes no trade for
    # it that day and says so; the other strategies and days go on.
    import tasks.simulation.strategies as strategies
    from optimizer.errors import SolverFailure

    def fails(p, params):
        raise SolverFailure(f"household {p.household_id}: solver stopped without an optimum (NOT_SOLVED)")

    monkeypatch.setattr(strategies, "solve_household", fails)
    setup, sim, years, table = run({"A": 100 * WIGGLE, "B": 50 * WIGGLE}, {"A": 1.0}, every="month")
    lotwise = sim.path.filter(pl.col("strategy") == "lotwise")
    assert lotwise["bought_usd"].sum() == 0 and lotwise["value_usd"].min() == pytest.approx(1_000_000.0)  # all cash
    # One note per rebalance; the last row, the end marked to market, asked the solver nothing.
    assert sum(": no trades: solver failure: household H0001" in n for n in sim.notes) == lotwise["rebalanced"].sum()
    assert lotwise["rebalanced"].sum() == lotwise.height - 1
    assert sim.path.filter(pl.col("strategy") == "naive")["bought_usd"].sum() > 0


def _household_book(outside_st_gain_usd: float):
    household = dict(household_id="H", filing_status="single", federal_ordinary_rate=0.37, federal_ltcg_rate=0.20,
                     state_rate=0.05, niit_applies=True, st_loss_carryforward_usd=0.0, lt_loss_carryforward_usd=0.0)
    accounts = pl.DataFrame({"account_id": ["T"], "account_type": ["taxable_individual"]})
    lots = pl.DataFrame({"account_id": ["T"], "security_id": ["A"], "lot_id": ["L1"], "quantity_shares": [100.0],
                         "cost_basis_usd": [10_000.0], "acquisition_date": [dt.date(2019, 12, 2)]})
    return open_book(household, accounts, {"T": 0.0}, lots, {}, "T", "pay", dt.date(2020, 1, 2),
                     outside_st_gain_usd=outside_st_gain_usd)


def test_gains_realized_elsewhere_let_a_harvested_loss_count_at_once_and_the_book_pays_only_what_it_adds():
    # $10,000 of short-term gains elsewhere in 2020; the book sells its 100 shares (bought 2019-12-02 for
    # $10,000) on 2020-03-02 at $60: a $4,000 short-term loss. The household's ST net is $6,000, taxed at
    # 37 % + 5 % + 3.8 % = 45.8 %: $2,748; the outside gains alone would cost $4,580, so the book is
    # charged $2,748 − $4,580 = −$1,832 (the loss × 45.8 %), a credit paid into its cash on 15 April 2021.
    book = _household_book(10_000.0)
    book.execute(dt.date(2020, 3, 2), {"A": 60.0}, [("L1", 100.0)], [])
    assert book.ytd() == (pytest.approx(6_000.0), 0.0)  # what the optimizer sees: the outside gains included
    book.roll_to(dt.date(2021, 4, 15))
    assert book.years[2020].taxes_usd == pytest.approx(-1_832.0)
    assert book.tax_due_usd == pytest.approx(-1_832.0)
    assert book.years[2020].st_gain_usd == pytest.approx(-4_000.0)  # the book's own lines only
    # A book that sells nothing is charged nothing for the outside gains (they are not its tax).
    idle = _household_book(10_000.0)
    idle.roll_to(dt.date(2021, 4, 15))
    assert idle.years[2020].taxes_usd == pytest.approx(0.0, abs=1e-9) and idle.tax_due_usd == pytest.approx(0.0, abs=1e-9)
    # Without the outside gains the same loss is a $3,000 deduction at 37 % + 5 % = $1,260, $1,000 carried.
    alone = _household_book(0.0)
    alone.execute(dt.date(2020, 3, 2), {"A": 60.0}, [("L1", 100.0)], [])
    alone.roll_to(dt.date(2021, 4, 15))
    assert alone.years[2020].taxes_usd == pytest.approx(-1_260.0) and alone.carry_usd() == (pytest.approx(1_000.0), 0.0)


def _model_path(returns: list[float | None]) -> pl.DataFrame:
    dates = [dt.date(2020, 1, 6) + dt.timedelta(weeks=k) for k in range(len(returns))]
    return pl.DataFrame({"strategy": ["buy-and-hold"] * len(returns), "date": dates, "model_return": returns},
                        schema={"strategy": pl.String, "date": pl.Date, "model_return": pl.Float64})


def test_drawdowns_of_the_model_run_from_each_peak_to_its_recovery():
    # The model's value: 1, 1.05, 0.924, 0.8778, 1.00947, 1.110417, 1.088209, 0.979388, 0.930419.
    # Week 1 (1.05) to week 3 (0.8778) is a 16.4 % fall (1 − 0.8778 / 1.05), confirmed by the 15 % rise
    # after it; back at 1.05 first in week 5 (week 4's 1.00947 is short of it). Week 5 (1.110417) to
    # week 8 (0.930419) is a 16.2 % fall, not recovered by the end. Week 6's −2 % is no drawdown.
    path = _model_path([None, 0.05, -0.12, -0.05, 0.15, 0.10, -0.02, -0.10, -0.05])
    week = path["date"].to_list()
    found = model_drawdowns(path)
    assert [(p, t, e, r) for p, t, e, _, r in found] == [(week[1], week[3], week[5], True),
                                                         (week[5], week[8], week[8], False)]
    assert [d for *_, d, _ in found] == [pytest.approx(1 - 0.8778 / 1.05), pytest.approx(1 - 0.930419 / 1.110417, abs=1e-6)]
    # A second fall before the first is made good is a drawdown of its own: 1, 0.8, 0.92, 0.782, 1.0166
    # (−20 % from week 0, +15 % from week 1, −15 % from week 2); both are back in week 4.
    path = _model_path([None, -0.20, 0.15, -0.15, 0.30])
    week = path["date"].to_list()
    assert [(p, t, e) for p, t, e, *_ in model_drawdowns(path)] == [(week[0], week[1], week[4]), (week[2], week[3], week[4])]
    # A fall short of 10 % is none.
    assert model_drawdowns(_model_path([None, -0.05, -0.04, 0.10])) == []


def test_a_harvested_loss_pays_over_its_drawdown_when_gains_elsewhere_can_use_it():
    # A (the whole model) and B (its substitute) fall 30 % on day 70, stay flat, and climb back from day 160
    # to day 450 (September 2021). Lotwise harvests the $300,000 loss; with $100,000 of short-term gains
    # elsewhere each year, 2020's and 2021's are offset at 45.8 % ($45,800 a year, plus the $3,000 deduction
    # at 42 % = $1,260), while the replacement's gain waits and turns long-term (28.8 %): over the window,
    # peak to recovery, lotwise's tax part is several percent of the $1M. Without gains elsewhere the loss
    # only waits as a carryforward ($3,000 a year against income) and the tax part is close to nothing.
    days = business_days(dt.date(2020, 1, 1), dt.date(2021, 12, 31))
    wiggle = 1 + 0.001 * np.sin(np.arange(len(days)))
    level = np.ones(len(days))
    level[70:] = 0.7
    level[160:450] = np.linspace(0.7, 1.0, 290)
    level[450:] = 1.0
    prices = from_closes(days, {"A": 100 * level * wiggle, "B": 50 * level * wiggle})
    start = days[40].astype(dt.date)
    setup = from_prices(prices, start, 1_000_000.0, weights={"A": 1.0})
    tax_part = {}
    for outside in (0.0, 100_000.0):
        sim = simulate(setup, prices, SimOptions(start, days[-1].astype(dt.date), every="week",
                                                 strategies=("lotwise", "buy-and-hold"), outside_st_gain_usd=outside))
        windows = drawdown_windows(portfolio_path(sim), sim.liquidation_rate)
        assert windows.height == 2 and windows["model_drawdown"][0] == pytest.approx(0.30, abs=0.01)
        lotwise = windows.filter(pl.col("strategy") == "lotwise").row(0, named=True)
        assert lotwise["recovered"] and lotwise["trough"] >= days[70].astype(dt.date)
        assert lotwise["excess_pre_tax"] + lotwise["tax_alpha"] == pytest.approx(lotwise["excess_after_tax"], abs=1e-15)
        assert lotwise["tax_on_pre_tax"] + lotwise["tax_management"] == pytest.approx(lotwise["tax_alpha"], abs=1e-15)
        tax_part[outside] = lotwise["tax_alpha"]
        assert sim.liquidation_rate == pytest.approx(0.20 + 0.05 + 0.038)  # from_prices' profile
    assert tax_part[100_000.0] > 0.02 and abs(tax_part[0.0]) < 0.005
