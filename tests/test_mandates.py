"""Personal mandates, first kinds: security restrictions and favoured holdings.

The file format and its errors (file, line, field), conflicts found before solving, one
hand-calculable case per rule, and a property test that no solution breaks a restriction.
"""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_contracts.mandate_checks import check_mandates
from data_contracts.mandates import MANDATE_SCHEMA, in_force, read_mandates
from optimizer.errors import HouseholdInfeasible
from optimizer.problem import SolveParams
from optimizer.solve import solve_household
from optimizer.verify import verify
from tasks.problems import with_mandates
from tests.conftest import AS_OF, household
from tests.test_properties import households as random_households

FRACTIONAL = SolveParams(shares="fractional")


def write(folder, name, text):
    (folder / "firm" / "mandates").mkdir(parents=True, exist_ok=True)
    (folder / "firm" / "mandates" / name).write_text(text)


def test_a_mandate_file_becomes_rows_with_their_lines(tmp_path):
    write(tmp_path, "H1.yaml", """household_id: H1
mandates:
  - kind: security_restriction
    security_id: XOM
    rule: never_buy
    effective_from: 2026-01-02
    reason: works at Exxon
  - kind: hold_at_least
    security_id: TSLA
    amount_usd: 25000
    account_id: A1
    effective_from: 2026-01-02
    effective_to: 2026-06-30
""")
    write(tmp_path, "H2.json", '{"household_id": "H2", "mandates": [{"kind": "security_restriction", '
                               '"security_id": "GE", "rule": "never_hold", "sell_by": "2027-06-30", "effective_from": "2026-07-01"}]}')
    rows, problems = read_mandates(tmp_path)
    assert problems == []
    assert rows["source"].to_list() == ["firm/mandates/H1.yaml:3", "firm/mandates/H1.yaml:8", "firm/mandates/H2.json:1"]
    assert rows["rule"].to_list() == ["never_buy", "hold_at_least", "never_hold"]
    assert rows["sell_by"][2] == dt.date(2027, 6, 30) and rows["amount_usd"][1] == 25000.0
    # On 2026-11-20 the hold-at-least ended on 30 June; the other two are in force.
    assert in_force(rows, AS_OF)["security_id"].to_list() == ["XOM", "GE"]


def test_a_bad_entry_is_named_by_file_line_and_field(tmp_path):
    write(tmp_path, "H1.yaml", """household_id: H1
mandates:
  - kind: security_restriction
    security_id: XOM
    rule: never_buyy
    effective_from: 2026-01-02
""")
    write(tmp_path, "H3.yaml", "household_id: H3\nmandates: [\n")  # not YAML at all
    rows, problems = read_mandates(tmp_path)
    assert rows.height == 0
    bad = next(p for p in problems if p["file"].endswith("H1.yaml"))
    assert (bad["household_id"], bad["row"], bad["field"]) == ("H1", 5, "rule")
    assert "never_buy" in bad["reason"]  # pydantic lists the allowed rules
    broken = next(p for p in problems if p["file"].endswith("H3.yaml"))
    # A file that cannot say whose it is holds the household it is named after.
    assert broken["household_id"] == "H3" and "unreadable mandate file" in broken["reason"]


@pytest.mark.parametrize("name, content, words", [
    ("H4.yaml", b"household_id: H4\nmandates:\n\t- kind: security_restriction\n", "unreadable mandate file"),  # a tab
    ("H4.yaml", bytes(range(256)), "unreadable mandate file"),  # binary
    ("H4.yaml", b"- household_id: H4\n", "a mapping with household_id and mandates, not a list"),
    ("H4.json", b"42", "not a int"),
    ("H4.yaml", b"household_id: H4\nmandates:\n  - kind: exclusion\n    name: deep\n    rule: "
                + b"(" * 400 + b"gambling" + b")" * 400 + b"\n    effective_from: 2026-01-02\n", "nested more than 50 deep"),
])
def test_any_failure_reading_a_mandate_file_holds_its_household_and_only_it(tmp_path, name, content, words):
    (tmp_path / "firm" / "mandates").mkdir(parents=True)
    (tmp_path / "firm" / "mandates" / name).write_bytes(content)
    write(tmp_path, "H1.yaml", "household_id: H1\nmandates:\n  - kind: security_restriction\n    security_id: XOM\n"
                               "    rule: never_buy\n    effective_from: 2026-01-02\n")
    rows, problems = read_mandates(tmp_path)
    assert rows["household_id"].to_list() == ["H1"]  # the healthy file is read whole
    assert [p["household_id"] for p in problems] == ["H4"] and words in problems[0]["reason"], problems
    assert problems[0]["file"] == f"firm/mandates/{name}" and problems[0]["severity"] == "error"


def test_a_file_named_for_one_household_that_says_another_holds_both(tmp_path):
    write(tmp_path, "H4.yaml", "household_id: H5\nmandates: []\n")
    rows, problems = read_mandates(tmp_path)
    assert rows.height == 0 and sorted(p["household_id"] for p in problems) == ["H4", "H5"]
    assert all((p["row"], p["field"]) == (1, "household_id") and "named for H4 but says household_id H5" in p["reason"]
               for p in problems)


def frames():
    households = pl.DataFrame({"household_id": ["H1"]})
    accounts = pl.DataFrame({"account_id": ["A1", "B9"], "household_id": ["H1", "H9"]})
    securities = pl.DataFrame({"security_id": ["XOM", "TSLA", "GE"], "asset_class": ["us_large_cap"] * 3,
                               "sector": ["energy", "consumer_discretionary", "industrials"],
                               "industry": ["oil_gas", "automobiles", "machinery"],
                               "tags": ["fossil_fuel", "esg_leader", None], "substitute_id": [None, None, None]},
                              schema_overrides={"substitute_id": pl.String})
    prices = pl.DataFrame({"security_id": ["XOM", "TSLA", "GE"], "close_usd": [100.0, 200.0, 10.0]})
    lots = pl.DataFrame({"household_id": ["H1"], "security_id": ["TSLA"], "quantity_shares": [10.0]})  # $2,000 of TSLA
    return households, accounts, securities, prices, lots


def mandate(rule, security="XOM", account=None, household="H1", **kw):
    return dict(household_id=household, account_id=account, security_id=security, rule=rule,
                effective_from=dt.date(2026, 1, 1), effective_to=None, sell_by=kw.get("sell_by"),
                amount_usd=kw.get("amount_usd"), source=f"firm/mandates/{household}.yaml:{kw.get('line', 3)}", reason=None)


@pytest.mark.parametrize("entries, field, words", [
    ([mandate("never_hold"), mandate("never_sell", line=9)], "rule", "never hold XOM conflicts with never_sell"),
    ([mandate("hold_at_least", "TSLA", amount_usd=5000), mandate("never_buy", "TSLA", line=9)], "amount_usd",
     "hold at least $5000.0 of TSLA but only $2000.0 is held"),  # $2,000 held < $5,000, and no buying
    ([mandate("hold_at_least", "GE", amount_usd=100), mandate("never_hold", "GE", line=9)], "rule",
     "hold at least GE conflicts with never hold"),
    ([mandate("never_buy", account="B9")], "account_id", "account B9 is not an account of household H1"),
    ([mandate("hold_at_least", "NOPE", amount_usd=100)], "security_id", "which has no price"),
])
def test_conflicts_are_found_before_solving_in_plain_words(entries, field, words):
    live, problems = check_mandates(pl.DataFrame(entries, schema=MANDATE_SCHEMA), AS_OF, *frames())
    errors = [p for p in problems if p["severity"] == "error"]
    assert len(errors) == 1 and errors[0]["field"] == field and words in errors[0]["reason"], problems
    assert errors[0]["household_id"] == "H1" and errors[0]["file"] == "firm/mandates/H1.yaml"


def test_a_mandate_of_an_unknown_household_is_a_firm_level_error_and_is_dropped():
    live, problems = check_mandates(pl.DataFrame([mandate("never_buy", household="H7")], schema=MANDATE_SCHEMA),
                                    AS_OF, *frames())
    assert live.height == 0
    assert problems[0]["household_id"] is None and "household H7 is not in the households file" in problems[0]["reason"]


def test_holding_at_least_what_is_already_held_with_no_buying_is_no_conflict():
    entries = [mandate("hold_at_least", "TSLA", amount_usd=1500), mandate("never_trade", "TSLA", line=9)]
    _, problems = check_mandates(pl.DataFrame(entries, schema=MANDATE_SCHEMA), AS_OF, *frames())
    assert problems == []  # $2,000 held ≥ $1,500


# --- the optimizer: one hand case per rule. The base household: $1,000 of A (10 sh at $100, basis
# $1,000), model 50 % A / 50 % B, no cash; unrestricted it sells $500 of A and buys $500 of B.

def restricted(rule, security="A", **kw):
    return with_mandates(household(**kw.pop("problem", {})), pl.DataFrame([mandate(rule, security, household="H1", **kw)],
                                                                         schema=MANDATE_SCHEMA))


def test_unrestricted_baseline():
    sol = solve_household(household(), FRACTIONAL)
    assert sol.lot_sold_usd.tolist() == pytest.approx([500.0]) and sol.buy_usd.tolist() == pytest.approx([500.0])


def test_never_buy():
    sol = solve_household(restricted("never_buy", "B"), FRACTIONAL)
    assert sol.buy_usd.sum() == 0  # B may not be bought, so selling A would only raise idle cash
    assert verify(sol) == []


def test_never_sell_and_never_trade():
    for rule in ("never_sell", "never_trade"):
        sol = solve_household(restricted(rule, "A"), FRACTIONAL)
        assert sol.lot_sold_usd.tolist() == [0.0] and sol.buy_usd.sum() == 0  # no cash to buy B without selling A
        assert verify(sol) == []


def test_never_hold_now_sells_everything():
    sol = solve_household(restricted("never_hold", "A"), FRACTIONAL)
    # Sell all $1,000 of A; the model's other half, B, takes it all.
    assert sol.lot_sold_usd.tolist() == pytest.approx([1000.0]) and sol.buy_usd.sum() == pytest.approx(1000.0)
    assert verify(sol) == []


def test_never_hold_with_a_horizon_sells_in_a_straight_line():
    # Model 100 % A (so drift alone would sell nothing); sell_by in 3 days: cap = $1,000 × 3/4 = $750.
    p = restricted("never_hold", "A", sell_by=AS_OF + dt.timedelta(days=3),
                   problem=dict(target_weight=np.array([1.0, 0.0])))
    assert p.max_holding_usd[0, 0] == pytest.approx(750.0)
    sol = solve_household(p, FRACTIONAL)
    assert sol.lot_sold_usd.tolist() == pytest.approx([250.0])  # exactly the straight line, no more
    assert verify(sol) == []


def test_hold_at_least_buys_a_favoured_security_outside_the_model():
    # C ($50) is in no model; the household must hold $200 of it: the LP buys exactly that.
    p = household(security_ids=np.array(["A", "B", "C"]), price_usd=np.array([100.0, 100.0, 50.0]),
                  security_class=np.array([0, 0, 0]), identical_group=np.array([0, 1, 2]),
                  target_weight=np.array([0.5, 0.5, 0.0]), buy_blocked=np.array([False, False, False]))
    p = with_mandates(p, pl.DataFrame([mandate("hold_at_least", "C", household="H1", amount_usd=200.0)],
                                      schema=MANDATE_SCHEMA))
    sol = solve_household(p, FRACTIONAL)
    bought_c = sol.buy_usd[sol.buy_security == 2].sum()
    assert bought_c == pytest.approx(200.0)
    assert verify(sol) == []


@st.composite
def restricted_households(draw):
    p = draw(random_households())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rules = []
    for s in p.security_ids:
        if rng.random() < 0.5:
            rules.append(mandate(str(rng.choice(["never_buy", "never_sell", "never_trade", "never_hold"])), str(s),
                                 account=str(rng.choice(p.account_ids)) if rng.random() < 0.3 else None, household="H",
                                 sell_by=AS_OF + dt.timedelta(days=int(rng.integers(0, 60))) if rng.random() < 0.5 else None))
    frame = pl.DataFrame(rules, schema=MANDATE_SCHEMA)
    # What check_mandates would refuse before solving: never hold and never sell of one security.
    hold = set(frame.filter(pl.col("rule") == "never_hold")["security_id"])
    frame = frame.filter(~(pl.col("security_id").is_in(list(hold)) & pl.col("rule").is_in(["never_sell", "never_trade"])))
    return with_mandates(p, frame)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=restricted_households(), shares=st.sampled_from(["fractional", "round"]))
def test_restricted_securities_are_never_bought_nor_sold(p, shares):
    try:
        sol = solve_household(p, SolveParams(shares=shares))
    except HouseholdInfeasible:
        return  # e.g. a never-hold lot inside a wash-sale window, or cash that cannot reach its minimum
    if p.buy_forbidden is not None:
        assert not p.buy_forbidden[sol.buy_account, sol.buy_security].any()
    if p.sell_forbidden is not None:
        sold = sol.lot_sold_shares > 0
        assert not (sold & p.sell_forbidden[p.lot_account, p.lot_security]).any()
    assert verify(sol) == []


def test_the_daily_run_enforces_mandates_and_holds_a_household_with_a_broken_file(small_firm, tmp_path, prefect_local):
    from flows.daily_rebalance import daily_rebalance
    from tests.helpers import copy_firm

    firm = copy_firm(small_firm, tmp_path / "input")
    households = pl.read_csv(firm / "firm" / "households.csv")
    models = pl.read_csv(firm / "firm" / "models.csv")
    lots = pl.concat([pl.read_csv(p, infer_schema=False) for p in firm.glob("custodians/*/lots.csv")], how="diagonal")
    accounts = pl.concat([pl.read_csv(p, infer_schema=False) for p in firm.glob("custodians/*/accounts.csv")])
    no_buys, no_sells, broken = "H0000001", "H0000003", "H0000002"
    model = households.filter(pl.col("household_id") == no_buys)["model_id"][0]
    in_model = set(models.filter(pl.col("model_id") == model)["security_id"]) - {"CASH"}
    securities = pl.read_csv(firm / "firm" / "securities.csv")
    substitutes = set(securities.filter(pl.col("security_id").is_in(list(in_model)))["substitute_id"].drop_nulls())
    buy_list = sorted(in_model | substitutes)  # everything the household could buy
    mine = accounts.filter(pl.col("household_id") == no_sells)["account_id"]
    sell_list = sorted(set(lots.filter(pl.col("account_id").is_in(mine.implode()))["security_id"]))
    entry = "  - {{kind: security_restriction, security_id: {}, rule: {}, effective_from: 2026-01-02}}\n"
    write(firm, f"{no_buys}.yaml", f"household_id: {no_buys}\nmandates:\n" + "".join(entry.format(s, "never_buy") for s in buy_list))
    write(firm, f"{no_sells}.yaml", f"household_id: {no_sells}\nmandates:\n" + "".join(entry.format(s, "never_sell") for s in sell_list))
    write(firm, f"{broken}.yaml", f"household_id: {broken}\nmandates:\n  - kind: security_restriction\n"
                                 f"    security_id: XOM\n    rule: never_buy\n    effective_from: yesterday\n")

    s = daily_rebalance(input_dir=firm, as_of=AS_OF, var_dir=tmp_path / "var")
    out = tmp_path / "var" / "runs" / AS_OF.isoformat() / s["run_id"]
    trades = pl.read_csv(out / "trades.csv")
    assert trades.filter((pl.col("household_id") == no_buys) & (pl.col("side") == "buy")).height == 0
    assert trades.filter((pl.col("household_id") == no_sells) & (pl.col("side") == "sell")).height == 0
    assert trades.filter(pl.col("household_id") == broken).height == 0  # held: its restrictions are unknown
    exc = pl.read_csv(out / "exceptions.csv").filter(pl.col("household_id") == broken)
    assert exc.select("file", "row", "field").row(0) == (f"firm/mandates/{broken}.yaml", 6, "effective_from")
    checks = pl.read_csv(out / "pre_trade_checks.csv").filter(pl.col("check") == "restricted_securities")
    assert checks.height > 0 and (checks["status"] == "pass").all()
    assert s["households_quarantined"] == 1 and s["households_infeasible"] == 0
    staged = pl.read_parquet(tmp_path / "var" / "warehouse" / "parquet" / "stg_mandates" / f"as_of_date={AS_OF}"
                             / f"run_id={s['run_id']}" / "part-0.parquet")
    mine = staged.filter(pl.col("household_id").is_in([no_buys, no_sells]))
    assert mine.height == len(buy_list) + len(sell_list)


# --- screens and caps

def test_tag_rules_parse_and_match():
    from data_contracts.tag_rules import TagRule

    rule = TagRule("fossil_fuel or (tobacco and not esg_leader)")
    assert rule.matches({"fossil_fuel"}) and rule.matches({"tobacco"})
    assert not rule.matches({"tobacco", "esg_leader"}) and not rule.matches(set())
    for bad in ("tobacco and (weapons", "and tobacco", "tobacco or", "tobacco ; weapons"):
        with pytest.raises(ValueError):
            TagRule(bad)
    # Thousands of terms parse and match in loops; nesting past 50 is refused with the reason, never a
    # RecursionError (400 parentheses deep, or 400 nots).
    long = TagRule(" or ".join(f"t{i}" for i in range(5000)))
    assert long.matches({"t4999"}) and not long.matches({"x"})
    assert TagRule(" and ".join(f"t{i}" for i in range(5000))).matches({f"t{i}" for i in range(5000)})
    assert TagRule("(" * 50 + "a" + ")" * 50).matches({"a"})
    for deep in ("(" * 400 + "a" + ")" * 400, "not " * 400 + "a"):
        with pytest.raises(ValueError, match="nested more than 50 deep"):
            TagRule(deep)


def test_a_screen_in_a_file_becomes_rows_and_a_bad_rule_is_located(tmp_path):
    write(tmp_path, "H1.yaml", """household_id: H1
mandates:
  - kind: exclusion
    name: faith screen
    sectors: [energy]
    tags: [tobacco, weapons]
    rule: gambling and not esg_leader
    effective_from: 2026-01-02
  - kind: sector_cap
    industry: semiconductors
    max_weight: 0.05
    effective_from: 2026-01-02
""")
    write(tmp_path, "H2.yaml", "household_id: H2\nmandates:\n  - kind: exclusion\n    rule: gambling and (\n"
                               "    effective_from: 2026-01-02\n")
    rows, problems = read_mandates(tmp_path)
    assert rows.select("rule", "sector", "industry", "tag_rule", "max_weight").rows() == [
        ("exclusion", "energy", None, None, None),
        ("exclusion", None, None, "tobacco or weapons or (gambling and not esg_leader)", None),
        ("sector_cap", None, "semiconductors", None, 0.05)]
    assert rows["reason"][0] == "faith screen" and rows["source"][0] == "firm/mandates/H1.yaml:3"
    assert [(p["household_id"], p["row"]) for p in problems] == [("H2", 3)]  # the entry's line
    assert "ends too early" in problems[0]["reason"]


def test_screens_become_never_hold_rows_per_matching_security():
    from data_contracts.mandate_rules import screened

    securities = frames()[2]
    entries = pl.DataFrame([mandate("exclusion", None) | dict(sector="energy"),
                            mandate("exclusion", None) | dict(tag_rule="esg_leader and not fossil_fuel"),
                            mandate("never_buy", "GE")], schema=MANDATE_SCHEMA)
    out = screened(entries, securities).sort("security_id")
    assert out.select("security_id", "rule").rows() == [("GE", "never_buy"), ("TSLA", "never_hold"), ("XOM", "never_hold")]


def test_a_screen_that_empties_an_asset_class_of_the_model_is_a_conflict():
    households, accounts, securities, prices, lots = frames()
    households = households.with_columns(pl.lit("M").alias("model_id"))
    models = pl.DataFrame({"model_id": ["M", "M"], "security_id": ["XOM", "TSLA"], "target_weight": [0.5, 0.5]})
    screen = pl.DataFrame([mandate("exclusion", None) | dict(tag_rule="fossil_fuel or esg_leader")], schema=MANDATE_SCHEMA)
    _, problems = check_mandates(screen, AS_OF, households, accounts, securities, prices, lots, models)
    assert [p["reason"] for p in problems if p["severity"] == "error"] == [
        "firm/mandates/H1.yaml:3: the mandates leave no security of asset class us_large_cap in model M, "
        "nor a substitute for one"]
    # A substitute that is not screened fills the place: no conflict.
    with_sub = securities.with_columns(pl.when(pl.col("security_id") == "XOM").then(pl.lit("GE"))
                                       .otherwise(pl.col("substitute_id")).alias("substitute_id"))
    assert check_mandates(screen, AS_OF, households, accounts, with_sub, prices, lots, models)[1] == []
    only_xom = pl.DataFrame([mandate("exclusion", None) | dict(sector="energy")], schema=MANDATE_SCHEMA)
    assert check_mandates(only_xom, AS_OF, households, accounts, securities, prices, lots, models)[1] == []


def test_screened_weight_goes_to_the_other_securities_of_its_class():
    from data_contracts.mandate_rules import redistribute

    # A 0.3 and B 0.2 are equity, C 0.5 bonds; A screened: B gets all of A's 0.3 (its class's only peer).
    out = redistribute({"A": 0.3, "B": 0.2, "C": 0.5}, {"A"}, {"A": "eq", "B": "eq", "C": "bd"})
    assert out == pytest.approx({"A": 0.0, "B": 0.5, "C": 0.5})
    # With two peers, pro rata: B 0.2 and D 0.1 share A's 0.3 as 2:1 → B 0.4, D 0.2.
    out = redistribute({"A": 0.3, "B": 0.2, "D": 0.1, "C": 0.4}, {"A"}, {"A": "eq", "B": "eq", "D": "eq", "C": "bd"})
    assert out == pytest.approx({"A": 0.0, "B": 0.4, "D": 0.2, "C": 0.4})


def test_a_sector_cap_sells_down_to_it():
    # $1,000 of A (sector energy), model 50 % A / 50 % B: unrestricted it keeps $500 of A. Capped at
    # 20 % of $1,000, A may keep only $200: it sells $800 and buys $800 of B (cash target 0).
    cap = pl.DataFrame([mandate("sector_cap", None) | dict(sector="energy", max_weight=0.2)], schema=MANDATE_SCHEMA)
    p = with_mandates(household(), cap, {"A": "energy", "B": "utilities"}, {})
    assert p.group_cap_usd.tolist() == [200.0]
    sol = solve_household(p, FRACTIONAL)
    assert sol.lot_sold_usd.tolist() == pytest.approx([800.0]) and sol.buy_usd.sum() == pytest.approx(800.0)
    assert verify(sol) == []


# --- custom allocations, glide paths, cash rules

CLASS_OF = {"A": "eq", "B": "us_reits", "C": "bd"}


def test_real_estate_to_zero_rescales_the_other_classes():
    from data_contracts.mandate_rules import allocate

    # Model A 60 % equity, B 10 % real estate, C 29 % bonds, cash 1 %. Real estate to zero: the other
    # 90 % is scaled by 1/0.9 → A 66.67 %, C 32.22 %, cash 1.11 %.
    target, cash, problems = allocate({"A": 0.6, "B": 0.1, "C": 0.29}, 0.01, {"us_reits": 0.0}, CLASS_OF)
    assert problems == []
    assert target == pytest.approx({"A": 0.6 / 0.9, "B": 0.0, "C": 0.29 / 0.9}) and cash == pytest.approx(0.01 / 0.9)
    # Double real estate to 20 %: the rest shares 80 % in its proportions (× 0.8/0.9).
    target, cash, _ = allocate({"A": 0.6, "B": 0.1, "C": 0.29}, 0.01, {"us_reits": 0.2}, CLASS_OF)
    assert target == pytest.approx({"A": 0.6 * 0.8 / 0.9, "B": 0.2, "C": 0.29 * 0.8 / 0.9})
    assert sum(target.values()) + cash == pytest.approx(1.0)


def test_a_class_the_model_does_not_hold_cannot_be_raised():
    from data_contracts.mandate_rules import allocate

    target, cash, problems = allocate({"A": 0.99}, 0.01, {"commodities": 0.05}, CLASS_OF)
    assert problems == ["the model holds no commodities to give it 5.0%"] and target == {"A": 0.99}
    # Cash needs no security: 5 % cash from a 1 % model scales A to 95 %.
    target, cash, problems = allocate({"A": 0.99}, 0.01, {"cash": 0.05}, CLASS_OF)
    assert problems == [] and cash == 0.05 and target["A"] == pytest.approx(0.95)


@pytest.mark.parametrize("step, day, equity", [
    ("annual", dt.date(2026, 11, 20), 0.8),  # no whole year since 1 Jan 2026: the start weights
    ("annual", dt.date(2028, 6, 30), 0.6),  # 2 of 4 years: half way, 0.8 + 0.5 × (0.4 − 0.8)
    ("annual", dt.date(2031, 1, 1), 0.4),  # after the end: the end weights
    ("quarterly", dt.date(2026, 11, 20), 0.8 - 3 / 16 * 0.4),  # 3 whole quarters of 16
])
def test_glide_path_steps(step, day, equity):
    from data_contracts.mandates import GlidePath

    g = GlidePath(kind="glide_path", effective_from=dt.date(2026, 1, 1), start=dt.date(2026, 1, 1),
                  end=dt.date(2030, 1, 1), step=step, start_weights={"eq": 0.8, "bd": 0.2}, end_weights={"eq": 0.4, "bd": 0.6})
    w = g.weights_on(day)
    assert w["eq"] == pytest.approx(equity) and w["eq"] + w["bd"] == pytest.approx(1.0)


def cash_rule(account="T", **spec):
    from data_contracts.mandates import CashRules

    entry = CashRules(kind="cash_rules", account_id=account, effective_from=dt.date(2026, 1, 1), **spec)
    return mandate("cash_rules", None, account=account) | dict(spec=entry.model_dump_json())


def test_withdrawals_are_set_aside_within_their_window():
    from data_contracts.mandates import CashRules

    r = CashRules(kind="cash_rules", account_id="T", effective_from=dt.date(2026, 1, 1), set_aside_days=30,
                  scheduled_withdrawals=[{"date": "2026-12-01", "amount_usd": 5000}, {"date": "2027-03-01", "amount_usd": 9000}])
    assert r.set_aside_usd(AS_OF) == 5000  # 1 Dec is 11 days away; 1 Mar is beyond 30 days


def test_cash_rules_keep_a_reserve_and_the_set_aside_withdrawal():
    # $1,000 of A, no cash, model 50/50: a reserve of $100 plus $300 due on 1 Dec → at least $400 cash.
    rules = pl.DataFrame([cash_rule(min_usd=100, scheduled_withdrawals=[{"date": "2026-12-01", "amount_usd": 300}])],
                         schema=MANDATE_SCHEMA)
    p = with_mandates(household(), rules)
    assert p.cash_floor_usd.tolist() == [400.0]
    sol = solve_household(p, FRACTIONAL)
    assert sol.cash_after_usd[0] == pytest.approx(400.0)  # the cash target is 0: no more than the floor
    assert verify(sol) == []


def test_a_cash_maximum_invests_the_excess():
    # $2,000 cash and nothing else, model 50/50 A/B, but trading cost 1 %: at most $500 may stay in cash.
    p = with_mandates(household(cash_usd=np.array([2000.0]), lot_ids=np.array([], dtype=str),
                                lot_account=np.array([], dtype=int), lot_security=np.array([], dtype=int),
                                lot_quantity_shares=np.array([]), lot_basis_usd=np.array([]),
                                lot_acquired=np.array([], dtype="datetime64[D]"), lot_loss_sale_blocked=np.array([], dtype=bool)),
                      pl.DataFrame([cash_rule(max_usd=500)], schema=MANDATE_SCHEMA))
    sol = solve_household(p, SolveParams(shares="fractional", class_drift_penalty=0.0, security_drift_penalty=0.0,
                                         trading_cost_rate=0.01))
    assert sol.cash_after_usd[0] == pytest.approx(500.0)  # trading costs alone would keep it all in cash
    assert verify(sol) == []


def test_cash_and_allocation_conflicts_are_reported_before_solving():
    households, accounts, securities, prices, lots = frames()
    households = households.with_columns(pl.lit("M").alias("model_id"))
    accounts = pl.DataFrame({"account_id": ["A1"], "household_id": ["H1"]})
    lots = lots.with_columns(pl.lit("A1").alias("account_id"))  # $2,000 of TSLA in A1
    cash = pl.DataFrame({"account_id": ["A1"], "cash_usd": [500.0]})  # worth $2,500 in all
    models = pl.DataFrame({"model_id": ["M"], "security_id": ["TSLA"], "target_weight": [1.0]})
    entries = pl.DataFrame([
        cash_rule("A1", min_usd=3000),  # more than $2,500: a warning (it will be relaxed)
        cash_rule("A1", scheduled_withdrawals=[{"date": "2026-11-30", "amount_usd": 4000}]),  # cannot be paid: error
        mandate("asset_allocation", None, line=20) | dict(spec='{"kind": "asset_allocation", "weights": {"commodities": 0.1}, '
                                                              '"effective_from": "2026-01-01"}'),
    ], schema=MANDATE_SCHEMA)
    _, problems = check_mandates(entries, AS_OF, households, accounts, securities, prices, lots, models, cash)
    words = sorted((p["severity"], p["reason"].split(": ", 1)[1]) for p in problems)
    assert words == [
        ("error", "the model holds no commodities to give it 10.0%"),
        ("error", "withdrawals of $4,000.00 due within 30 days are more than account A1 holds ($2,500.00)"),
        ("warning", "cash minimum $3,000.00 is more than account A1 holds ($2,500.00): it will be relaxed, and reported"),
    ]


def test_allocation_glide_path_and_cash_entries_are_read_and_checked(tmp_path):
    write(tmp_path, "H1.yaml", """household_id: H1
mandates:
  - kind: glide_path
    start: 2026-01-01
    end: 2036-01-01
    start_weights: {us_large_cap: 0.7, us_aggregate_bonds: 0.3}
    end_weights: {us_large_cap: 0.3, us_aggregate_bonds: 0.7}
    effective_from: 2026-01-01
  - kind: cash_rules
    account_id: A1
    min_usd: 2500
    scheduled_withdrawals: [{date: 2026-12-15, amount_usd: 10000}]
    effective_from: 2026-01-01
  - kind: asset_allocation
    weights: {us_reits: 0.7, cash: 0.5}
    effective_from: 2026-01-01
""")
    rows, problems = read_mandates(tmp_path)
    assert rows.height == 0  # one bad entry rejects the file: the household is held, not half-mandated
    assert [(p["row"], p["field"]) for p in problems] == [(15, "weights")]  # the third entry's weights
    assert "add up to 1.2, more than 1" in problems[0]["reason"]
    write(tmp_path, "H1.yaml", (tmp_path / "firm/mandates/H1.yaml").read_text().replace("cash: 0.5", "cash: 0.05"))
    rows, problems = read_mandates(tmp_path)
    assert problems == [] and rows["rule"].to_list() == ["glide_path", "cash_rules", "asset_allocation"]
    from data_contracts.mandate_rules import class_weights

    # In file order: the glide path's weights on 20 Nov 2026 (no whole year yet: the start), then the allocation.
    assert class_weights(rows, AS_OF) == [{"us_aggregate_bonds": 0.3, "us_large_cap": 0.7}, {"us_reits": 0.7, "cash": 0.05}]


# --- transitions

def transition_rows(**spec):
    from data_contracts.mandates import Transition

    t = Transition(kind="transition", effective_from=dt.date(2026, 1, 1), **spec)
    return pl.DataFrame([mandate("transition", None) | dict(spec=t.model_dump_json())], schema=MANDATE_SCHEMA)


def test_a_turnover_budget_caps_what_is_sold():
    # $1,000 of A, model 50/50: free, it sells $500. A 20 % turnover budget: $200 of $1,000.
    p = with_mandates(household(), transition_rows(turnover_budget=0.2))
    assert p.turnover_budget_usd == pytest.approx(200.0) and p.drift_first
    sol = solve_household(p, FRACTIONAL)
    assert sol.lot_sold_usd.tolist() == pytest.approx([200.0]) and sol.buy_usd.sum() == pytest.approx(200.0)
    assert verify(sol) == []


def test_what_the_period_already_sold_and_realized_counts():
    # This quarter (from 1 Oct) the household sold $150 of something with a $100 gain in its taxable
    # account T: turnover left 200 − 150 = $50; tax left 100 − 100 × 40 % (short-term rate) = $60.
    txns = pl.DataFrame({"household_id": ["H1", "H1"], "account_id": ["T", "T"], "transaction_type": ["sell", "sell"],
                         "trade_date": [dt.date(2026, 10, 5), dt.date(2026, 9, 30)], "amount_usd": [150.0, 999.0],
                         "cost_basis_usd": [50.0, 0.0]})  # the 30 Sep sale is last quarter's
    p = with_mandates(household(), transition_rows(turnover_budget=0.2, tax_budget_usd=100.0), transactions=txns)
    assert p.turnover_budget_usd == pytest.approx(50.0) and p.tax_budget_usd == pytest.approx(60.0)


def test_an_equivalent_is_not_sold_to_buy_its_primary():
    # The household holds $1,000 of A (at its basis: no tax to sell); its model is 100 % B. Free, it
    # swaps A for B; with A in B's equivalence set, A counts as B and nothing is traded.
    base = dict(target_weight=np.array([0.0, 1.0]))
    assert solve_household(household(**base), FRACTIONAL).lot_sold_usd.sum() > 0
    p = with_mandates(household(**base), transition_rows(equivalents={"B": ["A"]}))
    sol = solve_household(p, FRACTIONAL)
    assert sol.lot_sold_usd.tolist() == [0.0] and sol.buy_usd.sum() == 0
    assert verify(sol) == []


def test_a_concentrated_portfolio_transitions_over_quarters_within_its_tax_budget():
    """$1,000,000 of one stock X (10 lots, basis 20 % to 65 % of value, bought 2015–2024) in a taxable
    account; the model is 10 ETFs of 10 %. A quarterly transition with a $20,000 tax budget. Each
    quarter: solve, sell the lots, buy the ETFs, advance 91 days at constant prices."""
    from optimizer.problem import HouseholdProblem

    n_etf = 10
    ids = np.array(["X"] + [f"E{i}" for i in range(n_etf)])
    price = np.full(n_etf + 1, 100.0)
    lots = [(f"L{i}", 0, 1000.0, 100.0 * 1000 * (0.2 + 0.05 * i), np.datetime64("2015-01-02") + 365 * i) for i in range(10)]
    as_of = dt.date(2026, 1, 2)
    budget = 20_000.0
    drift_seen = []
    for quarter in range(6):
        p = HouseholdProblem(
            household_id="H1", as_of=as_of, account_ids=np.array(["T"]), account_taxable=np.array([True]),
            cash_usd=np.array([0.0]), min_cash_usd=np.array([0.0]), security_ids=ids, price_usd=price,
            security_class=np.zeros(n_etf + 1, dtype=int), identical_group=np.arange(n_etf + 1),
            target_weight=np.array([0.0] + [1 / n_etf] * n_etf), buy_blocked=np.zeros(n_etf + 1, dtype=bool),
            class_names=("equity", "cash"), class_target_weight=np.array([1.0, 0.0]),
            lot_ids=np.array([l[0] for l in lots]), lot_account=np.array([l[1] for l in lots]),
            lot_security=np.array([ids.tolist().index(s) for s in [l[0].split(":")[0] if ":" in l[0] else "X" for l in lots]]),
            lot_quantity_shares=np.array([l[2] for l in lots]), lot_basis_usd=np.array([l[3] for l in lots]),
            lot_acquired=np.array([l[4] for l in lots], dtype="datetime64[D]"),
            lot_loss_sale_blocked=np.zeros(len(lots), dtype=bool), short_term_rate=0.40, long_term_rate=0.238)
        p = with_mandates(p, transition_rows(period="quarterly", tax_budget_usd=budget))
        sol = solve_household(p, FRACTIONAL)
        assert verify(sol) == []
        # The quarter's tax, recomputed from the sales: Σ τ × (proceeds − pro-rata basis).
        gain = sol.realized_gain_usd
        tax = float((p.lot_tax_rate * gain).sum())
        assert tax <= budget + 0.01, f"quarter {quarter}: tax ${tax:,.2f} over the ${budget:,.0f} budget"
        drift_seen.append(_security_drift(sol))
        # Apply the trades: lots shrink, buys become lots bought today; then a quarter passes.
        sold = sol.lot_sold_shares
        lots = [(lid, a, q - s, b * (q - s) / q, d) for (lid, a, q, b, d), s in zip(lots, sold) if q - s > 1e-9]
        lots += [(f"{ids[s]}:{quarter}:{k}", 0, q, q * price[s], np.datetime64(as_of))
                 for k, (s, q) in enumerate(zip(sol.buy_security, sol.buy_shares)) if q > 0]
        as_of += dt.timedelta(days=91)
    # Drift falls every quarter until the budget no longer binds.
    assert all(later < earlier for earlier, later in zip(drift_seen, drift_seen[1:])), drift_seen
    assert drift_seen[0] < 0.9 and drift_seen[-1] < drift_seen[0] / 2


def _security_drift(sol) -> float:
    from optimizer.result import drift

    return drift(sol.problem, sol.holdings_after_usd, sol.cash_after_usd)[1]


def test_no_bonds_in_the_taxable_account():
    from data_contracts.mandate_rules import located
    from data_contracts.mandates import Location

    # T (taxable): $1,000 of A and $1,000 cash; I (IRA): $1,000 of A. Model 50 % A (equity) / 50 % B
    # (bonds): $1,500 each. Free, T's cash buys B. With no bonds in taxable accounts, B is bought only
    # in I, with the proceeds of A sold there.
    p = household(account_ids=np.array(["T", "I"]), account_taxable=np.array([True, False]),
                  cash_usd=np.array([1000.0, 0.0]), min_cash_usd=np.array([0.0, 0.0]),
                  class_names=("equity", "bonds", "cash"), security_class=np.array([0, 1]),
                  class_target_weight=np.array([0.5, 0.5, 0.0]),
                  lot_ids=np.array(["L1", "L2"]), lot_account=np.array([0, 1]), lot_security=np.array([0, 0]),
                  lot_quantity_shares=np.array([10.0, 10.0]), lot_basis_usd=np.array([1000.0, 1000.0]),
                  lot_acquired=np.array(["2020-01-02", "2020-01-02"], dtype="datetime64[D]"),
                  lot_loss_sale_blocked=np.array([False, False]))
    free = solve_household(p, FRACTIONAL)
    assert free.buy_usd[(free.buy_account == 0) & (free.buy_security == 1)].sum() > 0
    spec = Location(kind="location", asset_classes=["bonds"], account_kinds=["taxable"], effective_from=dt.date(2026, 1, 1))
    rows = located(pl.DataFrame([mandate("location", None) | dict(spec=spec.model_dump_json())], schema=MANDATE_SCHEMA),
                   pl.DataFrame({"account_id": ["T", "I"], "household_id": ["H1", "H1"],
                                 "account_type": ["taxable_joint", "traditional_ira"]}),
                   pl.DataFrame({"security_id": ["A", "B"], "asset_class": ["equity", "bonds"]}))
    assert rows.select("account_id", "security_id", "rule").rows() == [("T", "B", "never_buy")]
    sol = solve_household(with_mandates(p, rows), FRACTIONAL)
    assert sol.buy_usd[(sol.buy_account == 0) & (sol.buy_security == 1)].sum() == 0
    assert sol.buy_usd[(sol.buy_account == 1) & (sol.buy_security == 1)].sum() == pytest.approx(1000.0)
    assert verify(sol) == []


def test_never_hold_waits_for_a_wash_sale_window_instead_of_failing():
    # A's only lot was bought 10 days ago at $150 a share and is now $100: selling it at a loss today
    # would be a wash sale, so the never-hold cap leaves its $1,000 in place today (and sells when the
    # window closes) rather than making the household infeasible.
    p = restricted("never_hold", "A", problem=dict(lot_basis_usd=np.array([1500.0]),
                                                    lot_acquired=np.array([AS_OF - dt.timedelta(days=10)], dtype="datetime64[D]")))
    assert p.max_holding_usd[0, 0] == pytest.approx(1000.0)  # never hold now: 0, raised to the frozen $1,000
    sol = solve_household(p, FRACTIONAL)
    assert sol.lot_sold_usd.tolist() == [0.0] and verify(sol) == []


def test_a_location_preference_with_nowhere_to_go_is_a_warning():
    from data_contracts.mandates import Location

    households, accounts, securities, prices, lots = frames()
    households = households.with_columns(pl.lit("M").alias("model_id"))
    accounts = pl.DataFrame({"account_id": ["A1"], "household_id": ["H1"], "account_type": ["taxable_individual"]})
    models = pl.DataFrame({"model_id": ["M"], "security_id": ["XOM"], "target_weight": [1.0]})
    spec = Location(kind="location", asset_classes=["us_large_cap"], account_kinds=["taxable"],
                    effective_from=dt.date(2026, 1, 1)).model_dump_json()
    entries = pl.DataFrame([mandate("location", None) | dict(spec=spec)], schema=MANDATE_SCHEMA)
    _, problems = check_mandates(entries, AS_OF, households, accounts, securities, prices, lots, models)
    # Its only account is taxable, and the model is all us_large_cap: the class has nowhere to go.
    assert [(p["severity"], p["field"]) for p in problems] == [("warning", "account_kinds")]
    assert "keeps us_large_cap out of every account" in problems[0]["reason"]
    with_ira = pl.concat([accounts, pl.DataFrame({"account_id": ["A2"], "household_id": ["H1"],
                                                  "account_type": ["roth_ira"]})])
    assert check_mandates(entries, AS_OF, households, with_ira, securities, prices, lots, models)[1] == []
