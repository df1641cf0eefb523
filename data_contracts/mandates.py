"""Personal mandates: one YAML or JSON file per household under ``firm/mandates/``.

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

Security restrictions: never buy, never sell, never trade (both), never hold (must be sold,
tax-aware: the optimizer chooses the lots, over the horizon up to ``sell_by``; without it, now).
``hold_at_least``: the household keeps at least that many dollars of a favoured security.
``exclusion``: every security of the sectors or industries, with any of the tags, or matching the
rule, is never held and never bought (``screened`` turns a screen into never-hold rows); its model
weight goes to the model's other securities of the same asset class (``redistribute``).
``sector_cap``: at most that fraction of the household's value in a sector or an industry.

Files are validated by these pydantic models. A file that does not parse, or an entry that breaks
its model, holds the household back (trading without a client's restriction could break it); the
exception names the file, the entry's line and the field.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal, Optional, Union

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from data_contracts.inputs import Record, usd
from data_contracts.types import AccountId, HouseholdId, SecurityId

MANDATE_DIR = "firm/mandates"
SUFFIXES = (".yaml", ".yml", ".json")
Rule = Literal["never_buy", "never_sell", "never_trade", "never_hold", "hold_at_least", "exclusion", "sector_cap"]


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


Mandate = Annotated[Union[SecurityRestriction, HoldAtLeast, Exclusion, SectorCap], Field(discriminator="kind")]
KINDS = ("security_restriction", "hold_at_least", "exclusion", "sector_cap")


class TagRule:
    """A boolean rule over a security's tags: names, ``and``, ``or``, ``not``, parentheses.

    Parsed once into nested tuples (no eval): ``or`` binds loosest, then ``and``, then ``not``.
    """

    def __init__(self, text: str) -> None:
        import re

        self.text = text
        self._tokens = re.findall(r"\(|\)|[A-Za-z0-9_.\-]+|\S", text)
        self._at = 0
        self.tree = self._or()
        if self._at != len(self._tokens):
            raise ValueError(f"rule {text!r}: unexpected {self._tokens[self._at]!r}")

    def _peek(self) -> str | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ValueError(f"rule {self.text!r}: ends too early")
        self._at += 1
        return token

    def _or(self):
        left = self._and()
        while self._peek() == "or":
            self._take()
            left = ("or", left, self._and())
        return left

    def _and(self):
        left = self._not()
        while self._peek() == "and":
            self._take()
            left = ("and", left, self._not())
        return left

    def _not(self):
        if self._peek() == "not":
            self._take()
            return ("not", self._not())
        token = self._take()
        if token == "(":
            inner = self._or()
            if self._take() != ")":
                raise ValueError(f"rule {self.text!r}: missing ')'")
            return inner
        if token in ("and", "or", ")") or not (token[0].isalnum() or token[0] == "_"):
            raise ValueError(f"rule {self.text!r}: unexpected {token!r}")
        return ("tag", token)

    def matches(self, tags: set[str]) -> bool:
        def ev(node) -> bool:
            op = node[0]
            if op == "tag":
                return node[1] in tags
            if op == "not":
                return not ev(node[1])
            return ev(node[1]) and ev(node[2]) if op == "and" else ev(node[1]) or ev(node[2])
        return ev(self.tree)


class MandateFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    household_id: HouseholdId
    mandates: list[Mandate] = Field(default_factory=list)


class MandateRecord(Record):
    """Mandates in force: one row per mandate entry of a household's mandate file (flattened)."""

    household_id: HouseholdId = Field(description="Household.")
    account_id: Optional[AccountId] = Field(None, description="Only this account (blank: every account).")
    security_id: Optional[SecurityId] = Field(None, description="Security the mandate is about (blank: a screen or cap).")
    rule: Rule = Field(description="never_buy, never_sell, never_trade, never_hold, hold_at_least, exclusion or sector_cap.")
    effective_from: dt.date = Field(description="First day in force.")
    effective_to: Optional[dt.date] = Field(None, description="Last day in force (blank: open).")
    sell_by: Optional[dt.date] = Field(None, description="never_hold: the date holdings reach zero (blank: now).")
    amount_usd: Optional[float] = Field(None, **usd("hold_at_least: dollars to keep."))
    sector: Optional[str] = Field(None, description="exclusion or sector_cap: the sector.")
    industry: Optional[str] = Field(None, description="exclusion or sector_cap: the industry.")
    tag_rule: Optional[str] = Field(None, description="exclusion: a rule over tags (a tag list becomes 'a or b').")
    max_weight: Optional[float] = Field(None, description="sector_cap: most of the household's value in it.",
                                        json_schema_extra={"unit": "fraction"})
    source: str = Field(description="File and line of the entry, e.g. firm/mandates/H1.yaml:12.")
    reason: Optional[str] = Field(None, description="Why, as the file says.")


MANDATE_SCHEMA = {
    "household_id": pl.String, "account_id": pl.String, "security_id": pl.String, "rule": pl.String,
    "effective_from": pl.Date, "effective_to": pl.Date, "sell_by": pl.Date, "amount_usd": pl.Float64,
    "sector": pl.String, "industry": pl.String, "tag_rule": pl.String, "max_weight": pl.Float64,
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
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)  # JSON is YAML too; the node tree gives each entry's line
        data = yaml.safe_load(text)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        return [], [_problem(None, label, None, None, f"unreadable mandate file: {' '.join(str(exc).split())[:300]}")]
    household = data.get("household_id") if isinstance(data, dict) else None
    household = str(household) if household is not None else None
    try:
        parsed = MandateFile.model_validate(data)
    except ValidationError as exc:
        return [], [_problem(household, label, _line(node, err["loc"]), _field(err["loc"]), err["msg"])
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


def check_mandates(mandates: pl.DataFrame, as_of: dt.date, households: pl.DataFrame, accounts: pl.DataFrame,
                   securities: pl.DataFrame, prices: pl.DataFrame, lots: pl.DataFrame,
                   models: pl.DataFrame | None = None) -> tuple[pl.DataFrame, list[dict]]:
    """(the mandates in force on ``as_of`` of known households, problems in plain words).

    Found before solving: a mandate of an unknown household (firm-level) or of an account that is not
    the household's; a restriction on a security the master does not know (a warning: nothing to
    enforce); a favoured security that is unknown or unpriced; and conflicts between mandates of one
    household — never hold what may never be sold, hold at least what may never be held, hold at
    least more than is held of what may never be bought, a screen that removes every security of an
    asset class of the household's model. An error holds the household back. Screens are checked
    through the never_hold rows they become (``screened``).
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

    caps = live.filter(pl.col("rule") == "sector_cap")
    for column in ("sector", "industry"):
        unknown_group = caps.filter(pl.col(column).is_not_null()).join(
            securities.select(pl.col(column)).drop_nulls().unique(), on=column, how="anti")
        report(unknown_group, "warning", column, pl.format(f"sector_cap on {column} {{}}, which no security has: nothing to cap",
                                                           column))
    screens = live.filter(pl.col("rule") == "exclusion")
    live = screened(live.filter(pl.col("rule") != "sector_cap"), securities)
    if models is not None and screens.height:
        report(_emptied_classes(live, households, models, securities), "error", "rule", pl.format(
            "the screens leave no security of asset class {} in model {}", "asset_class", "model_id"))

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
    value = lots.join(priced, on="security_id").group_by("household_id", "security_id").agg(
        (pl.col("quantity_shares") * pl.col("close_usd")).sum().alias("held_usd"))
    short = pairs("hold_at_least", ["never_buy", "never_trade"]).join(value, on=["household_id", "security_id"], how="left") \
        .with_columns(pl.col("held_usd").fill_null(0.0)).filter(pl.col("held_usd") < pl.col("amount_usd"))
    report(short, "error", "amount_usd", pl.format(
        "hold at least ${} of {} but only ${} is held and {} ({}) forbids buying more", pl.col("amount_usd").round(2),
        "security_id", pl.col("held_usd").round(2), "rule_b", "source_b"))
    return raw, problems


def _emptied_classes(live: pl.DataFrame, households: pl.DataFrame, models: pl.DataFrame,
                     securities: pl.DataFrame) -> pl.DataFrame:
    """(household, model, asset class, source) where household-wide never-hold rows cover every
    security of that class in the household's model."""
    gone = live.filter((pl.col("rule") == "never_hold") & pl.col("account_id").is_null()).select(
        "household_id", "security_id", "source")
    model_rows = households.select("household_id", "model_id").join(models.filter(pl.col("target_weight") > 0),
                                                                    on="model_id").join(
        securities.select("security_id", "asset_class"), on="security_id")
    marked = model_rows.join(gone, on=["household_id", "security_id"], how="left")
    per_class = marked.group_by("household_id", "model_id", "asset_class").agg(
        pl.col("source").is_not_null().all().alias("all_gone"), pl.col("source").drop_nulls().first())
    return per_class.filter(pl.col("all_gone")).sort("household_id", "asset_class")


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
