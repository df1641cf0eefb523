"""What mandates do to a household's targets and limits (pure polars and Python).

``screened`` turns screens into never-hold rows per matching security; ``redistribute`` gives a
never-held model security's weight to its class's other model securities; ``allocate`` applies the
household's own class weights (asset allocations, glide paths) to its model; ``preferred`` puts
an asset class's weight into the products the household prefers; ``cash_rules`` and ``trading``
read the accounts' cash rules and trade sizes; ``tracking_error_cap`` the household's tightest
tracking-error cap. The file format is ``data_contracts.mandates``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from data_contracts.mandates import (MANDATE_SCHEMA, SPEC_KINDS, AssetAllocation, CashRules, Location, ProductPreference,
                                     TrackingError, Trading, Transition)
from data_contracts.types import TAXABLE_ACCOUNT_TYPES
from data_contracts.tag_rules import TagRule


def screened(mandates: pl.DataFrame, securities: pl.DataFrame) -> pl.DataFrame:
    """The mandates with each exclusion row turned into one never_hold row per security it matches
    (by sector, industry or tag rule; same account, sell_by and source)."""
    exclusions = mandates.filter(pl.col("rule") == "exclusion")
    if exclusions.height == 0:
        return mandates
    sec = securities.select("security_id", "sector", "industry", "tags")
    tags = {s: set((t or "").split(";")) - {""} for s, t in zip(sec["security_id"].to_list(), sec["tags"].to_list())}
    memo: dict[tuple, list[str]] = {}

    def matching(sector: str | None, industry: str | None, rule: str | None) -> list[str]:
        key = (sector, industry, rule)
        if key not in memo:
            if sector is not None:
                memo[key] = sec.filter(pl.col("sector") == pl.lit(sector))["security_id"].to_list()
            elif industry is not None:
                memo[key] = sec.filter(pl.col("industry") == pl.lit(industry))["security_id"].to_list()
            else:
                compiled = TagRule(rule)
                memo[key] = [s for s, t in tags.items() if compiled.matches(t)]
        return memo[key]

    rows = [r | {"security_id": s, "rule": "never_hold"} for r in exclusions.iter_rows(named=True)
            for s in matching(r["sector"], r["industry"], r["tag_rule"])]
    return pl.concat([mandates.filter(pl.col("rule") != "exclusion"), pl.DataFrame(rows, schema=MANDATE_SCHEMA)])


def redistribute(target: dict[str, float], excluded: set[str], class_of: dict[str, str]) -> dict[str, float]:
    """Model weights with ``excluded`` securities at 0 and their weight spread pro rata over the model's
    other securities of the same asset class (a class with none left keeps its weight where it was:
    the conflict check holds such a household)."""
    out = dict(target)
    for s in sorted(excluded & set(target)):
        peers = [t for t in out if t not in excluded and class_of.get(t) == class_of.get(s) and out[t] > 0]
        total = sum(out[t] for t in peers)
        if not peers or total <= 0:
            continue
        for t in peers:
            out[t] += out[s] * out[t] / total
        out[s] = 0.0
    return out


CASH_CLASS = "cash"


def allocate(target: dict[str, float], cash: float, weights: dict[str, float],
             class_of: dict[str, str]) -> tuple[dict[str, float], float, list[str]]:
    """(security weights, cash weight, problems) with the classes in ``weights`` set to their weight
    and every other class (cash too, unless named) rescaled pro rata to what is left, so the total is
    unchanged at 1; securities keep their shares within their class. A class raised above zero that
    the model holds no security of cannot be met: it is a problem, and the model is left as it was."""
    by_class: dict[str, float] = {CASH_CLASS: cash}
    for s, w in target.items():
        by_class[class_of[s]] = by_class.get(class_of[s], 0.0) + w
    missing = [c for c, w in weights.items() if w > 0 and by_class.get(c, 0.0) <= 0 and c != CASH_CLASS]
    if missing:
        return target, cash, [f"the model holds no {c} to give it {weights[c]:.1%}" for c in sorted(missing)]
    others = sum(w for c, w in by_class.items() if c not in weights)
    left = 1.0 - sum(weights.values())
    if others <= 0 and left > 1e-9:
        return target, cash, [f"the allocation names every class the model holds and adds up to {1 - left:.1%}, not 100%"]
    scale = {c: (weights[c] / by_class[c] if by_class[c] > 0 else 0.0) if c in weights else left / others
             for c in by_class}
    new_cash = weights[CASH_CLASS] if CASH_CLASS in weights else cash * scale[CASH_CLASS]  # cash needs no security
    return {s: w * scale[class_of[s]] for s, w in target.items()}, new_cash, []


def class_weights(mandates: pl.DataFrame, as_of: dt.date) -> list[dict[str, float]]:
    """The household's own class weights on ``as_of``, one dict per asset allocation or glide path in
    file order: each is applied (``allocate``) on top of the one before."""
    own = mandates.filter(pl.col("rule").is_in(["asset_allocation", "glide_path"])).select("rule", "spec")
    entries = [SPEC_KINDS[rule].model_validate_json(spec) for rule, spec in own.iter_rows()]
    return [e.weights if isinstance(e, AssetAllocation) else e.weights_on(as_of) for e in entries]


def allocate_all(target: dict[str, float], cash: float, own: list[dict[str, float]],
                 class_of: dict[str, str]) -> tuple[dict[str, float], float, list[str]]:
    problems: list[str] = []
    for weights in own:
        target, cash, found = allocate(target, cash, weights, class_of)
        problems += found
    return target, cash, problems


def cash_rules(mandates: pl.DataFrame) -> list[CashRules]:
    return [CashRules.model_validate_json(spec) for spec in mandates.filter(pl.col("rule") == "cash_rules")["spec"].to_list()]


def transition(mandates: pl.DataFrame) -> Transition | None:
    """The household's transition in force (the last one in its file), if any."""
    specs = mandates.filter(pl.col("rule") == "transition")["spec"].to_list()
    return Transition.model_validate_json(specs[-1]) if specs else None


def located(mandates: pl.DataFrame, accounts: pl.DataFrame, securities: pl.DataFrame) -> pl.DataFrame:
    """The mandates with each location row turned into per-account rows: never_buy (never_hold with a
    sell_by) of every security of its classes, in each of the household's accounts of its kinds."""
    rows = mandates.filter(pl.col("rule") == "location")
    if rows.height == 0:
        return mandates
    kind_of = {a: ("taxable" if t in TAXABLE_ACCOUNT_TYPES else t)
               for a, t in accounts.select("account_id", "account_type").iter_rows()}
    mine = {k[0]: v["account_id"].to_list() for k, v in accounts.partition_by("household_id", as_dict=True).items()}
    out = []
    for r in rows.iter_rows(named=True):
        spec = Location.model_validate_json(r["spec"])
        members = securities.filter(pl.col("asset_class").is_in(spec.asset_classes))["security_id"].to_list()
        for a in mine.get(r["household_id"], []):
            if kind_of[a] in spec.account_kinds:
                out += [r | {"account_id": a, "security_id": s, "rule": "never_hold" if spec.sell_by else "never_buy",
                             "sell_by": spec.sell_by, "spec": None} for s in members]
    return pl.concat([mandates.filter(pl.col("rule") != "location"), pl.DataFrame(out, schema=MANDATE_SCHEMA)])


@dataclass(frozen=True)
class ProductCatalog:
    """What the securities master, the prices and the models say about products."""

    class_of: dict[str, str]
    vehicle_of: dict[str, str]  # security_type: etf, mutual_fund, stock
    family_of: dict[str, str | None]
    priced: frozenset[str]
    models: dict[str, dict[str, float]]  # model → security → weight
    by_class_vehicle: dict[tuple[str, str], list[str]]

    @classmethod
    def of(cls, securities: pl.DataFrame, prices: pl.DataFrame, models: pl.DataFrame) -> "ProductCatalog":
        family = securities["fund_family"].to_list() if "fund_family" in securities.columns else [None] * securities.height
        ids, classes, vehicles = (securities[c].to_list() for c in ("security_id", "asset_class", "security_type"))
        by: dict[tuple[str, str], list[str]] = {}
        for s, c, v in sorted(zip(ids, classes, vehicles)):
            by.setdefault((c, v), []).append(s)
        weights = {m[0]: dict(f.select("security_id", "target_weight").iter_rows())
                   for m, f in models.partition_by("model_id", as_dict=True).items()}
        return cls(dict(zip(ids, classes)), dict(zip(ids, vehicles)), dict(zip(ids, family)),
                   frozenset(prices.filter(pl.col("close_usd").is_not_null())["security_id"].to_list()), weights, by)


def product_preferences(mandates: pl.DataFrame) -> list[ProductPreference]:
    """The household's product preferences in force, in file order (a later one for a class wins)."""
    return [ProductPreference.model_validate_json(spec)
            for spec in mandates.filter(pl.col("rule") == "product_preference")["spec"].to_list()]


def preferred(target: dict[str, float], preferences: list[ProductPreference],
              catalog: ProductCatalog) -> tuple[dict[str, float], list[str]]:
    """(security weights, problems) with each preferred class's weight moved from the model's
    securities of the class to the preferred products: the model's own securities that fit keep
    their relative weights; else the named securities, equal weight; else the one security of the
    class that fits; a direct-index sleeve takes the sleeve model's stock weights of the class. A
    class the target holds none of is left alone; a preference that fits nothing, or several
    securities with none named, is a problem and changes nothing."""
    out = dict(target)
    problems: list[str] = []
    for pref in preferences:
        members = {s: w for s, w in out.items() if catalog.class_of.get(s) == pref.asset_class and w > 0}
        weight = sum(members.values())
        if weight <= 0:
            continue
        chosen, why = _products(pref, members, catalog)
        unpriced = sorted(s for s in chosen if s not in catalog.priced)
        if why or unpriced:
            problems.append(why or f"the preferred {', '.join(unpriced[:5])} of {pref.asset_class} ha"
                                   f"{'s' if len(unpriced) == 1 else 've'} no price")
            continue
        for s in members:
            del out[s]
        total = sum(chosen.values())
        for s, w in chosen.items():
            out[s] = out.get(s, 0.0) + weight * w / total
    return out, problems


def _products(pref: ProductPreference, members: dict[str, float],
              catalog: ProductCatalog) -> tuple[dict[str, float], str | None]:
    """The preferred securities of the class with their relative weights, or why there are none."""
    cls = pref.asset_class
    if pref.vehicle == "direct_index":
        if pref.sleeve_model not in catalog.models:
            return {}, f"sleeve model {pref.sleeve_model} is not in the models file"
        sleeve = {s: w for s, w in catalog.models[pref.sleeve_model].items()
                  if w > 0 and catalog.class_of.get(s) == cls and catalog.vehicle_of.get(s) == "stock"}
        return (sleeve, None) if sleeve else ({}, f"model {pref.sleeve_model} holds no stocks of {cls} to form a sleeve")
    family = f" of the {pref.fund_family} family" if pref.fund_family else ""

    def fits(s: str) -> bool:
        return (catalog.class_of.get(s) == cls and catalog.vehicle_of.get(s) == pref.vehicle
                and (pref.fund_family is None or catalog.family_of.get(s) == pref.fund_family))

    if pref.securities:
        misfits = [s for s in pref.securities if not fits(s)]
        if misfits:
            return {}, f"{', '.join(misfits)} {'is' if len(misfits) == 1 else 'are'} not {pref.vehicle}{family} of {cls}"
        own = {s: members[s] for s in pref.securities if s in members}
        return own or {s: 1.0 for s in pref.securities}, None
    own = {s: w for s, w in members.items() if fits(s)}
    if own:
        return own, None
    candidates = [s for s in catalog.by_class_vehicle.get((cls, pref.vehicle), []) if fits(s)]
    if len(candidates) == 1:
        return {candidates[0]: 1.0}, None
    if not candidates:
        return {}, f"the securities master has no {pref.vehicle}{family} of {cls}"
    return {}, (f"{len(candidates)} {pref.vehicle}s{family} of {cls} fit ({', '.join(candidates[:5])}): "
                f"name the one(s) to hold in securities")


def trading(mandates: pl.DataFrame) -> list[Trading]:
    return [Trading.model_validate_json(spec) for spec in mandates.filter(pl.col("rule") == "trading")["spec"].to_list()]


def tracking_error_cap(mandates: pl.DataFrame) -> float | None:
    """The tightest tracking-error cap of the household's mandates in force (annualized fraction), or None."""
    caps = [TrackingError.model_validate_json(spec).max_tracking_error
            for spec in mandates.filter(pl.col("rule") == "tracking_error")["spec"].to_list()]
    return min(caps) if caps else None
