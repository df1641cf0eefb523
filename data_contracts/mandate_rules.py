"""What mandates do to a household's targets and limits (pure polars and Python).

``screened`` turns screens into never-hold rows per matching security; ``redistribute`` gives a
never-held model security's weight to its class's other model securities; ``allocate`` applies the
household's own class weights (asset allocations, glide paths) to its model; ``cash_rules`` reads
the accounts' cash rules. The file format is ``data_contracts.mandates``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from data_contracts.mandates import MANDATE_SCHEMA, SPEC_KINDS, AssetAllocation, CashRules, Location, Transition
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
