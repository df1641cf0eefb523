"""From validated frames to one ``HouseholdProblem`` per household (pure: polars and numpy only)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl

from data_contracts.config import RunConfig
from data_contracts.types import CASH_ASSET_CLASS, CASH_SECURITY_ID, TAXABLE_ACCOUNT_TYPES
from data_contracts.validation import ValidatedDay
from data_contracts.mandate_rules import (ProductCatalog, allocate_all, cash_rules, class_weights, located, preferred,
                                         product_preferences, redistribute, screened, tracking_error_cap, trading,
                                         transition)
from data_contracts.mandates import ProductPreference, Transition
from optimizer.ledger.estimate import TaxProfile, estimate_tax
from optimizer.ledger.marginal import marginal_rates
from optimizer.ledger.netting import net_year
from optimizer.problem import HouseholdProblem
from tasks.risk import SecurityRisk, security_risk

FACTORS = ("beta", "size", "value", "momentum")

WASH_WINDOW_DAYS = 30
# The cap is not forced on those lots; an older one is still sold when a partial wash sale pays (optimizer.solve).
HELD_BACK_TAIL = " (older lots among them are sold as partial wash sales where that pays)"
ACQUISITIONS = ("buy", "reinvested_dividend")


def wash_sale_windows(day: ValidatedDay) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(loss_sales, recent_buys): per household, the identical groups sold at a loss / bought in the last 30 days.

    Loss sales count in taxable accounts only (an IRA sale realizes no loss); buys count in every
    account, IRAs included. A sell without basis is treated as a loss (conservative).
    """
    since = day.as_of - dt.timedelta(days=WASH_WINDOW_DAYS)
    group = day.securities.select("security_id", pl.coalesce("identical_group", "security_id").alias("group"))
    recent = day.transactions.filter(pl.col("trade_date").is_between(since, day.as_of)).join(
        day.accounts.select("account_id", "account_type"), on="account_id")
    recent = recent.join(group, on="security_id", how="left").with_columns(pl.coalesce("group", "security_id").alias("group"))
    loss_sales = recent.filter(
        (pl.col("transaction_type") == "sell") & pl.col("account_type").is_in(list(TAXABLE_ACCOUNT_TYPES))
        & (pl.col("cost_basis_usd").is_null() | (pl.col("amount_usd") < pl.col("cost_basis_usd")))
    ).select("household_id", "group").unique()
    buys = pl.concat([
        recent.filter(pl.col("transaction_type").is_in(ACQUISITIONS)).select("household_id", "group"),
        day.lots.filter(pl.col("acquisition_date") >= since).join(group, on="security_id").select("household_id", "group"),
    ]).unique()
    return loss_sales, buys


def recent_bought_shares(day: ValidatedDay) -> pl.DataFrame:
    """Per household and security: shares acquired (bought, dividends reinvested) in the last 30 days
    in any account, per the transactions — the replacement shares of a partial wash sale; NaN when
    one of those acquisitions does not state its quantity (the count is then not known)."""
    since = day.as_of - dt.timedelta(days=WASH_WINDOW_DAYS)
    acquired = day.transactions.filter(pl.col("trade_date").is_between(since, day.as_of)
                                       & pl.col("transaction_type").is_in(ACQUISITIONS))
    return acquired.join(day.accounts.select("account_id", "household_id"), on="account_id", how="semi").group_by(
        "household_id", "security_id").agg(
        pl.when(pl.col("quantity_shares").is_null().any()).then(float("nan"))
        .otherwise(pl.col("quantity_shares").sum()).alias("shares"))


def build_problems(day: ValidatedDay, household_ids: list[str], config: RunConfig) -> list[HouseholdProblem]:
    ids = pl.Series(household_ids, dtype=pl.String).implode()
    sec = day.securities.join(day.prices.select("security_id", "close_usd"), on="security_id", how="left").with_columns(
        pl.coalesce("identical_group", "security_id").alias("group"))
    hh = day.households.filter(pl.col("household_id").is_in(ids))
    accounts = day.accounts.filter(pl.col("household_id").is_in(ids)).join(
        day.cash.select("account_id", "cash_usd"), on="account_id", how="left").sort("account_id")
    lots = day.lots.filter(pl.col("household_id").is_in(ids)).sort("account_id", "security_id", "lot_id")
    targets = hh.select("household_id", "model_id").join(day.models, on="model_id")
    loss_sales, buys = wash_sale_windows(day)
    bought = recent_bought_shares(day)
    loss_sales, buys, bought = (x.filter(pl.col("household_id").is_in(ids)) for x in (loss_sales, buys, bought))

    mandates = located(screened(day.mandates.filter(pl.col("household_id").is_in(ids)), day.securities), accounts,
                       day.securities)
    parts = {name: {k[0]: v for k, v in frame.partition_by("household_id", as_dict=True).items()}
             for name, frame in (("accounts", accounts), ("lots", lots), ("targets", targets),
                                 ("loss_sales", loss_sales), ("buys", buys), ("bought", bought),
                                 ("mandates", mandates))}
    sec_row = {s: i for i, s in enumerate(sec["security_id"].to_list())}
    sec_exposure, exposure_names = _exposure_matrix(sec)
    sec_price = sec["close_usd"].to_numpy()
    sec_class = sec["asset_class"].to_numpy()
    sec_group = sec["group"].to_numpy()
    sec_substitute = dict(zip(sec["security_id"].to_list(), sec["substitute_id"].to_list()))
    sec_substitute_cost = sec["substitute_cost"].fill_null(np.nan).to_numpy().astype(float)
    # A transition's period counts what its household already sold: their transactions, only for them.
    in_transition = mandates.filter(pl.col("rule") == "transition")["household_id"].unique().implode()
    moved = {k[0]: v for k, v in day.transactions.filter(pl.col("household_id").is_in(in_transition))
             .partition_by("household_id", as_dict=True).items()}
    # The day's risk model per security (built once a day, proxies included), in this frame's order.
    day_risk = security_risk(day.securities, day.risk_loadings, day.risk_factor_covariance, day.risk_specific)
    risk = day_risk.aligned(sec["security_id"].to_list()) if day_risk is not None else None
    sec_sector = dict(zip(sec["security_id"].to_list(), sec["sector"].to_list()))
    sec_industry = dict(zip(sec["security_id"].to_list(), sec["industry"].to_list()))
    catalog = ProductCatalog.of(day.securities, day.prices, day.models) \
        if mandates.filter(pl.col("rule") == "product_preference").height else None
    empty = {name: frame.clear() for name, frame in (("accounts", accounts), ("lots", lots), ("targets", targets),
                                                      ("loss_sales", loss_sales), ("buys", buys), ("bought", bought),
                                                      ("mandates", mandates))}
    problems = []
    for row in hh.sort("household_id").iter_rows(named=True):
        h = row["household_id"]
        get = lambda name: parts[name].get(h, empty[name])  # noqa: E731
        mine = get("mandates")
        personal = {} if mine.height == 0 else dict(  # most households have none: skip the frame work
            favoured=_favoured(mine, sec_row), excluded=_excluded(mine), own_weights=class_weights(mine, day.as_of),
            preferences=product_preferences(mine), catalog=catalog)
        cap = None if risk is None else tightest(config.max_tracking_error, tracking_error_cap(mine) if mine.height else None)
        problem = _problem(row, get("accounts"), get("lots"), get("targets"), get("loss_sales"), get("buys"),
                           sec_row, sec_price, sec_class, sec_group, sec_exposure, exposure_names, sec_substitute,
                           sec_substitute_cost, day.as_of, config, risk=risk, max_tracking_error=cap,
                           bought=get("bought"), **personal)
        problems.append(with_mandates(problem, mine, sec_sector, sec_industry, moved.get(h)))
    return problems


def tightest(*caps: float | None) -> float | None:
    """The smallest of the caps given (None: no cap from that source; all None: no cap)."""
    given = [c for c in caps if c is not None]
    return min(given) if given else None


def _exposure_matrix(sec: pl.DataFrame) -> tuple[np.ndarray, tuple[str, ...]]:
    """x_{s,k}: sector membership (0/1) and factor exposures from the securities master; 0 where blank."""
    sectors = sorted(s for s in sec["sector"].unique().to_list() if s)
    one_hot = np.stack([(sec["sector"] == s).fill_null(False).to_numpy() for s in sectors], axis=1).astype(float) \
        if sectors else np.zeros((sec.height, 0))
    factors = np.stack([sec[f].fill_null(0.0).to_numpy().astype(float) for f in FACTORS], axis=1)
    return np.hstack([one_hot, factors]), tuple(f"sector:{s}" for s in sectors) + FACTORS


def tax_profile(hh: dict) -> TaxProfile:
    """The household's rates and filing status, from its row of the households file."""
    return TaxProfile(hh["filing_status"], hh["federal_ordinary_rate"], hh["federal_ltcg_rate"], hh["state_rate"],
                      hh["niit_applies"])


def _budgets(hh: dict, profile: TaxProfile, config: RunConfig, year: int) -> tuple[float | None, float | None]:
    """What is left of the year's budgets after the year-to-date realizations; a budget already spent
    leaves 0, not less: the run may then add no tax (and no net gain), but it is not made to harvest
    losses to pay back what was spent before it."""
    ytd_st, ytd_lt = hh["ytd_realized_st_gain_usd"], hh["ytd_realized_lt_gain_usd"]
    gain = None if config.annual_gain_budget_usd is None else max(config.annual_gain_budget_usd - (ytd_st + ytd_lt), 0.0)
    tax = None
    if config.annual_tax_budget_usd is not None:
        ytd = net_year(hh["household_id"], year, max(ytd_st, 0), max(-ytd_st, 0), max(ytd_lt, 0), max(-ytd_lt, 0),
                       hh["st_loss_carryforward_usd"], hh["lt_loss_carryforward_usd"], hh["filing_status"])
        tax = max(config.annual_tax_budget_usd - estimate_tax(ytd, profile).total_usd, 0.0)
    return gain, tax


def _problem(hh: dict, accounts: pl.DataFrame, lots: pl.DataFrame, targets: pl.DataFrame, loss_sales: pl.DataFrame,
             buys: pl.DataFrame, sec_row: dict[str, int], sec_price: np.ndarray, sec_class: np.ndarray,
             sec_group: np.ndarray, sec_exposure: np.ndarray, exposure_names: tuple[str, ...],
             sec_substitute: dict[str, str | None], sec_substitute_cost: np.ndarray, as_of: dt.date,
             config: RunConfig, risk: SecurityRisk | None = None, max_tracking_error: float | None = None,
             favoured: set[str] = frozenset(), excluded: set[str] = frozenset(),
             own_weights: list[dict[str, float]] | None = None, preferences: list[ProductPreference] | None = None,
             catalog: ProductCatalog | None = None, bought: pl.DataFrame | None = None) -> HouseholdProblem:
    target = dict(zip(targets["security_id"].to_list(), targets["target_weight"].to_list()))
    cash_target = target.pop(CASH_SECURITY_ID, 0.0)
    if own_weights:  # the household's own class weights (asset allocation, glide path), checked at validation
        target, cash_target, _ = allocate_all(target, cash_target, own_weights, {t: sec_class[sec_row[t]] for t in target})
    if preferences and catalog is not None:  # the class's weight in the products it prefers (checked too)
        target, _ = preferred(target, preferences, catalog)
    if excluded:  # screened out or never held: the weight goes to the class's other model securities
        target = redistribute(target, set(excluded), {t: sec_class[sec_row[t]] for t in target if t in sec_row})
    # A model security's substitute (if priced and not itself in the model) stands in after a harvest.
    substitutes = {sub: s for s in sorted(target) if (sub := sec_substitute.get(s)) and sub not in target and sub in sec_row}
    securities = sorted(set(lots["security_id"].to_list()) | set(target) | set(substitutes) | set(favoured))
    rows = np.array([sec_row[s] for s in securities], dtype=np.int64)
    classes = sorted(set(sec_class[rows].tolist())) + [CASH_ASSET_CLASS]
    class_index = {c: i for i, c in enumerate(classes)}
    security_class = np.array([class_index[c] for c in sec_class[rows]], dtype=np.int64)
    target_weight = np.array([target.get(s, 0.0) for s in securities])
    class_target = np.bincount(security_class, weights=target_weight, minlength=len(classes))
    class_target[-1] = cash_target
    groups = sec_group[rows]
    group_index = {g: i for i, g in enumerate(sorted(set(groups.tolist())))}
    identical_group = np.array([group_index[g] for g in groups], dtype=np.int64)
    blocked = set(loss_sales["group"].to_list())
    bought_groups = set(buys["group"].to_list())
    recent_shares = dict(zip(bought["security_id"].to_list(), bought["shares"].to_list())) if bought is not None else {}

    account_ids = accounts["account_id"].to_numpy()
    acc_index = {a: i for i, a in enumerate(account_ids)}
    account_type = accounts["account_type"].to_list()
    sec_index = {s: i for i, s in enumerate(securities)}
    substitute_of = np.array([sec_index[substitutes[s]] if s in substitutes else -1 for s in securities], dtype=np.int64)
    lot_security = np.array([sec_index[s] for s in lots["security_id"].to_list()], dtype=np.int64)
    kind = ["taxable" if t in TAXABLE_ACCOUNT_TYPES else t for t in account_type]
    location = np.array([[config.location_value.get(sec_class[r], {}).get(k, 0.0) for r in rows] for k in kind])
    profile = tax_profile(hh)
    rates = marginal_rates(hh["ytd_realized_st_gain_usd"], hh["ytd_realized_lt_gain_usd"], hh["st_loss_carryforward_usd"],
                           hh["lt_loss_carryforward_usd"], profile, as_of.year, config.loss_tranche_usd,
                           config.carryforward_value)
    gain_budget, tax_budget = _budgets(hh, profile, config, as_of.year)
    exposure = sec_exposure[rows]
    used = np.abs(exposure).sum(axis=0) > 0  # only characteristics some security of the household has
    whole_shares, min_trade = _custodian_trading(accounts["custodian_id"].cast(pl.String).to_list(), config)
    return HouseholdProblem(
        household_id=hh["household_id"], as_of=as_of,
        account_ids=account_ids, account_taxable=np.array([t in TAXABLE_ACCOUNT_TYPES for t in account_type], dtype=bool),
        cash_usd=accounts["cash_usd"].to_numpy().astype(float), min_cash_usd=accounts["min_cash_usd"].to_numpy().astype(float),
        security_ids=np.array(securities, dtype=object), price_usd=sec_price[rows].astype(float),
        security_class=security_class, identical_group=identical_group, target_weight=target_weight,
        buy_blocked=np.array([g in blocked for g in groups], dtype=bool),
        class_names=tuple(classes), class_target_weight=class_target,
        lot_ids=lots["lot_id"].to_numpy(), lot_account=np.array([acc_index[a] for a in lots["account_id"].to_list()], dtype=np.int64),
        lot_security=lot_security, lot_quantity_shares=lots["quantity_shares"].to_numpy().astype(float),
        lot_basis_usd=lots["cost_basis_usd"].to_numpy().astype(float),
        lot_acquired=lots["acquisition_date"].to_numpy().astype("datetime64[D]"),
        lot_loss_sale_blocked=np.array([g in bought_groups for g in groups[lot_security]], dtype=bool) if len(lot_security) else np.zeros(0, bool),
        recent_bought_shares=np.array([recent_shares.get(s, 0.0) for s in securities], dtype=float),
        short_term_rate=rates.st_gain, long_term_rate=rates.lt_gain,
        short_term_loss_rate=rates.st_loss, long_term_loss_rate=rates.lt_loss,
        location_value=location.reshape(len(kind), len(rows)),
        gain_budget_usd=gain_budget, tax_budget_usd=tax_budget, substitute_of=substitute_of,
        substitute_cost=sec_substitute_cost[rows],
        exposures=exposure[:, used] if used.any() else None,
        exposure_names=tuple(n for n, u in zip(exposure_names, used) if u),
        whole_shares=whole_shares, min_trade_usd=min_trade,
        risk_loadings=risk.loadings[rows] if risk is not None else None,
        risk_factor_root=risk.factor_root if risk is not None else None,
        risk_specific_variance=risk.specific_variance[rows] if risk is not None else None,
        max_tracking_error=max_tracking_error,
    )


def _custodian_trading(custodians: list[str], config: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    """(whole shares only, minimum trade) per account, from its custodian's rules and the run's."""
    whole = np.full(len(custodians), config.shares != "fractional")
    minimum = np.full(len(custodians), config.min_trade_usd)
    for a, c in enumerate(custodians):
        rules = config.custodians.get(c)
        if rules is not None:
            whole[a] = whole[a] if rules.fractional_shares is None else not rules.fractional_shares
            minimum[a] = max(minimum[a], rules.min_trade_usd)
    return whole, minimum


def _favoured(mandates: pl.DataFrame, sec_row: dict[str, int]) -> set[str]:
    """Securities the household must hold some of: in the problem even when neither held nor modelled."""
    return {s for s in mandates.filter(pl.col("rule") == "hold_at_least")["security_id"].to_list() if s in sec_row}


def _excluded(mandates: pl.DataFrame) -> set[str]:
    """Securities the whole household may never hold (never_hold rows, screens included)."""
    return set(mandates.filter((pl.col("rule") == "never_hold") & pl.col("account_id").is_null())["security_id"].to_list())


def with_mandates(p: HouseholdProblem, mandates: pl.DataFrame, sector_of: dict[str, str | None] | None = None,
                  industry_of: dict[str, str | None] | None = None,
                  transactions: pl.DataFrame | None = None) -> HouseholdProblem:
    """The problem with its mandates in force as arrays (optimizer/constraints/mandates.py); screens
    already turned into never_hold rows (``screened``); ``transactions``: the household's, for a
    transition's period so far."""
    if mandates.height == 0:
        return p
    p = _with_transition(p, transition(mandates), transactions)
    sec = {s: i for i, s in enumerate(p.security_ids.tolist())}
    acc = {a: i for i, a in enumerate(p.account_ids.tolist())}
    no_buy = np.zeros((p.n_accounts, p.n_securities), dtype=bool)
    no_sell = np.zeros_like(no_buy)
    cap = np.full((p.n_accounts, p.n_securities), np.inf)
    held = p.holdings_usd
    mins = []
    for m in mandates.iter_rows(named=True):
        s = sec.get(m["security_id"]) if m["security_id"] is not None else None
        if s is None:  # neither held, modelled nor priced: nothing to buy, sell or hold
            continue
        a = slice(None) if m["account_id"] is None else acc[m["account_id"]]
        rule = m["rule"]
        if rule in ("never_buy", "never_trade", "never_hold"):
            no_buy[a, s] = True
        if rule in ("never_sell", "never_trade"):
            no_sell[a, s] = True
        if rule == "never_hold":
            days_left = max((m["sell_by"] - p.as_of).days, 0) if m["sell_by"] is not None else 0
            cap[a, s] = np.minimum(cap[a, s], held[a, s] * days_left / (days_left + 1))
        if rule == "hold_at_least":
            mins.append((-1 if m["account_id"] is None else acc[m["account_id"]], s, m["amount_usd"]))
    # What the wash-sale rules keep from being sold today stays within a never-hold cap or a sector cap:
    # the mandate is met as fast as the rules allow, not made infeasible by a loss lot bought last week,
    # and the desk is told (a note: the review queue). IRA loss lots are never frozen.
    unsellable = np.zeros((p.n_accounts, p.n_securities))
    frozen = (p.lot_basis_usd > p.lot_value_usd) & p.lot_loss_sale_window & p.account_taxable[p.lot_account]
    np.add.at(unsellable, (p.lot_account[frozen], p.lot_security[frozen]), p.lot_value_usd[frozen])
    notes = [f"never hold {p.security_ids[s]} in {p.account_ids[a]}: ${unsellable[a, s]:,.2f} of loss lots of a "
             f"security bought within the last 30 days may be held back until the wash-sale window closes"
             f"{HELD_BACK_TAIL}"
             for a, s in zip(*np.nonzero(unsellable > cap + 0.01))]
    cap = np.maximum(cap, unsellable)
    min_cash, max_cash = p.min_cash_usd.copy(), p.cash_ceiling_usd.copy()
    withdrawal = np.zeros(p.n_accounts) if p.withdrawal_usd is None else p.withdrawal_usd.copy()
    for r in cash_rules(mandates):
        a = acc[r.account_id]
        min_cash[a] = max(min_cash[a], r.min_usd or 0.0)
        max_cash[a] = min(max_cash[a], np.inf if r.max_usd is None else r.max_usd)
        withdrawal[a] += r.set_aside_usd(p.as_of)  # set aside ahead of its date: cash the LP must raise
    # Trade sizes: a mandate only tightens the custodian's (built problems always carry both arrays).
    whole_shares = p.whole_shares.copy() if p.whole_shares is not None else np.zeros(p.n_accounts, dtype=bool)
    min_trade = p.min_trade_usd.copy() if p.min_trade_usd is not None else np.zeros(p.n_accounts)
    for r in trading(mandates):
        a = slice(None) if r.account_id is None else acc[r.account_id]
        whole_shares[a] |= r.whole_shares
        min_trade[a] = np.maximum(min_trade[a], r.min_trade_usd or 0.0)
    caps = [(m, "sector" if m["sector"] is not None else "industry") for m in mandates.iter_rows(named=True)
            if m["rule"] == "sector_cap"]
    lookup = {"sector": sector_of or {}, "industry": industry_of or {}}
    members = np.array([[lookup[by].get(s) == m[by] for s in p.security_ids.tolist()] for m, by in caps], dtype=bool)
    mins_a = np.array([m[0] for m in mins], dtype=np.int64)
    for (m, by), g in zip(caps, members):
        if unsellable[:, g].sum() > m["max_weight"] * p.total_value_usd + 0.01:
            notes.append(f"{by} cap {m[by]} ({m['max_weight']:.1%}): ${unsellable[:, g].sum():,.2f} of loss lots of "
                         f"securities bought within the last 30 days may be held back until the wash-sale window "
                         f"closes{HELD_BACK_TAIL}")
    return dataclasses.replace(
        p, buy_forbidden=no_buy, sell_forbidden=no_sell, max_holding_usd=cap, min_cash_usd=min_cash,
        max_cash_usd=max_cash if np.isfinite(max_cash).any() else p.max_cash_usd,
        withdrawal_usd=withdrawal if withdrawal.any() else p.withdrawal_usd,
        group_cap_members=members.reshape(len(caps), p.n_securities) if caps else None,
        group_cap_usd=np.array([max(m["max_weight"] * p.total_value_usd, unsellable[:, g].sum())
                                for (m, _), g in zip(caps, members)]) if caps else None,
        group_cap_names=tuple(f"{by} {m[by]}" for m, by in caps),
        hold_min_account=mins_a if mins else None, hold_min_security=np.array([m[1] for m in mins], dtype=np.int64) if mins else None,
        hold_min_usd=np.array([m[2] for m in mins], dtype=float) if mins else None,
        whole_shares=whole_shares if p.whole_shares is not None or whole_shares.any() else None,
        min_trade_usd=min_trade if p.min_trade_usd is not None or min_trade.any() else None,
        notes=p.notes + tuple(notes))


def _with_transition(p: HouseholdProblem, t: Transition | None, transactions: pl.DataFrame | None) -> HouseholdProblem:
    """The period's budgets less what its sells since the period start used (gains at the short-term
    rate, losses not credited: conservative), and the equivalence sets as slots."""
    if t is None:
        return p
    period = pl.DataFrame() if transactions is None or transactions.height == 0 else transactions.filter(
        pl.col("trade_date") >= t.period_start(p.as_of))
    sells = period.filter(pl.col("transaction_type") == "sell") if period.height else period
    taxable = set(p.account_ids[p.account_taxable].tolist())
    counts_buys = t.turnover_counts == "buys_and_sells"
    counted = period.filter(pl.col("transaction_type").is_in(["sell", "buy"] if counts_buys else ["sell"])) \
        if period.height else period
    traded_usd = float(counted["amount_usd"].abs().sum()) if counted.height else 0.0
    gains = sells.filter(pl.col("account_id").is_in(list(taxable))).select(
        (pl.col("amount_usd") - pl.col("cost_basis_usd").fill_null(0.0)).clip(lower_bound=0.0)).to_series() \
        if sells.height else pl.Series([], dtype=pl.Float64)
    spent_tax = float(gains.sum()) * p.short_term_rate if len(gains) else 0.0
    tax = p.tax_budget_usd
    if t.tax_budget_usd is not None:
        left = max(t.tax_budget_usd - spent_tax, 0.0)
        tax = left if tax is None else min(tax, left)
    turnover = None if t.turnover_budget is None else max(t.turnover_budget * p.total_value_usd - traded_usd, 0.0)
    sec = {s: i for i, s in enumerate(p.security_ids.tolist())}
    equivalent = np.full(p.n_securities, -1, dtype=np.int64)
    for primary, members in t.equivalents.items():
        for m in members:
            if primary in sec and m in sec and m != primary:
                equivalent[sec[m]] = sec[primary]
    return dataclasses.replace(p, tax_budget_usd=tax, turnover_budget_usd=turnover, turnover_counts_buys=counts_buys,
                               drift_first=True,
                               equivalent_of=equivalent if (equivalent >= 0).any() else None)
