"""Personal mandates: one YAML or JSON file per household under ``firm/mandates/``, named after it
(``H0000042.yaml``).

A file that cannot be read — not YAML, not a mapping, a rule that does not parse, anything at all —
holds the household it is named after, with the reason; a file whose ``household_id`` is not the
one its name says holds both. A household is never traded against mandates that were not read.

A file names its household and lists its mandates; each mandate may be limited to one account of
the household and carries the dates it is in force (``effective_from``, optional
``effective_to``, both inclusive), so a change is made by ending one entry and starting another,
and the history stays auditable in the file itself::

    household_id: H0000042
    mandates:
      - kind: security_restriction
        security_id: XOM
        rule: never_buy            # never_buy | never_sell | never_trade | never_hold
        effective_from: 2026-01-02
        reason: works at Exxon
      - kind: security_restriction
        security_id: GE
        rule: never_hold           # sold down to zero in a straight line by sell_by
        sell_by: 2027-06-30
        account_id: A00000123      # only this account (default: every account of the household)
        effective_from: 2026-07-01
      - kind: hold_at_least
        security_id: TSLA
        amount_usd: 25000          # household-wide, at the as-of close
        effective_from: 2026-01-02
      - kind: exclusion            # a screen
        name: Catholic values
        sectors: [energy]
        industries: [tobacco]
        tags: [weapons]
        rule: gambling or (abortion_related and not esg_leader)   # a custom rule over tags
        sell_by: 2026-12-31
        effective_from: 2026-01-02
      - kind: sector_cap
        sector: information_technology   # or industry: semiconductors
        max_weight: 0.25
        effective_from: 2026-01-02
      - kind: asset_allocation     # real estate to zero; the other classes keep their proportions
        weights: {us_reits: 0.0}
        effective_from: 2026-01-02
      - kind: glide_path           # applied like an asset allocation, by whole steps since start
        start: 2026-01-01
        end: 2036-01-01
        step: annual               # or quarterly
        start_weights: {us_large_cap: 0.6, us_aggregate_bonds: 0.3, cash: 0.1}
        end_weights: {us_large_cap: 0.3, us_aggregate_bonds: 0.6, cash: 0.1}
        effective_from: 2026-01-01
      - kind: cash_rules
        account_id: A00000123
        min_usd: 5000              # a reserve never invested
        max_usd: 50000             # beyond it, invest
        scheduled_withdrawals: [{date: 2027-01-15, amount_usd: 12000}]
        set_aside_days: 30         # raised this long before its date
        effective_from: 2026-01-02

Security restrictions: never buy, never sell, never trade (both), never hold (must be sold,
tax-aware: the optimizer chooses the lots, over the horizon up to ``sell_by``; without it, now).
``hold_at_least``: the household keeps at least that many dollars of a favoured security.
``exclusion``: every security of the sectors or industries, with any of the tags, or matching the
rule, is never held and never bought (``mandate_rules.screened`` turns a screen into never-hold
rows); its model weight goes to the model's other securities of the same asset class
(``mandate_rules.redistribute``).
``sector_cap``: at most that fraction of the household's value in a sector or an industry.
``asset_allocation`` and ``glide_path``: the household's own class weights (``cash`` is a class),
applied in file order on top of the model (``mandate_rules.allocate``): named classes take their
weight, the others are rescaled pro rata, securities keep their shares within their class.
``cash_rules``: an account's minimum and maximum cash, and withdrawals set aside ahead of time.
``transition``: per period, a tax budget and a turnover budget (dollars sold ÷ household value, or
bought plus sold with ``turnover_counts: buys_and_sells``), and equivalence sets; what the period has already realized and sold counts, as far as the transactions
file reaches (its sells' gains at the short-term rate, losses not credited: a conservative reading)::

      - kind: transition
        period: quarterly
        tax_budget_usd: 20000
        turnover_budget: 0.15
        equivalents: {VTI: [IVV, SPY]}    # held S&P 500 funds count as VTI, and are not sold to buy it
        effective_from: 2026-10-01

``location``: asset classes kept out of kinds of account (the LP's location values say where
things are best held; this says where they may not go)::

      - kind: location
        asset_classes: [us_aggregate_bonds, high_yield_bonds]
        account_kinds: [taxable]
        sell_by: 2027-12-31        # optional: sell down what is there; without it, only no buying
        effective_from: 2026-01-02

``product_preference``: which products hold an asset class (the class keeps its weight; the model's
securities of the class give way to the preferred ones, ``mandate_rules.preferred``)::

      - kind: product_preference
        asset_class: us_large_cap
        vehicle: direct_index       # individual stocks, weighted as in sleeve_model's stocks of the class
        sleeve_model: growth_direct_index
        effective_from: 2026-01-02
      - kind: product_preference
        asset_class: us_aggregate_bonds
        vehicle: etf                # or mutual_fund
        fund_family: Vanguard       # optional; or securities: [BND] to name them
        effective_from: 2026-01-02

``trading``: the household's (or one account's) trade sizes on top of its custodians' rules (the
run configuration's ``custodians``): a larger minimum trade, or whole shares only::

      - kind: trading
        min_trade_usd: 250
        whole_shares: true
        effective_from: 2026-01-02

``tracking_error``: a cap on the household's ex-ante tracking error against its own target, annualized,
as a fraction (0.01 = 1 % a year), measured with the day's risk model (``optimizer.risk``); the
tighter of this and the run configuration's ``max_tracking_error`` binds. Household-wide
(no account_id). With no risk model for the day the cap cannot be measured, so the household is held::

      - kind: tracking_error
        max_tracking_error: 0.015
        effective_from: 2026-01-02
        reason: concentrated-position client, wants to stay close to the model

Files are validated by these pydantic models. A file that does not parse, or an entry that breaks
its model, holds the household back (trading without a client's restriction could break it); the
exception names the file, the entry's line and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Literal, Optional, Union

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from data_contracts.inputs import Record, usd
from data_contracts.tag_rules import TagRule
from data_contracts.types import AccountId, HouseholdId, SecurityId

MANDATE_DIR = "firm/mandates"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SUFFIXES = (".yaml", ".yml", ".json")
Rule = Literal["never_buy", "never_sell", "never_trade", "never_hold", "hold_at_least", "exclusion", "sector_cap",
               "asset_allocation", "glide_path", "cash_rules", "transition", "location", "product_preference", "trading",
               "tracking_error"]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    account_id: Optional[AccountId] = Field(None, description="Only this account of the household (default: all).")
    effective_from: dt.date = Field(description="First day the mandate is in force.")
    effective_to: Optional[dt.date] = Field(None, description="Last day it is in force (default: until changed).")
    reason: Optional[str] = Field(None, max_length=500, description="Why, for the audit trail.")

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} is before effective_from {self.effective_from}")
        return self


class SecurityRestriction(_Entry):
    kind: Literal["security_restriction"]
    security_id: SecurityId
    rule: Literal["never_buy", "never_sell", "never_trade", "never_hold"]
    sell_by: Optional[dt.date] = Field(None, description="never_hold only: holdings fall in a straight line from "
                                                         "effective_from to zero on this date (default: sell now).")

    @model_validator(mode="after")
    def _sell_by_only_for_never_hold(self):
        if self.sell_by is not None and self.rule != "never_hold":
            raise ValueError("sell_by applies to never_hold only")
        if self.sell_by is not None and self.sell_by < self.effective_from:
            raise ValueError(f"sell_by {self.sell_by} is before effective_from {self.effective_from}")
        return self


class HoldAtLeast(_Entry):
    kind: Literal["hold_at_least"]
    security_id: SecurityId
    amount_usd: float = Field(gt=0, description="Dollars of the security to keep, household-wide unless account_id.")


class Exclusion(_Entry):
    """A screen: every security of these sectors or industries, or whose tags match ``rule``, is
    never held (sold tax-aware by ``sell_by``, like never_hold) and never bought; its model weight
    goes to the model's other securities of the same asset class."""

    kind: Literal["exclusion"]
    name: Optional[str] = Field(None, max_length=100, description="What the screen is called, e.g. 'Catholic values'.")
    sectors: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list, description="Any of these tags excludes a security.")
    rule: Optional[str] = Field(None, description="A custom screen over tags: and, or, not, parentheses, "
                                                  "e.g. 'fossil_fuel or (tobacco and not esg_leader)'.")
    sell_by: Optional[dt.date] = None

    @model_validator(mode="after")
    def _something_to_exclude(self):
        if not (self.sectors or self.industries or self.tags or self.rule):
            raise ValueError("an exclusion needs sectors, industries, tags or a rule")
        if self.rule is not None:
            TagRule(self.rule)  # raises with the position of the first bad token
        return self


class SectorCap(_Entry):
    """At most ``max_weight`` of the household's value in a sector (or an industry), after trading."""

    kind: Literal["sector_cap"]
    sector: Optional[str] = None
    industry: Optional[str] = None
    max_weight: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _one_of(self):
        if (self.sector is None) == (self.industry is None):
            raise ValueError("a sector_cap names either a sector or an industry")
        return self


def _weights_ok(weights: dict[str, float]) -> dict[str, float]:
    bad = {c: w for c, w in weights.items() if not 0 <= w <= 1}
    if bad:
        raise ValueError(f"weights must be between 0 and 1 ({bad})")
    if sum(weights.values()) > 1 + 1e-9:
        raise ValueError(f"weights add up to {sum(weights.values()):g}, more than 1")
    return weights


class AssetAllocation(_Entry):
    """Class weights of the household's own (e.g. real estate to zero, or to 10 %); the classes not
    named keep their proportions and are rescaled to what is left; securities keep their shares
    within their class. ``cash`` names the cash weight."""

    kind: Literal["asset_allocation"]
    weights: dict[str, float] = Field(min_length=1)

    _weights = field_validator("weights")(_weights_ok)


class GlidePath(_Entry):
    """Class weights that move from ``start_weights`` on ``start`` to ``end_weights`` on ``end`` by
    steps (each quarter or year since ``start``); applied as an asset allocation on the run date."""

    kind: Literal["glide_path"]
    start: dt.date
    end: dt.date
    step: Literal["quarterly", "annual"] = "annual"
    start_weights: dict[str, float] = Field(min_length=1)
    end_weights: dict[str, float] = Field(min_length=1)

    _weights = field_validator("start_weights", "end_weights")(_weights_ok)

    @model_validator(mode="after")
    def _valid(self):
        if self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self

    def weights_on(self, day: dt.date) -> dict[str, float]:
        months = 3 if self.step == "quarterly" else 12
        def steps(d: dt.date) -> int:
            return max((d.year - self.start.year) * 12 + d.month - self.start.month - (d.day < self.start.day), 0) // months
        t = 1.0 if day >= self.end else min(steps(day) / max(steps(self.end), 1), 1.0)
        classes = sorted(set(self.start_weights) | set(self.end_weights))
        return {c: self.start_weights.get(c, 0.0) + t * (self.end_weights.get(c, 0.0) - self.start_weights.get(c, 0.0))
                for c in classes}


class ScheduledWithdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date
    amount_usd: float = Field(gt=0)


class CashRules(_Entry):
    """One account's cash: a minimum (reserve never invested), a maximum (beyond it, invest), and
    withdrawals set aside ``set_aside_days`` before their date."""

    kind: Literal["cash_rules"]
    account_id: AccountId
    min_usd: Optional[float] = Field(None, ge=0)
    max_usd: Optional[float] = Field(None, ge=0)
    scheduled_withdrawals: list[ScheduledWithdrawal] = Field(default_factory=list)
    set_aside_days: int = Field(30, ge=0, le=366)

    @model_validator(mode="after")
    def _valid(self):
        if self.min_usd is not None and self.max_usd is not None and self.min_usd > self.max_usd:
            raise ValueError(f"min_usd {self.min_usd:g} is above max_usd {self.max_usd:g}")
        return self

    def set_aside_usd(self, day: dt.date) -> float:
        """Withdrawals due within the set-aside window from ``day`` (inclusive), to hold as cash now."""
        last = day + dt.timedelta(days=self.set_aside_days)
        return sum(w.amount_usd for w in self.scheduled_withdrawals if day <= w.date <= last)


class Transition(_Entry):
    """A legacy portfolio moved to its model over several periods: per period (month, quarter or
    year) at most ``tax_budget_usd`` of estimated tax and at most ``turnover_budget`` of the
    household's value sold; ``equivalents`` count toward a primary's target and are not sold just to
    buy the primary."""

    kind: Literal["transition"]
    period: Literal["monthly", "quarterly", "annual"] = "quarterly"
    tax_budget_usd: Optional[float] = Field(None, ge=0)
    turnover_budget: Optional[float] = Field(None, gt=0, le=1)
    turnover_counts: Literal["sells", "buys_and_sells"] = Field(
        "sells", description="what the turnover budget caps: dollars sold, or dollars bought plus sold")
    equivalents: dict[str, list[str]] = Field(default_factory=dict, description="primary → securities as good as it")

    def period_start(self, day: dt.date) -> dt.date:
        if self.period == "annual":
            return day.replace(month=1, day=1)
        if self.period == "quarterly":
            return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
        return day.replace(day=1)


AccountKind = Literal["taxable", "traditional_ira", "roth_ira"]


class Location(_Entry):
    """Asset location: these asset classes are not bought in these kinds of account (e.g. no bonds in
    the taxable account); with ``sell_by``, what is held there is sold down by then, like never_hold."""

    kind: Literal["location"]
    asset_classes: list[str] = Field(min_length=1)
    account_kinds: list[AccountKind] = Field(min_length=1)
    sell_by: Optional[dt.date] = None


class ProductPreference(_Entry):
    """Which products hold an asset class: ETFs or mutual funds (of one ``fund_family``, or the named
    ``securities``), or a direct-index sleeve of individual stocks weighted as ``sleeve_model``'s
    stocks of the class. The class keeps its weight in the household's target."""

    kind: Literal["product_preference"]
    asset_class: str = Field(min_length=1)
    vehicle: Literal["etf", "mutual_fund", "direct_index"]
    fund_family: Optional[str] = Field(None, min_length=1, description="etf / mutual_fund: only this family's.")
    securities: list[SecurityId] = Field(default_factory=list, description="etf / mutual_fund: these, equal weight "
                                                                           "unless the model already holds them.")
    sleeve_model: Optional[str] = Field(None, description="direct_index: the model whose stock weights form the sleeve.")

    @model_validator(mode="after")
    def _valid(self):
        if self.account_id is not None:
            raise ValueError("a product preference sets the household's targets: it takes no account_id")
        if self.vehicle == "direct_index" and self.sleeve_model is None:
            raise ValueError("a direct_index preference names its sleeve_model")
        if self.vehicle == "direct_index" and (self.fund_family or self.securities):
            raise ValueError("fund_family and securities apply to etf and mutual_fund preferences")
        if self.vehicle != "direct_index" and self.sleeve_model is not None:
            raise ValueError("sleeve_model applies to direct_index preferences")
        return self


class Trading(_Entry):
    """Trade sizes of the household or one account, on top of its custodian's: no trade (per security
    and side) below ``min_trade_usd``; ``whole_shares``: no fractional shares even where allowed."""

    kind: Literal["trading"]
    min_trade_usd: Optional[float] = Field(None, ge=0)
    whole_shares: bool = False

    @model_validator(mode="after")
    def _something(self):
        if self.min_trade_usd is None and not self.whole_shares:
            raise ValueError("a trading entry sets min_trade_usd or whole_shares")
        return self


class TrackingError(_Entry):
    """A cap on the household's annualized ex-ante tracking error against its target (0.01 = 1 % a year)."""

    kind: Literal["tracking_error"]
    max_tracking_error: float = Field(gt=0, le=1, description="Annualized tracking error cap, a fraction (0.01 = 1 %).")

    @model_validator(mode="after")
    def _household_wide(self):
        if self.account_id is not None:
            raise ValueError("a tracking_error cap is household-wide: it takes no account_id")
        return self


Mandate = Annotated[Union[SecurityRestriction, HoldAtLeast, Exclusion, SectorCap, AssetAllocation, GlidePath, CashRules,
                          Transition, Location, ProductPreference, Trading, TrackingError], Field(discriminator="kind")]
KINDS = ("security_restriction", "hold_at_least", "exclusion", "sector_cap", "asset_allocation", "glide_path", "cash_rules",
         "transition", "location", "product_preference", "trading", "tracking_error")
SPEC_KINDS = {"asset_allocation": AssetAllocation, "glide_path": GlidePath, "cash_rules": CashRules, "transition": Transition,
              "location": Location, "product_preference": ProductPreference, "trading": Trading,
              "tracking_error": TrackingError}


class MandateFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    household_id: HouseholdId
    mandates: list[Mandate] = Field(default_factory=list)


class MandateRecord(Record):
    """Mandates in force: one row per mandate entry of a household's mandate file (flattened)."""

    household_id: HouseholdId = Field(description="Household.")
    account_id: Optional[AccountId] = Field(None, description="Only this account (blank: every account).")
    security_id: Optional[SecurityId] = Field(None, description="Security the mandate is about (blank: a screen or cap).")
    rule: Rule = Field(description="never_buy, never_sell, never_trade or never_hold (security restrictions), else the "
                                   "entry's kind.")
    effective_from: dt.date = Field(description="First day in force.")
    effective_to: Optional[dt.date] = Field(None, description="Last day in force (blank: open).")
    sell_by: Optional[dt.date] = Field(None, description="never_hold: the date holdings reach zero (blank: now).")
    amount_usd: Optional[float] = Field(None, **usd("hold_at_least: dollars to keep."))
    sector: Optional[str] = Field(None, description="exclusion or sector_cap: the sector.")
    industry: Optional[str] = Field(None, description="exclusion or sector_cap: the industry.")
    tag_rule: Optional[str] = Field(None, description="exclusion: a rule over tags (a tag list becomes 'a or b').")
    max_weight: Optional[float] = Field(None, description="sector_cap: most of the household's value in it.",
                                        json_schema_extra={"unit": "fraction"})
    spec: Optional[str] = Field(None, description="asset_allocation, glide_path, cash_rules, transition, location, "
                                                 "product_preference, trading, tracking_error: the entry as JSON.")
    source: str = Field(description="File and line of the entry, e.g. firm/mandates/H1.yaml:12.")
    reason: Optional[str] = Field(None, description="Why, as the file says.")


MANDATE_SCHEMA = {
    "household_id": pl.String, "account_id": pl.String, "security_id": pl.String, "rule": pl.String,
    "effective_from": pl.Date, "effective_to": pl.Date, "sell_by": pl.Date, "amount_usd": pl.Float64,
    "sector": pl.String, "industry": pl.String, "tag_rule": pl.String, "max_weight": pl.Float64, "spec": pl.String,
    "source": pl.String, "reason": pl.String,
}


def empty_mandates() -> pl.DataFrame:
    return pl.DataFrame(schema=MANDATE_SCHEMA)


def in_force(mandates: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """The entries in force on ``as_of``."""
    return mandates.filter((pl.col("effective_from") <= as_of)
                           & (pl.col("effective_to").is_null() | (pl.col("effective_to") >= as_of)))


def read_mandates(input_dir: Path) -> tuple[pl.DataFrame, list[dict]]:
    """(every entry of every mandate file, problems): a problem is a dict with household_id (when the
    file says whose it is), file, row (the line), field and reason."""
    folder = Path(input_dir) / MANDATE_DIR
    rows, problems = [], []
    for path in sorted(p for p in folder.glob("*") if p.suffix.lower() in SUFFIXES) if folder.is_dir() else []:
        label = f"{MANDATE_DIR}/{path.name}"
        file_rows, file_problems = _read_file(path, label)
        rows += file_rows
        problems += file_problems
    return pl.DataFrame(rows, schema=MANDATE_SCHEMA, orient="row"), problems


def _read_file(path: Path, label: str) -> tuple[list[tuple], list[dict]]:
    """One file's entries, or its problems — never an exception: whatever goes wrong reading one
    household's file holds that household (named by the file when the file cannot say), not the run."""
    try:
        return _parse_file(path, label)
    except Exception as exc:  # noqa: BLE001 - a mandate file is client input: any failure is its problem
        why = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        return [], [_problem(_named_household(path), label, None, None, f"mandate file could not be read: {why}")]


def _named_household(path: Path) -> str | None:
    """The household a mandate file is named after (``<household_id>.yaml``), if its name is an id."""
    stem = path.stem
    return stem if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}", stem) else None


def _parse_file(path: Path, label: str) -> tuple[list[tuple], list[dict]]:
    named = _named_household(path)
    try:
        text = path.read_text(encoding="utf-8")
        # JSON is YAML too. The node tree gives each entry's line; libyaml's loader is 10× the pure one.
        node = yaml.compose(text, Loader=LOADER)
        data = yaml.load(text, Loader=LOADER)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        return [], [_problem(named, label, None, None, f"unreadable mandate file: {' '.join(str(exc).split())[:300]}")]
    if not isinstance(data, dict):
        return [], [_problem(named, label, None, None,
                             f"a mandate file is a mapping with household_id and mandates, not a {type(data).__name__}")]
    household = data.get("household_id")
    household = str(household) if household is not None else None
    if household is not None and named is not None and household != named:
        # Which household's rules these are is in doubt: both are held until the file is put right.
        why = f"the file is named for {named} but says household_id {household}"
        return [], [_problem(h, label, _line(node, ("household_id",)), "household_id", why) for h in (named, household)]
    try:
        parsed = MandateFile.model_validate(data)
    except ValidationError as exc:
        return [], [_problem(household or named, label, _line(node, err["loc"]), _field(err["loc"]), err["msg"])
                    for err in exc.errors()]
    rows = []
    for i, m in enumerate(parsed.mandates):
        line = _line(node, ("mandates", i))
        row = dict(household_id=parsed.household_id, account_id=m.account_id, effective_from=m.effective_from,
                   effective_to=m.effective_to, sell_by=getattr(m, "sell_by", None),
                   source=f"{label}:{line}" if line else label, reason=getattr(m, "name", None) or m.reason)
        if isinstance(m, SecurityRestriction):
            rows.append(row | dict(security_id=m.security_id, rule=m.rule))
        elif isinstance(m, HoldAtLeast):
            rows.append(row | dict(security_id=m.security_id, rule="hold_at_least", amount_usd=m.amount_usd))
        elif isinstance(m, tuple(SPEC_KINDS.values())):
            rows.append(row | dict(rule=m.kind, spec=m.model_dump_json()))
        elif isinstance(m, SectorCap):
            rows.append(row | dict(rule="sector_cap", sector=m.sector, industry=m.industry, max_weight=m.max_weight))
        else:  # one row per criterion of the screen, all pointing at its line
            rule = " or ".join(filter(None, [" or ".join(m.tags), f"({m.rule})" if m.rule else None])) or None
            rows += [row | dict(rule="exclusion", sector=x) for x in m.sectors]
            rows += [row | dict(rule="exclusion", industry=x) for x in m.industries]
            rows += [row | dict(rule="exclusion", tag_rule=rule)] if rule else []
    return [tuple(r.get(c) for c in MANDATE_SCHEMA) for r in rows], []


def _problem(household: str | None, label: str, line: int | None, field: str | None, reason: str) -> dict:
    return dict(household_id=household, severity="error", stage="validate", file=label, row=line, field=field,
                reason=f"{label}{':' + str(line) if line else ''}: {reason}")


def _field(loc: tuple) -> str | None:
    names = [str(x) for x in loc if isinstance(x, str) and x not in KINDS]
    return names[-1] if names else None


def _line(node: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the deepest node of ``loc`` the document has (a missing field: its entry's)."""
    line = None
    for key in loc:
        if key in KINDS:
            continue  # pydantic's discriminator tag in the path, not a document key
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line
