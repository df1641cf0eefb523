"""The trading desk's files, from the run's trades (pure: polars only).

- **block trades**: one order per security and side across every account; **allocations** give
  each account its pro-rata share of every fill (account quantity ÷ block quantity).
- **pre-trade checks**, recomputed from the trade rows themselves and the day's validated data,
  independently of the optimizer's own verification: each account's cash after its trades stays
  at or above its minimum; no sell exceeds the shares its lots hold; no buy of a security (or of
  its substantially identical group) sold at a loss in the last 30 days, and no loss sale of one
  bought in the last 30 days or in this run, in any account of the household, IRAs included — save
  a lot held more than 30 days sold as a partial wash sale whose stated disallowed loss is the one
  Publication 550 gives (recomputed from the day's lots and transactions); no
  buy or sale of a security a mandate in force forbids (data_contracts.mandates).
- **review queue**: one row per household that needs a human, most urgent first: held back by bad
  input (100), a failed pre-trade check (95), infeasible or failed verification (90), solved only
  after relaxing a soft limit (60), large realized gains (50), large turnover on a large household
  (45), input warnings (30).

Quantities are compared as the files show them (6 decimals); amounts use the unrounded
quantity × price, as the optimizer's verification does, within its cash tolerance.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from data_contracts.config import RunConfig
from data_contracts.mandate_rules import located, screened
from data_contracts.validation import ValidatedDay
from optimizer.verify import CASH_TOLERANCE_USD
from tasks.problems import WASH_WINDOW_DAYS, recent_bought_shares, wash_sale_windows

SHARE_TOLERANCE = 1e-6


def block_trades(trades: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(block_trades, allocations)."""
    t = trades.with_columns(pl.col("quantity_shares").round(6).alias("q"),
                            pl.format("{}-{}", "security_id", "side").alias("block_id")).filter(pl.col("q") > 0)
    blocks = t.group_by("block_id", "security_id", "side").agg(
        pl.col("q").sum().alias("quantity_shares"), pl.col("est_price_usd").first(),
        (pl.col("q") * pl.col("est_price_usd")).round(2).sum().alias("est_amount_usd"),
        pl.col("account_id").n_unique().cast(pl.Int64).alias("accounts")).sort("block_id")
    allocations = t.join(blocks.select("block_id", pl.col("quantity_shares").alias("block_q")), on="block_id").select(
        "block_id", "household_id", "account_id", "custodian_id", pl.col("q").alias("quantity_shares"),
        (pl.col("q") / pl.col("block_q")).alias("allocation_fraction")).sort("block_id", "account_id")
    return blocks, allocations


def _check(frame: pl.DataFrame, check: str, failed: pl.Expr, detail: pl.Expr) -> pl.DataFrame:
    return frame.select("household_id", "account_id", pl.lit(check).alias("check"),
                        pl.when(failed).then(pl.lit("fail")).otherwise(pl.lit("pass")).alias("status"), detail.alias("detail"))


def pre_trade_checks(trades: pl.DataFrame, lot_sales: pl.DataFrame, day: ValidatedDay) -> pl.DataFrame:
    amount = pl.col("quantity_shares") * pl.col("est_price_usd")
    per_account = trades.group_by("household_id", "account_id").agg(
        amount.filter(pl.col("side") == "sell").sum().alias("sells"), amount.filter(pl.col("side") == "buy").sum().alias("buys"))
    cash = per_account.join(day.cash.select("account_id", "cash_usd"), on="account_id", how="left").join(
        day.accounts.select("account_id", "min_cash_usd"), on="account_id", how="left").with_columns(
        pl.col("cash_usd").fill_null(0.0), pl.col("min_cash_usd").fill_null(0.0),
        (pl.col("cash_usd").fill_null(0.0) + pl.col("sells") - pl.col("buys")).alias("after"))
    cash_rows = _check(cash, "cash", pl.col("after") < pl.col("min_cash_usd") - CASH_TOLERANCE_USD, pl.format(
        "cash {} + sells {} − buys {} = {} (minimum {})", *(pl.col(c).round(2) for c in
                                                             ("cash_usd", "sells", "buys", "after", "min_cash_usd"))))

    held = day.lots.group_by("account_id", "security_id").agg(pl.col("quantity_shares").sum().alias("held"))
    lot_qty = day.lots.select("lot_id", pl.col("quantity_shares").alias("lot_held"))
    by_lot = lot_sales.join(lot_qty, on="lot_id", how="left").group_by("account_id").agg(
        (pl.col("quantity_shares").round(6) > pl.col("lot_held").fill_null(0.0) + SHARE_TOLERANCE).sum().alias("bad_lots"))
    sells = trades.filter(pl.col("side") == "sell").join(held, on=["account_id", "security_id"], how="left").with_columns(
        pl.col("held").fill_null(0.0)).group_by("household_id", "account_id").agg(
        (pl.col("quantity_shares").round(6) > pl.col("held") + SHARE_TOLERANCE).sum().alias("oversold"),
        pl.len().alias("sells")).join(by_lot, on="account_id", how="left").with_columns(pl.col("bad_lots").fill_null(0))
    lot_rows = _check(sells, "lot_availability", (pl.col("oversold") + pl.col("bad_lots")) > 0, pl.format(
        "{} sells: {} exceed the shares held, {} lot sales exceed their lot", "sells", "oversold", "bad_lots"))

    group = day.securities.select("security_id", pl.coalesce("identical_group", "security_id").alias("group"))
    loss_sold, bought = wash_sale_windows(day)
    t = trades.join(group, on="security_id", how="left").with_columns(pl.coalesce("group", "security_id").alias("group"))
    run_buys = t.filter(pl.col("side") == "buy").select("household_id", "group").unique()
    bad_buys = t.filter(pl.col("side") == "buy").join(loss_sold, on=["household_id", "group"], how="semi")
    # A loss as the file shows it (cents): a break-even lot's float noise is not a loss sale.
    losses = lot_sales.filter(pl.col("taxable") & (pl.col("gain_usd").round(2) < 0)).join(group, on="security_id", how="left").with_columns(
        pl.coalesce("group", "security_id").alias("group"))
    bad_losses = losses.join(pl.concat([bought, run_buys]).unique(), on=["household_id", "group"], how="semi")
    # A lot held more than 30 days may be sold as a partial wash sale: it passes when the loss it states
    # disallowed is what Publication 550 disallows, recomputed here from the day's files.
    partial = _partial_wash_rows(bad_losses, day, t, group)
    bad_losses = bad_losses.join(partial.filter(pl.col("agrees")), on="lot_id", how="anti")
    flagged = pl.concat([bad_buys.select("account_id", pl.format("buy of {} within 30 days of a loss sale", "security_id").alias("why")),
                         bad_losses.select("account_id", pl.format("loss sale of lot {} ({}) within 30 days of a buy", "lot_id",
                                                                   "security_id").alias("why")),
                         partial.filter(~pl.col("agrees")).select("account_id", pl.format(
                             "lot {} ({}) states ${} of its loss washed, Publication 550 disallows ${}", "lot_id",
                             "security_id", pl.col("wash_disallowed_usd").round(2), pl.col("expected_usd").round(2))
                             .alias("why"))])
    flagged = flagged.group_by("account_id").agg(pl.col("why").str.join("; "))
    wash = per_account.join(flagged, on="account_id", how="left")
    wash_rows = _check(wash, "wash_sale_window", pl.col("why").is_not_null(),
                       pl.col("why").fill_null("no buy within 30 days of a loss sale, no loss sale within 30 days of a buy"))
    return pl.concat([cash_rows, lot_rows, wash_rows, _restriction_rows(trades, day, per_account)]).sort(
        "household_id", "account_id", "check")


def _partial_wash_rows(losses: pl.DataFrame, day: ValidatedDay, run_trades: pl.DataFrame,
                       group: pl.DataFrame) -> pl.DataFrame:
    """Loss sales of lots held more than 30 days in groups bought within the last 30 days (not by
    this run), with the loss a partial wash sale disallows: the group's replacement shares R (its
    lots acquired in the window; not known — the whole loss — when the transactions show more
    bought, or one states no quantity) matched to the sold shares in the order they were acquired,
    then lot id (Treas. Reg. §1.1091-1). Columns: the sale's, expected_usd, agrees (within a cent)."""
    since = day.as_of - dt.timedelta(days=WASH_WINDOW_DAYS)
    run_groups = run_trades.filter(pl.col("side") == "buy").select("household_id", "group").unique()
    old = losses.filter(pl.col("acquisition_date") < since).join(run_groups, on=["household_id", "group"], how="anti")
    lot_shares = day.lots.filter(pl.col("acquisition_date") >= since).join(group, on="security_id", how="left").group_by(
        "household_id", pl.coalesce("group", "security_id").alias("group")).agg(pl.col("quantity_shares").sum().alias("lot_r"))
    tx_shares = recent_bought_shares(day).join(group, on="security_id", how="left").group_by(
        "household_id", pl.coalesce("group", "security_id").alias("group")).agg(
        pl.when(pl.col("shares").is_nan().any()).then(float("inf")).otherwise(pl.col("shares").sum()).alias("tx_r"))
    lot_r, tx_r = pl.col("lot_r").fill_null(0.0), pl.col("tx_r").fill_null(0.0)
    r = lot_shares.join(tx_shares, on=["household_id", "group"], how="full", coalesce=True).select(
        "household_id", "group", pl.when(tx_r > lot_r * (1 + 1e-9) + 1e-9).then(float("inf")).otherwise(lot_r).alias("r"))
    ordered = old.join(r, on=["household_id", "group"], how="left").with_columns(pl.col("r").fill_null(0.0)).sort(
        "household_id", "group", "acquisition_date", "lot_id")
    before = pl.col("quantity_shares").cum_sum().over("household_id", "group") - pl.col("quantity_shares")
    matched = pl.min_horizontal(pl.max_horizontal(pl.col("r") - before, pl.lit(0.0)), pl.col("quantity_shares"))
    return ordered.with_columns(
        (matched * -pl.col("gain_usd") / pl.col("quantity_shares")).alias("expected_usd")).with_columns(
        ((pl.col("expected_usd") - pl.col("wash_disallowed_usd")).abs() <= 0.01).fill_null(False).alias("agrees"))


RESTRICTED_SIDE = {"never_buy": "buy", "never_hold": "buy", "never_sell": "sell"}  # never_trade: both sides


def _restriction_rows(trades: pl.DataFrame, day: ValidatedDay, per_account: pl.DataFrame) -> pl.DataFrame:
    """Per account: no trade of a security a mandate in force forbids on that side (household-wide
    mandates apply to every account of the household; a screen forbids buying what it matches)."""
    rules = located(screened(day.mandates, day.securities), day.accounts, day.securities).filter(
        pl.col("rule").is_in(["never_buy", "never_sell", "never_trade", "never_hold"])).with_columns(
        pl.col("rule").replace_strict(RESTRICTED_SIDE, default=None).alias("only_side"))
    t = trades.select("household_id", "account_id", "security_id", "side")
    broken = pl.concat([
        t.join(rules.filter(pl.col("account_id").is_null()).drop("account_id"), on=["household_id", "security_id"]),
        t.join(rules.filter(pl.col("account_id").is_not_null()), on=["household_id", "account_id", "security_id"]),
    ], how="diagonal_relaxed").filter(pl.col("only_side").is_null() | (pl.col("only_side") == pl.col("side")))
    why = broken.group_by("account_id").agg(
        pl.format("{} of {} breaks {} ({})", "side", "security_id", "rule", "source").unique().sort().str.join("; ").alias("why"))
    rows = per_account.join(why, on="account_id", how="left")
    return _check(rows, "restricted_securities", pl.col("why").is_not_null(),
                  pl.col("why").fill_null("no trade of a security its mandates forbid"))


# Review priorities (100 = most urgent) and what each means, most urgent first.
HELD, PRE_TRADE, NO_TRADES, RELAXED, LARGE_TAX, LARGE_TURNOVER, INPUT_WARNING = 100, 95, 90, 60, 50, 45, 30
REVIEW_REASONS = {
    HELD: "held: bad input",
    PRE_TRADE: "failed a pre-trade check",
    NO_TRADES: "infeasible or failed verification",
    RELAXED: "solved after relaxing a soft limit",
    LARGE_TAX: "large realized gains",
    LARGE_TURNOVER: "large turnover on a large household",
    INPUT_WARNING: "input warning",
}


def review_reasons(outputs: dict[str, pl.DataFrame], checks: pl.DataFrame, config: RunConfig) -> pl.DataFrame:
    """Every reason a household needs a look: household_id, priority (REVIEW_REASONS), why."""
    exc = outputs["exceptions"].filter(pl.col("household_id").is_not_null())
    value = outputs["drift"].select("household_id", "total_value_usd")
    trades = outputs["trades"]
    turnover = trades.group_by("household_id").agg((pl.col("quantity_shares") * pl.col("est_price_usd")).sum().alias("traded")) \
        .join(value, on="household_id").with_columns((pl.col("traded") / pl.col("total_value_usd")).alias("turnover"))
    return pl.concat([
        exc.filter((pl.col("stage") == "validate") & (pl.col("severity") == "error"))
           .select("household_id", pl.lit(HELD).alias("priority"), pl.format("held (bad input): {}", "reason").alias("why")),
        checks.filter(pl.col("status") == "fail")
              .select("household_id", pl.lit(PRE_TRADE).alias("priority"), pl.format("pre-trade {} failed: {}", "check", "detail").alias("why")),
        exc.filter((pl.col("stage") != "validate") & (pl.col("severity") == "error"))
           .select("household_id", pl.lit(NO_TRADES).alias("priority"), pl.format("no trades ({}): {}", "stage", "reason").alias("why")),
        exc.filter((pl.col("stage") != "validate") & (pl.col("severity") == "warning"))
           .select("household_id", pl.lit(RELAXED).alias("priority"), pl.format("{}", "reason").alias("why")),
        outputs["realized_gains_by_household"].filter(pl.col("est_tax_usd") >= config.review_tax_usd)
           .select("household_id", pl.lit(LARGE_TAX).alias("priority"),
                   pl.format("large realized gains: estimated tax this run adds ${}", pl.col("est_tax_usd").round(2)).alias("why")),
        turnover.filter((pl.col("turnover") >= config.review_turnover) & (pl.col("total_value_usd") >= config.review_value_usd))
           .select("household_id", pl.lit(LARGE_TURNOVER).alias("priority"), pl.format(
               "turnover {}% of ${}", (pl.col("turnover") * 100).round(1), pl.col("total_value_usd").round(2)).alias("why")),
        exc.filter((pl.col("stage") == "validate") & (pl.col("severity") == "warning"))
           .select("household_id", pl.lit(INPUT_WARNING).alias("priority"), pl.format("input warning: {}", "reason").alias("why")),
    ]).unique(maintain_order=True)


def custodian_values(day: ValidatedDay) -> pl.DataFrame:
    """household_id, total_value_usd by the custodians' own figures (positions' market value plus cash)
    of the rows that validated: what a held household, which has no solve to value it, is worth."""
    positions = day.positions.group_by("household_id").agg(pl.col("market_value_usd").sum().alias("p"))
    cash = day.cash.group_by("household_id").agg(pl.col("cash_usd").sum().alias("c"))
    return positions.join(cash, on="household_id", how="full", coalesce=True).select(
        "household_id", (pl.col("p").fill_null(0.0) + pl.col("c").fill_null(0.0)).alias("total_value_usd"))


def review_queue(outputs: dict[str, pl.DataFrame], checks: pl.DataFrame, config: RunConfig,
                 held_values: pl.DataFrame | None = None) -> pl.DataFrame:
    """Households for a human, most urgent first, then largest first. A solved household's value is its
    solve's; a held one's, the custodians' figures of what validated (``custodian_values``)."""
    reasons = review_reasons(outputs, checks, config)
    value = outputs["drift"].select("household_id", "total_value_usd")
    if held_values is not None:
        value = pl.concat([value, held_values.join(value.select("household_id"), on="household_id", how="anti")
                           .select(value.columns)], how="vertical_relaxed")
    queue = (reasons.sort("priority", descending=True, maintain_order=True)
             .group_by("household_id", maintain_order=True)
             .agg(pl.col("priority").max(), pl.col("why").head(5).str.join("; "), pl.len().alias("n"))
             .with_columns(pl.when(pl.col("n") > 5).then(pl.format("{} (+{} more)", "why", pl.col("n") - 5))
                           .otherwise(pl.col("why")).alias("reasons"))
             .join(value, on="household_id", how="left")
             .sort(["priority", "total_value_usd", "household_id"], descending=[True, True, False], nulls_last=True))
    return queue.with_row_index("rank", offset=1).select(pl.col("rank").cast(pl.Int64), "household_id",
                                                         pl.col("priority").cast(pl.Int64), "total_value_usd", "reasons")


def desk_frames(outputs: dict[str, pl.DataFrame], day: ValidatedDay, config: RunConfig) -> dict[str, pl.DataFrame]:
    """block_trades, allocations, pre_trade_checks and review_queue (needs outputs' exceptions)."""
    blocks, allocations = block_trades(outputs["trades"])
    checks = pre_trade_checks(outputs["trades"], outputs["lot_sales"], day)
    return {"block_trades": blocks, "allocations": allocations, "pre_trade_checks": checks,
            "review_queue": review_queue(outputs, checks, config, custodian_values(day))}
