"""Cross-file validation of a day's files: what is bad, which households it holds, what proceeds.

Row-level problems come from ``frames.parse_frame``; here they are attributed to households,
and the checks that need more than one file run frame-wise: unknown accounts and securities,
missing or stale prices, lots that do not sum to positions, accounts without cash, files dated
another day, broken models, the day's risk model (absent, unusable, or not covering a held or
model security: ``data_contracts.risk_model``). Every problem becomes an exception row naming
file, row, field and reason; a household with any error-severity problem is held (no trades),
everyone else proceeds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from data_contracts.frames import LINE
from data_contracts.layout import DayFiles
from data_contracts.expectations import QualityRecorder, reconciliation_expectations
from data_contracts.mandate_checks import check_mandates
from data_contracts.mandates import empty_mandates, read_mandates
from data_contracts.risk_model import RISK_FILES, check_risk_files, risk_model_frames
from data_contracts.types import CASH_SECURITY_ID, Severity

EXCEPTION_SCHEMA = {
    "household_id": pl.String, "severity": pl.String, "stage": pl.String, "file": pl.String,
    "row": pl.Int64, "field": pl.String, "reason": pl.String,
}


@dataclass(frozen=True)
class ValidationConfig:
    stale_price_days: int = 5  # a close older than this many calendar days holds the households holding it
    lot_position_tolerance_shares: float = 1e-3
    model_weight_tolerance: float = 1e-6
    # A position whose quantity moved without transactions to explain it: a corporate action the
    # feed did not carry, or missing transactions (which would blind the wash-sale check).
    unexplained_change_severity: Severity = "warning"
    # A day delivered without risk files (data_contracts.risk_model): a warning solves every household
    # on the drift penalties, tracking error uncontrolled; an error holds them all.
    missing_risk_model_severity: Severity = "warning"


@dataclass
class PreviousDay:
    """The last validated day before this one (from the warehouse's stg_* layer), if any."""

    as_of: dt.date
    accounts: pl.DataFrame  # account_id, household_id, custodian_id
    positions: pl.DataFrame  # account_id, security_id, quantity_shares


@dataclass
class ValidatedDay:
    """Typed good rows of every file (custodian files joined to their household) and the verdicts."""

    as_of: dt.date
    securities: pl.DataFrame
    prices: pl.DataFrame  # latest close on or before as-of per security
    models: pl.DataFrame
    households: pl.DataFrame
    accounts: pl.DataFrame
    positions: pl.DataFrame
    lots: pl.DataFrame
    transactions: pl.DataFrame
    cash: pl.DataFrame
    exceptions: pl.DataFrame
    held: pl.Series  # household ids with an error
    mandates: pl.DataFrame = field(default_factory=empty_mandates)  # in force on as_of (data_contracts.mandates)
    # The day's factor model (long frames; tasks.risk turns them into an optimizer.risk.RiskModel); None: none
    risk_loadings: pl.DataFrame | None = None  # security_id, factor, loading
    risk_factor_covariance: pl.DataFrame | None = None  # factor_1, factor_2, covariance (annualized)
    risk_specific: pl.DataFrame | None = None  # security_id, specific_volatility, specific_variance (annualized)
    # Every account id the day's custodian files mention, rows set aside included: what
    # ``data_contracts.privacy.mask_text`` masks in artifacts, reports and logs, whatever the account's state
    account_ids_seen: frozenset[str] = frozenset()
    # Custodians that delivered on the previous validated day and sent nothing today: a partial day
    missing_custodians: tuple[str, ...] = ()

    @property
    def ready_households(self) -> pl.Series:
        return self.households.filter(~pl.col("household_id").is_in(self.held.implode()))["household_id"].sort()


ONE_ROW = pl.DataFrame({"_": [0]})


def _exc(df: pl.DataFrame, severity: str, reason: pl.Expr | str, file: pl.Expr | str | None = None,
         row: pl.Expr | None = None, field: pl.Expr | str | None = None, household: pl.Expr | None = None) -> pl.DataFrame:
    """Exception rows, one per row of ``df``; each argument is a constant or an expression over ``df``."""
    lit = lambda v, t=pl.String: v if isinstance(v, pl.Expr) else pl.lit(v, t)  # noqa: E731
    return df.select(
        (household if household is not None else pl.lit(None, pl.String)).alias("household_id"),
        pl.lit(severity).alias("severity"), pl.lit("validate").alias("stage"),
        lit(file).cast(pl.String).alias("file"), (row if row is not None else pl.lit(None, pl.Int64)).alias("row"),
        lit(field).alias("field"), lit(reason).alias("reason"),
    ).cast(EXCEPTION_SCHEMA)


def validate_day(day: DayFiles, as_of: dt.date, config: ValidationConfig = ValidationConfig(),
                 previous: PreviousDay | None = None, quality: QualityRecorder | None = None) -> ValidatedDay:
    """Every cross-file check; with ``quality``, the reconciliation frames also run through their
    Great Expectations suites; with ``previous``, day-over-day checks run too."""
    out: list[pl.DataFrame] = []
    f = day.firm
    seen = account_ids_seen(day)
    # The risk files' file-level checks first, so that what they set aside or find unusable is
    # reported below like any other firm file's problems.
    risk_files, reconciliation = check_risk_files(f)
    f.update(risk_files)
    securities, models, households = f["securities"].good, f["models"].good, f["households"].good
    accounts = day.combined("accounts")
    # An account id delivered by two custodians is ambiguous: every household claiming it is held.
    twice = accounts.filter(pl.len().over("account_id") > 1)
    out.append(_exc(twice, "error", pl.format("account {} is delivered by more than one custodian", "account_id"),
                    pl.col("_file"), pl.col(LINE), "account_id", pl.col("household_id")))
    account_household = accounts.select("account_id", "household_id").unique("account_id", keep="first", maintain_order=True)
    # Account rows set aside as bad still say whose they were (from their raw text).
    owner = pl.concat(
        [account_household] + [files["accounts"].bad_rows.select(pl.col("account_id", "household_id").str.strip_chars())
                               for files in day.custodians.values()], how="vertical_relaxed",
    ).unique("account_id", keep="first", maintain_order=True)
    all_households = f["households"].raw.select(pl.col("household_id").str.strip_chars()).drop_nulls().unique() \
        if f["households"].raw is not None else households.select("household_id")

    # 1. Row-level parse errors, attributed to households.
    for parsed in day.all_files():
        if parsed.errors.height == 0:
            continue
        errors = parsed.errors.join(parsed.bad_rows.select(pl.col(LINE).alias("row"), *[
            pl.col(c).str.strip_chars() for c in ("account_id", "household_id") if c in parsed.bad_rows.columns
        ]), on="row", how="left")
        if "household_id" not in errors.columns and "account_id" in errors.columns:
            errors = errors.join(owner, on="account_id", how="left")
        household = pl.col("household_id") if "household_id" in errors.columns else None
        reason = pl.format("{}: {} (value {})", pl.col("field"), pl.col("reason"), pl.col("value").fill_null("blank"))
        out.append(_exc(errors, "error", reason, pl.col("file"), pl.col("row"), pl.col("field"), household))
    for parsed in day.all_files():
        out += [_exc(ONE_ROW, "warning", w, parsed.label) for w in parsed.warnings]

    # An accounts file with no row while the custodian's other files have rows says nothing about
    # whose those rows are: the file is unusable, like a missing one.
    for cust, files in sorted(day.custodians.items()):
        acc = files.get("accounts")
        if acc is None or acc.file_error or acc.bad_rows.height or accounts.filter(
                pl.col("custodian_id").cast(pl.String) == cust).height:
            continue
        rows = sum(files[n].good.height + files[n].bad_rows.height for n in ("positions", "lots", "cash") if n in files)
        if rows:
            acc.file_error = f"it has no account row, yet the custodian's positions, lots and cash files have {rows:,} rows"

    # 2. Files that could not be used at all.
    rooted: list[pl.DataFrame] = []  # households an unusable or missing accounts file already holds
    for name, parsed in f.items():
        if parsed.file_error:
            out.append(_exc(all_households, "error", f"firm file unusable: {parsed.file_error}", parsed.label,
                            household=pl.col("household_id")))
            out.append(_exc(ONE_ROW, "error", f"firm file unusable: {parsed.file_error}", parsed.label))
    for cust, files in day.custodians.items():
        broken = [p for p in files.values() if p.file_error]
        if not broken:
            continue
        reason = "; ".join(p.file_error for p in broken)
        mine = accounts.filter(pl.col("custodian_id") == cust).select("household_id").unique()
        out.append(_exc(mine, "error", f"custodian {cust} file unusable: {reason}", broken[0].label,
                        household=pl.col("household_id")))
        if files["accounts"].file_error:
            # Today's accounts are unknown: yesterday's say whose accounts this custodian holds.
            if previous is not None:
                known = previous.accounts.filter(pl.col("custodian_id").cast(pl.String) == cust).select("household_id").unique()
                out.append(_exc(known, "error", f"custodian {cust} file unusable (its households as of {previous.as_of}): "
                                f"{reason}", files["accounts"].label, household=pl.col("household_id")))
                rooted.append(known)
            if previous is None or known.height == 0:
                # No earlier day says whose accounts this custodian holds: any household may be missing
                # accounts there, so none is solved on what may be part of its books.
                why = (f"custodian {cust}: accounts file unusable and no earlier validated day says whose accounts it "
                       f"holds, so any household may be missing accounts there: {reason}")
                out.append(_exc(all_households, "error", why, files["accounts"].label, household=pl.col("household_id")))
                out.append(_exc(ONE_ROW, "error", why, files["accounts"].label))
                rooted.append(all_households)

    # 2b. A custodian that delivered on the last validated day and sent nothing today: its households
    # are held (never solved on part of their books) and the run names it. A household with no account
    # in today's files at all has nothing to rebalance on: held too, with that reason.
    missing = sorted(set(previous.accounts["custodian_id"].cast(pl.String).drop_nulls().to_list()) - set(day.custodians)) \
        if previous is not None else []
    for cust in missing:
        theirs = previous.accounts.filter(pl.col("custodian_id").cast(pl.String) == cust).select("household_id").unique()
        reason = (f"custodian {cust} delivered no files for {as_of} (it did for {previous.as_of}): the accounts it "
                  "holds have no books today")
        out.append(_exc(theirs.sort("household_id"), "error", reason, f"custodians/{cust}", household=pl.col("household_id")))
        out.append(_exc(ONE_ROW, "error", reason, f"custodians/{cust}"))
        rooted.append(theirs)
    no_accounts = households.join(accounts.select("household_id").unique(), on="household_id", how="anti")
    if rooted:  # one root cause, one exception: those already held for it are not named again
        no_accounts = no_accounts.join(pl.concat([r.select("household_id") for r in rooted]).unique(),
                                       on="household_id", how="anti")
    out.append(_exc(no_accounts, "error", "no account of this household is in today's custodian files", f["households"].label,
                    pl.col(LINE) if LINE in no_accounts.columns else None, "household_id", pl.col("household_id")))

    # 3. Models: known securities and weights that sum to one.
    known_sec = securities.select("security_id")
    bad_model_rows = models.join(known_sec, on="security_id", how="anti").filter(pl.col("security_id") != CASH_SECURITY_ID)
    sums = models.group_by("model_id").agg(pl.col("target_weight").sum().alias("total"))
    broken_models = pl.concat([
        bad_model_rows.select("model_id", pl.format("model {} holds unknown security {}", "model_id", "security_id").alias("why")),
        sums.filter((pl.col("total") - 1).abs() > config.model_weight_tolerance)
            .select("model_id", pl.format("model {} weights sum to {}, not 1", "model_id", pl.col("total").round(8)).alias("why")),
    ])
    model_errors = f["models"].errors.join(f["models"].bad_rows.select(pl.col(LINE).alias("row"), pl.col("model_id").str.strip_chars()), on="row")
    broken_models = pl.concat([broken_models, model_errors.select(
        "model_id", pl.format("model {} has a bad row at firm/models.csv line {}", "model_id", "row").alias("why"))])
    on_broken = households.join(broken_models, on="model_id")
    out.append(_exc(on_broken, "error", pl.col("why"), "firm/models.csv", household=pl.col("household_id")))
    unknown_model = households.join(models.select("model_id").unique(), on="model_id", how="anti")
    out.append(_exc(unknown_model, "error", pl.format("unknown model {}", "model_id"), f["households"].label,
                    field="model_id", household=pl.col("household_id")))

    # 4. References between custodian files. An account the day cannot place holds the household the
    # last validated day said it was (never solved on part of its books); unplaceable, it is firm-level.
    was = previous.accounts.select("account_id", pl.col("household_id").alias("_was")).unique("account_id", keep="first") \
        if previous is not None else pl.DataFrame(schema={"account_id": pl.String, "_was": pl.String})
    unknown_hh = accounts.join(households.select("household_id"), on="household_id", how="anti") \
        .join(was, on="account_id", how="left")
    out.append(_exc(unknown_hh, "error", pl.format("account {}: unknown household {}", "account_id", "household_id"),
                    pl.col("_file"), pl.col(LINE), "household_id", pl.col("_was")))
    unplaced_custodians = [c for c, files in day.custodians.items() if files["accounts"].file_error]

    def owned(name: str) -> pl.DataFrame:
        """A custodian file's rows with their household; rows of unknown accounts are reported, one
        exception per file and account (with its row count), except where the custodian's accounts
        file is unusable (that one exception is their root cause)."""
        frame = day.combined(name)
        orphan = frame.join(account_household, on="account_id", how="anti").filter(
            ~pl.col("custodian_id").cast(pl.String).is_in(unplaced_custodians))
        per_account = orphan.group_by(pl.col("_file").cast(pl.String), "account_id").agg(
            pl.len().alias("_rows"), pl.col(LINE).min().alias("_first")).join(was, on="account_id", how="left") \
            .sort("_file", "account_id")
        out.append(_exc(per_account, "error", pl.format("unknown account {}: {} row(s) of this file, the first at line {}",
                                                        "account_id", "_rows", "_first"),
                        pl.col("_file"), pl.col("_first"), "account_id", pl.col("_was")))
        return frame.join(account_household, on="account_id")  # one copy at a time: lots are the firm's largest frame

    positions, lots, cash, txns = owned("positions"), owned("lots"), owned("cash"), owned("transactions")
    for frame, name in ((positions, "positions"), (lots, "lots")):
        unknown = frame.join(known_sec, on="security_id", how="anti")
        out.append(_exc(unknown, "error", pl.format("unknown security {}", "security_id"), pl.col("_file"), pl.col(LINE),
                        "security_id", pl.col("household_id")))
    for frame in (positions, lots, cash):
        other_day = frame.filter(pl.col("as_of_date") != as_of)
        out.append(_exc(other_day, "error", pl.format("file dated {}, run is for {}", "as_of_date", pl.lit(str(as_of))),
                        pl.col("_file"), pl.col(LINE), "as_of_date", pl.col("household_id")))
    future = lots.filter(pl.col("acquisition_date") > as_of)
    out.append(_exc(future, "error", pl.format("acquisition date {} is after the as-of date", "acquisition_date"),
                    pl.col("_file"), pl.col(LINE), "acquisition_date", pl.col("household_id")))

    # 5. Prices: the latest close on or before as-of, not stale, for everything held or modelled.
    prices = (f["prices"].good.filter(pl.col("price_date") <= as_of).sort("price_date", maintain_order=True)
              .group_by("security_id", maintain_order=True)  # in the file's order: staged alike in every process
              .agg(pl.col("price_date").last(), pl.col("close_usd").last()))
    held_secs = lots.select("household_id", "security_id", "_file", LINE)
    no_price = held_secs.join(prices, on="security_id", how="anti").join(known_sec, on="security_id")
    out.append(_exc(no_price, "error", pl.format("no price on or before {} for {}", pl.lit(str(as_of)), "security_id"),
                    pl.col("_file"), pl.col(LINE), "security_id", pl.col("household_id")))
    stale = held_secs.join(prices.filter(pl.col("price_date") < as_of - dt.timedelta(days=config.stale_price_days)),
                           on="security_id")
    out.append(_exc(stale, "error", pl.format("price of {} is stale (last close {})", "security_id", "price_date"),
                    pl.col("_file"), pl.col(LINE), "security_id", pl.col("household_id")))
    stale_before = as_of - dt.timedelta(days=config.stale_price_days)
    model_unpriced = (households.join(models.filter(pl.col("security_id") != CASH_SECURITY_ID), on="model_id")
                      .join(known_sec, on="security_id").join(prices, on="security_id", how="left")
                      .filter(pl.col("price_date").is_null() | (pl.col("price_date") < stale_before)))
    out.append(_exc(model_unpriced, "error", pl.format("model security {} has no current price (last close {})",
                                                       "security_id", pl.col("price_date").cast(pl.String).fill_null("none")),
                    "firm/prices.csv", None, "security_id", pl.col("household_id")))

    held_or_modelled = pl.concat([lots.select("security_id").unique(), models.filter(
        pl.col("security_id") != CASH_SECURITY_ID).select("security_id").unique()]).unique()
    reconciliation["prices_of_holdings"] = held_or_modelled.join(prices, on="security_id", how="left").select(
        "security_id", pl.col("security_id").is_in(known_sec["security_id"].implode()).alias("in_securities_master"),
        (pl.lit(as_of) - pl.col("price_date")).dt.total_days().alias("price_age_days"))

    # 6. Lots reconcile to positions; every account has cash; every household has an account.
    lot_qty = lots.group_by("account_id", "security_id").agg(pl.col("quantity_shares").sum().alias("lot_qty"))
    recon = positions.join(lot_qty, on=["account_id", "security_id"], how="full", coalesce=True).join(
        account_household.rename({"household_id": "hh"}), on="account_id", how="left")
    recon = recon.with_columns(pl.col("quantity_shares").fill_null(0.0), pl.col("lot_qty").fill_null(0.0))
    reconciliation["lots_vs_positions"] = recon.select(
        "account_id", "security_id", (pl.col("quantity_shares") - pl.col("lot_qty")).alias("difference_shares"))
    mismatch = recon.filter((pl.col("quantity_shares") - pl.col("lot_qty")).abs() > config.lot_position_tolerance_shares)
    out.append(_exc(mismatch, "error", pl.format("lots of {} in account {} sum to {} shares but the position is {}",
                                                 "security_id", "account_id", pl.col("lot_qty").round(6),
                                                 pl.col("quantity_shares").round(6)),
                    pl.col("_file").cast(pl.String).fill_null("lots"), pl.col(LINE), "quantity_shares", pl.col("hh")))
    cash_files = {c: files["cash"].label for c, files in day.custodians.items()}
    no_cash = accounts.join(cash.select("account_id"), on="account_id", how="anti")
    out.append(_exc(no_cash, "error", pl.format("account {} has no cash balance row", "account_id"),
                    pl.col("custodian_id").cast(pl.String).replace(cash_files), None, "account_id", pl.col("household_id")))
    reconciliation["cash_per_account"] = accounts.select(
        "account_id", pl.col("account_id").is_in(cash["account_id"].implode()).alias("has_cash_row"))
    no_accounts = households.join(accounts.select("household_id"), on="household_id", how="anti")
    out.append(_exc(no_accounts, "error", "household has no accounts in any custodian file", f["households"].label,
                    None, "household_id", pl.col("household_id")))
    sells_no_basis = txns.filter((pl.col("transaction_type") == "sell") & pl.col("cost_basis_usd").is_null())
    out.append(_exc(sells_no_basis, "warning", "sell without cost basis: treated as a loss for wash-sale windows",
                    pl.col("_file"), pl.col(LINE), "cost_basis_usd", pl.col("household_id")))

    # 7. Day over day: quantities move only by the transactions in between.
    if previous is not None:
        moves = day_over_day(previous, positions, txns, as_of)
        reconciliation["day_over_day"] = moves.select("account_id", "security_id", "unexplained_shares")
        odd = moves.filter(pl.col("unexplained_shares").abs() > config.lot_position_tolerance_shares)
        out.append(_exc(odd, config.unexplained_change_severity, pl.format(
            "{} in account {}: {} shares on {} and {} now, but the transactions since explain {}",
            "security_id", "account_id", pl.col("previous_shares").round(6), pl.lit(str(previous.as_of)),
            pl.col("quantity_shares").round(6), pl.col("transacted_shares").round(6)),
            pl.col("_file"), pl.col(LINE), "quantity_shares", pl.col("household_id")))
    # 8. Personal mandates (firm/mandates/): well-formed, about this household's accounts, free of conflicts.
    mandate_rows, mandate_problems = read_mandates(day.input_dir)
    risk = risk_model_frames(f)
    mandates, conflicts = check_mandates(mandate_rows, as_of, households, accounts, securities, prices, lots, models, cash,
                                         risk_model=risk is not None)
    if mandate_problems or conflicts:
        out.append(pl.DataFrame(mandate_problems + conflicts, schema=EXCEPTION_SCHEMA))
    # 9. The day's risk model: delivered or not (unusable files were reported in 2.), and what it does not cover.
    if not any(name in f for name in RISK_FILES):
        reason = ("no risk model for the day (no firm/risk_*.csv files): tracking error not controlled, households "
                  "solve on the drift penalties")
        out.append(_exc(ONE_ROW, config.missing_risk_model_severity, reason, "firm/risk_*.csv"))
        if config.missing_risk_model_severity == "error":
            out.append(_exc(all_households, "error", reason, "firm/risk_*.csv", household=pl.col("household_id")))
    if risk is not None:
        coverage, uncovered = risk_coverage(risk[2], securities, households, models, lots)
        reconciliation["risk_coverage"] = coverage
        out.append(_exc(uncovered, "warning", pl.col("why"), f["risk_specific"].label, None, "security_id",
                        pl.col("household_id")))
    if quality is not None:
        for name, frame in reconciliation.items():
            quality.validate(f"reconciliation/{name}", name, reconciliation_expectations(
                name, config.lot_position_tolerance_shares, config.stale_price_days), frame)
    del reconciliation

    exceptions = pl.concat([e for e in out if e.height], how="vertical_relaxed") if any(e.height for e in out) \
        else pl.DataFrame(schema=EXCEPTION_SCHEMA)
    exceptions = exceptions.unique(maintain_order=True).sort(
        "household_id", "file", "row", "field", "reason", nulls_last=True)
    held = exceptions.filter((pl.col("severity") == "error") & pl.col("household_id").is_not_null())["household_id"].unique().sort()
    loadings, covariance, specific = risk if risk is not None else (None, None, None)
    return ValidatedDay(as_of, securities, prices, models, households, accounts, positions, lots, txns, cash, exceptions, held,
                        mandates, loadings, covariance, specific, seen, tuple(missing))


def account_ids_seen(day: DayFiles) -> frozenset[str]:
    """Every account id in the custodian files' good rows and set-aside rows (stripped, as validated)."""
    ids: set[str] = set()
    for files in day.custodians.values():
        for parsed in files.values():
            for frame in (parsed.good, parsed.bad_rows):
                if frame is not None and "account_id" in frame.columns:
                    ids.update(frame["account_id"].cast(pl.String).str.strip_chars().drop_nulls().unique().to_list())
    ids.discard("")
    return frozenset(ids)


def risk_coverage(specific: pl.DataFrame, securities: pl.DataFrame, households: pl.DataFrame, models: pl.DataFrame,
                  lots: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(every held or model security known to the master, with ``in_risk_model``; one row per household
    × such security the model does not cover, with ``why``: the proxy it is priced with, as
    ``optimizer.risk.RiskModel.for_securities`` builds it)."""
    known = securities.select("security_id", "asset_class")
    covered = specific["security_id"].unique().implode()
    coverage = pl.concat([lots.select("security_id").unique(), models.select("security_id").unique()]).unique().join(
        known, on="security_id").sort("security_id").select(  # an unknown security is an error of its own (step 4)
        "security_id", pl.col("security_id").is_in(covered).alias("in_risk_model"))
    missing = coverage.filter(~pl.col("in_risk_model"))["security_id"].implode()
    # Households only for what is missing: at firm scale, lots × households is what must not be built whole.
    wanted = pl.concat([
        lots.filter(pl.col("security_id").is_in(missing)).select("household_id", "security_id"),
        households.select("household_id", "model_id").join(models.filter(pl.col("security_id").is_in(missing)),
                                                           on="model_id").select("household_id", "security_id"),
    ]).unique().join(known, on="security_id")
    classes_covered = known.filter(pl.col("security_id").is_in(covered))["asset_class"].unique().implode()
    uncovered = wanted.with_columns(
        pl.when(pl.col("asset_class").is_in(classes_covered))
        .then(pl.format("{} is not in the day's risk model: priced with a proxy, the mean loadings of the covered {} "
                        "securities and the largest specific volatility among them", "security_id", "asset_class"))
        .otherwise(pl.format("{} is not in the day's risk model and no {} security is: priced with a proxy, a loading "
                             "of 1 on the first (market) factor and a conservative specific volatility "
                             "(optimizer.risk.FALLBACK_SPECIFIC_VARIANCE)", "security_id", "asset_class"))
        .alias("why"))
    return coverage, uncovered


SIGNED_SHARES = {"buy": 1.0, "reinvested_dividend": 1.0, "transfer_in": 1.0, "sell": -1.0}


def day_over_day(previous: PreviousDay, positions: pl.DataFrame, txns: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Per account × security held on either day (accounts known on both days): the quantity then
    and now, the shares the transactions in between moved, and what is left unexplained."""
    both = previous.accounts.select("account_id", "household_id").join(
        positions.select("account_id").unique(), on="account_id")
    then = previous.positions.join(both, on="account_id").select(
        "account_id", "security_id", pl.col("quantity_shares").alias("previous_shares"))
    now = positions.join(both.select("account_id"), on="account_id").select(
        "account_id", "security_id", "quantity_shares", pl.col("_file").cast(pl.String), LINE)
    moved = (txns.filter((pl.col("trade_date") > previous.as_of) & (pl.col("trade_date") <= as_of)
                         & pl.col("transaction_type").is_in(list(SIGNED_SHARES)))
             .group_by("account_id", "security_id")
             .agg((pl.col("quantity_shares").fill_null(0.0)
                   * pl.col("transaction_type").replace_strict(SIGNED_SHARES, return_dtype=pl.Float64)).sum().alias("transacted_shares")))
    out = now.join(then, on=["account_id", "security_id"], how="full", coalesce=True).join(
        moved, on=["account_id", "security_id"], how="left")
    out = out.join(both, on="account_id", how="left").with_columns(
        pl.col("quantity_shares", "previous_shares", "transacted_shares").fill_null(0.0),
        pl.col("_file").fill_null("positions (position gone)"))
    return out.with_columns((pl.col("quantity_shares") - pl.col("previous_shares") - pl.col("transacted_shares"))
                            .alias("unexplained_shares"))
