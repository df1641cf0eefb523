"""Mandates checked before solving: whose they are, what they name, and whether they conflict."""

from __future__ import annotations

import datetime as dt

import polars as pl

from data_contracts.mandate_rules import ProductCatalog, allocate_all, class_weights, preferred, product_preferences, screened
from data_contracts.mandates import SPEC_KINDS, CashRules, Location, in_force
from data_contracts.types import TAXABLE_ACCOUNT_TYPES


def check_mandates(mandates: pl.DataFrame, as_of: dt.date, households: pl.DataFrame, accounts: pl.DataFrame,
                   securities: pl.DataFrame, prices: pl.DataFrame, lots: pl.DataFrame,
                   models: pl.DataFrame | None = None, cash: pl.DataFrame | None = None,
                   risk_model: bool = True) -> tuple[pl.DataFrame, list[dict]]:
    """(the mandates in force on ``as_of`` of known households, problems in plain words).

    Found before solving: a mandate of an unknown household (firm-level) or of an account that is not
    the household's; a restriction on a security the master does not know (a warning: nothing to
    enforce); a favoured security that is unknown or unpriced; and conflicts between mandates of one
    household — never hold what may never be sold, hold at least what may never be held, hold at
    least more than is held of what may never be bought, a screen that removes every security of an
    asset class of the household's model; a tracking-error cap on a day with no ``risk_model`` to
    measure it. An error holds the household back. Screens are checked through the never_hold rows
    they become (``screened``).
    """
    live = in_force(mandates, as_of)
    problems: list[dict] = []

    def report(rows: pl.DataFrame, severity: str, field: str, reason: pl.Expr, household: bool = True) -> None:
        for r in rows.with_columns(reason.alias("_why")).iter_rows(named=True):
            file, _, line = r["source"].rpartition(":")
            problems.append(dict(household_id=r["household_id"] if household else None, severity=severity,
                                 stage="validate", file=file or r["source"], row=int(line) if line.isdigit() else None,
                                 field=field, reason=f"{r['source']}: {r['_why']}"))

    unknown = live.join(households.select("household_id"), on="household_id", how="anti")
    report(unknown, "error", "household_id", pl.format("household {} is not in the households file", "household_id"),
           household=False)
    live = live.join(households.select("household_id"), on="household_id", how="semi")
    raw = live  # what is staged: the entries as written (screens unexpanded), of known households
    theirs = accounts.select("account_id", pl.col("household_id").alias("owner"))
    wrong = live.filter(pl.col("account_id").is_not_null()).join(theirs, on="account_id", how="left").filter(
        pl.col("owner").is_null() | (pl.col("owner") != pl.col("household_id")))
    report(wrong, "error", "account_id", pl.format("account {} is not an account of household {}", "account_id", "household_id"))

    if not risk_model:
        report(live.filter(pl.col("rule") == "tracking_error"), "error", "max_tracking_error", pl.lit(
            "the household's tracking error is capped but the day has no usable risk model to measure it"))
    caps = live.filter(pl.col("rule") == "sector_cap")
    for column in ("sector", "industry"):
        unknown_group = caps.filter(pl.col(column).is_not_null()).join(
            securities.select(pl.col(column)).drop_nulls().unique(), on=column, how="anti")
        report(unknown_group, "warning", column, pl.format(f"sector_cap on {column} {{}}, which no security has: nothing to cap",
                                                           column))
    if models is not None:
        report(_allocation_problems(live, as_of, households, models, securities), "error", "weights", pl.col("why"))
    if models is not None:
        report(_preference_problems(live, as_of, households, models, securities, prices), "error", "vehicle", pl.col("why"))
    if models is not None:
        report(_homeless_classes(live, households, accounts, models, securities), "warning", "account_kinds",
               pl.format("the location preference keeps {} out of every account of the household: its model "
                         "weight cannot be held and will show as drift", "asset_class"))
    cash_findings = _cash_problems(live, as_of, lots, prices, cash)
    for severity in ("error", "warning"):
        report(cash_findings.filter(pl.col("severity") == severity), severity, "min_usd", pl.col("why"))
    live = screened(live.filter(~pl.col("rule").is_in(["sector_cap", *SPEC_KINDS])), securities)
    if models is not None:
        report(_emptied_classes(live, households, models, securities), "error", "rule", pl.format(
            "the mandates leave no security of asset class {} in model {}, nor a substitute for one",
            "asset_class", "model_id"))

    known = securities.select("security_id")
    priced = prices.select("security_id", "close_usd")
    restrictions = live.filter(pl.col("rule") != "hold_at_least")
    report(restrictions.join(known, on="security_id", how="anti"), "warning", "security_id",
           pl.format("{} on {}, which the securities master does not know: nothing to enforce", "rule", "security_id"))
    favoured = live.filter(pl.col("rule") == "hold_at_least")
    report(favoured.join(priced, on="security_id", how="anti"), "error", "security_id",
           pl.format("hold at least ${} of {}, which has no price: it cannot be bought or valued",
                     pl.col("amount_usd").round(2), "security_id"))

    # Conflicts within a household (an account-scoped entry overlaps the household-wide one).
    def pairs(left: str | list[str], right: list[str]) -> pl.DataFrame:
        a = live.filter(pl.col("rule").is_in([left] if isinstance(left, str) else left))
        b = live.filter(pl.col("rule").is_in(right)).select("household_id", "security_id", pl.col("account_id").alias("acc_b"),
                                                           pl.col("rule").alias("rule_b"), pl.col("source").alias("source_b"))
        both = a.join(b, on=["household_id", "security_id"])
        return both.filter(pl.col("account_id").is_null() | pl.col("acc_b").is_null() | (pl.col("account_id") == pl.col("acc_b")))

    report(pairs("never_hold", ["never_sell", "never_trade"]), "error", "rule",
           pl.format("never hold {} conflicts with {} ({}): it must be sold and may not be", "security_id", "rule_b", "source_b"))
    report(pairs("hold_at_least", ["never_hold"]), "error", "rule",
           pl.format("hold at least {} conflicts with never hold ({})", "security_id", "source_b"))
    short = pairs("hold_at_least", ["never_buy", "never_trade"])
    value = lots.join(short.select("household_id", "security_id").unique(), on=["household_id", "security_id"]).join(
        priced, on="security_id").group_by("household_id", "security_id").agg(  # only the pairs in question
        (pl.col("quantity_shares") * pl.col("close_usd")).sum().alias("held_usd"))
    short = short.join(value, on=["household_id", "security_id"], how="left") \
        .with_columns(pl.col("held_usd").fill_null(0.0)).filter(pl.col("held_usd") < pl.col("amount_usd"))
    report(short, "error", "amount_usd", pl.format(
        "hold at least ${} of {} but only ${} is held and {} ({}) forbids buying more", pl.col("amount_usd").round(2),
        "security_id", pl.col("held_usd").round(2), "rule_b", "source_b"))
    return raw, problems


def _allocation_problems(live: pl.DataFrame, as_of: dt.date, households: pl.DataFrame, models: pl.DataFrame,
                         securities: pl.DataFrame) -> pl.DataFrame:
    """Households whose own class weights their model cannot meet (``allocate``'s problems)."""
    own = live.filter(pl.col("rule").is_in(["asset_allocation", "glide_path"]))
    rows = []
    if own.height == 0:
        return pl.DataFrame(schema={"household_id": pl.String, "source": pl.String, "why": pl.String})
    class_of = dict(zip(securities["security_id"].to_list(), securities["asset_class"].to_list()))
    model_of = dict(households.select("household_id", "model_id").iter_rows())
    weights_of = {}  # model → (security weights, cash weight), once per model
    for (model,), weights in models.partition_by("model_id", as_dict=True).items():
        pairs = list(weights.select("security_id", "target_weight").iter_rows())
        weights_of[model] = ({s: w for s, w in pairs if s in class_of}, sum(w for s, w in pairs if s not in class_of))
    for (household,), entries in own.partition_by("household_id", as_dict=True).items():
        target, cash = weights_of.get(model_of.get(household), ({}, 0.0))
        _, _, problems = allocate_all(target, cash, class_weights(entries, as_of), class_of)
        rows += [(household, entries["source"][-1], why) for why in problems]
    return pl.DataFrame(rows, schema={"household_id": pl.String, "source": pl.String, "why": pl.String}, orient="row")


def _preference_problems(live: pl.DataFrame, as_of: dt.date, households: pl.DataFrame, models: pl.DataFrame,
                         securities: pl.DataFrame, prices: pl.DataFrame) -> pl.DataFrame:
    """Households whose product preferences fit nothing, or too much (``preferred``'s problems),
    measured on the model after the household's own class weights."""
    schema = {"household_id": pl.String, "source": pl.String, "why": pl.String}
    prefs = live.filter(pl.col("rule") == "product_preference")
    if prefs.height == 0:
        return pl.DataFrame(schema=schema)
    catalog = ProductCatalog.of(securities, prices, models)
    model_of = dict(households.select("household_id", "model_id").iter_rows())
    rows = []
    for (household,), entries in live.filter(pl.col("household_id").is_in(prefs["household_id"].unique().implode())) \
            .partition_by("household_id", as_dict=True).items():
        model = catalog.models.get(model_of.get(household), {})
        target = {s: w for s, w in model.items() if s in catalog.class_of}
        cash = sum(w for s, w in model.items() if s not in catalog.class_of)
        target, _, _ = allocate_all(target, cash, class_weights(entries, as_of), catalog.class_of)
        mine = entries.filter(pl.col("rule") == "product_preference")
        for pref, source in zip(product_preferences(mine), mine["source"].to_list()):
            _, problems = preferred(target, [pref], catalog)
            rows += [(household, source, why) for why in problems]
    return pl.DataFrame(rows, schema=schema, orient="row")


def _homeless_classes(live: pl.DataFrame, households: pl.DataFrame, accounts: pl.DataFrame, models: pl.DataFrame,
                      securities: pl.DataFrame) -> pl.DataFrame:
    """(household, asset class, source) where a location preference leaves a class of the household's
    model no account to be held in."""
    rows = live.filter(pl.col("rule") == "location")
    if rows.height == 0 or "account_type" not in accounts.columns:
        return pl.DataFrame(schema={"household_id": pl.String, "asset_class": pl.String, "source": pl.String})
    kinds = accounts.select("household_id", pl.when(pl.col("account_type").is_in(list(TAXABLE_ACCOUNT_TYPES)))
                            .then(pl.lit("taxable")).otherwise(pl.col("account_type")).alias("kind"))
    in_model = households.select("household_id", "model_id").join(models.filter(pl.col("target_weight") > 0), on="model_id") \
        .join(securities.select("security_id", "asset_class"), on="security_id").select("household_id", "asset_class").unique()
    out = []
    for household, spec, source in rows.select("household_id", "spec", "source").iter_rows():
        rule = Location.model_validate_json(spec)
        theirs = set(kinds.filter(pl.col("household_id") == household)["kind"].to_list())
        if theirs and theirs <= set(rule.account_kinds):
            held = set(in_model.filter(pl.col("household_id") == household)["asset_class"].to_list())
            out += [(household, c, source) for c in sorted(held & set(rule.asset_classes))]
    return pl.DataFrame(out, schema={"household_id": pl.String, "asset_class": pl.String, "source": pl.String}, orient="row")


def _cash_problems(live: pl.DataFrame, as_of: dt.date, lots: pl.DataFrame, prices: pl.DataFrame,
                   cash: pl.DataFrame | None) -> pl.DataFrame:
    """A cash minimum above the account's value (a warning: it will be relaxed to what the account
    holds) and withdrawals set aside beyond it (an error: they cannot be paid)."""
    schema = {"household_id": pl.String, "source": pl.String, "severity": pl.String, "why": pl.String}
    rules = live.filter(pl.col("rule") == "cash_rules")
    if rules.height == 0 or cash is None or "account_id" not in lots.columns:
        return pl.DataFrame(schema=schema)
    held = lots.join(rules.select("account_id").unique(), on="account_id").join(  # only the accounts with rules
        prices.select("security_id", "close_usd"), on="security_id").group_by("account_id").agg(
        (pl.col("quantity_shares") * pl.col("close_usd")).sum().alias("held"))
    value = dict(cash.select("account_id", "cash_usd").join(held, on="account_id", how="left").select(
        "account_id", pl.col("cash_usd") + pl.col("held").fill_null(0.0)).iter_rows())
    rows = []
    for household, account, spec, source in rules.select("household_id", "account_id", "spec", "source").iter_rows():
        r, worth = CashRules.model_validate_json(spec), value.get(account, 0.0)
        if r.min_usd is not None and r.min_usd > worth:
            rows.append((household, source, "warning", f"cash minimum ${r.min_usd:,.2f} is more than account {account} "
                                                        f"holds (${worth:,.2f}): it will be relaxed, and reported"))
        if r.set_aside_usd(as_of) > worth:
            rows.append((household, source, "error", f"withdrawals of ${r.set_aside_usd(as_of):,.2f} due within "
                                                      f"{r.set_aside_days} days are more than account {account} holds (${worth:,.2f})"))
    return pl.DataFrame(rows, schema=schema, orient="row")


def _emptied_classes(live: pl.DataFrame, households: pl.DataFrame, models: pl.DataFrame,
                     securities: pl.DataFrame) -> pl.DataFrame:
    """(household, model, asset class, source) where household-wide never-hold rows (screens
    included) cover every security of that class in the household's model and its substitute too
    (a never-held model security's substitute fills its place)."""
    gone = live.filter((pl.col("rule") == "never_hold") & pl.col("account_id").is_null()).select(
        "household_id", "security_id", "source")
    model_rows = households.select("household_id", "model_id").join(models.filter(pl.col("target_weight") > 0),
                                                                    on="model_id").join(
        securities.select("security_id", "asset_class", "substitute_id"), on="security_id")
    marked = model_rows.join(gone, on=["household_id", "security_id"], how="left").join(
        gone.select("household_id", pl.col("security_id").alias("substitute_id"), pl.lit(True).alias("sub_gone")),
        on=["household_id", "substitute_id"], how="left").with_columns(
        pl.when(pl.col("substitute_id").is_not_null() & pl.col("sub_gone").is_null()).then(None)
        .otherwise(pl.col("source")).alias("source"))
    per_class = marked.group_by("household_id", "model_id", "asset_class").agg(
        pl.col("source").is_not_null().all().alias("all_gone"), pl.col("source").drop_nulls().first())
    return per_class.filter(pl.col("all_gone")).sort("household_id", "asset_class")
