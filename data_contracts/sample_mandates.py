"""Mandates for the generated sample firm: a few percent of households with each kind.

Drawn from their own random stream (the firm's seed + 1), so adding them changes none of the firm's
other files. Every mandate is one a desk would accept as written: conflict-free and satisfiable
from the household's own holdings (a never-hold or a screen only where a lot with a gain can be
sold; a hold-at-least below what is held; a glide path that starts from the model's own classes).
The same seed writes the same bytes in any process: every group_by and join keeps its row order, a
set is sorted before anything is drawn from it, and a file's keys come in a fixed order.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from data_contracts.mandates import MANDATE_DIR
from data_contracts.types import CASH_SECURITY_ID, TAXABLE_ACCOUNT_TYPES

KINDS = ("never_buy", "never_sell", "never_hold", "hold_at_least", "exclusion", "sector_cap", "asset_allocation",
         "glide_path", "cash_rules", "transition", "location", "product_preference", "trading", "tracking_error")
BONDS = ("us_aggregate_bonds", "treasury_inflation", "municipal_bonds", "high_yield_bonds")


def sample_mandates(frames: dict[str, pl.DataFrame], seed: int, as_of: dt.date, share: float) -> dict[str, dict]:
    """household_id → its mandate file (as a dict); each chosen household gets one kind."""
    rng = np.random.default_rng(seed + 1)
    households = frames["households"].sort("household_id")
    price = dict(frames["prices"].select("security_id", "close_usd").iter_rows())
    sec = frames["securities"]
    class_of = dict(sec.select("security_id", "asset_class").iter_rows())
    sector_of = dict(sec.select("security_id", "sector").iter_rows())
    tags_of = {s: set((t or "").split(";")) for s, t in sec.select("security_id", "tags").iter_rows()}
    lots = frames["lots"].join(frames["accounts"].select("account_id", "household_id"), on="account_id",
                               maintain_order="left").with_columns(
        (pl.col("quantity_shares") * pl.col("security_id").replace_strict(price, default=0.0)).alias("value_usd"))
    gain_lot = lots.filter((pl.col("value_usd") > pl.col("cost_basis_usd"))
                           & (pl.col("acquisition_date") < as_of - dt.timedelta(days=30)))
    by_household = {k[0]: v for k, v in lots.partition_by("household_id", as_dict=True).items()}
    gains = {k[0]: v for k, v in gain_lot.partition_by("household_id", as_dict=True).items()}
    models = {k[0]: v for k, v in frames["models"].partition_by("model_id", as_dict=True).items()}
    accounts = {k[0]: v for k, v in frames["accounts"].partition_by("household_id", as_dict=True).items()}
    cash = dict(frames["cash"].select("account_id", "cash_usd").iter_rows())
    since = (as_of - dt.timedelta(days=400)).isoformat()
    stocks = sec.filter(pl.col("security_type") == "stock")["security_id"].implode()
    sleeves = sorted(frames["models"].filter(pl.col("security_id").is_in(stocks))["model_id"].unique().to_list())

    out = {}
    for h, model_id in households.select("household_id", "model_id").iter_rows():
        draw = rng.random()
        if draw >= share * len(KINDS):
            continue
        kind = KINDS[int(draw / share)]
        held, sellable = by_household.get(h), gains.get(h)
        model = models[model_id].filter(pl.col("security_id") != CASH_SECURITY_ID)
        entry = _entry(kind, rng, held, sellable, model, accounts[h], cash, class_of, sector_of, tags_of, as_of, sleeves)
        if entry is not None:
            out[h] = {"household_id": h, "mandates": [entry | {"effective_from": since}]}
    return out


def _entry(kind, rng, held, sellable, model, accounts, cash, class_of, sector_of, tags_of, as_of, sleeves) -> dict | None:
    pick = lambda values: values[int(rng.integers(len(values)))]  # noqa: E731
    if kind == "tracking_error":  # tighter than the run's default 2 %: the mandate's cap is the one that binds
        return {"kind": "tracking_error", "max_tracking_error": 0.015, "reason": "client wants to stay close to the model"}
    if kind == "trading":
        return {"kind": "trading", "min_trade_usd": 250.0, "whole_shares": True, "reason": "client's custodian agreement"}
    if kind == "product_preference" and sleeves:  # an ETF household wants the stock sleeve; a direct-index one, an ETF
        if model["model_id"][0] in sleeves:
            return {"kind": "product_preference", "asset_class": "us_large_cap", "vehicle": "etf", "fund_family": "iShares"}
        return {"kind": "product_preference", "asset_class": "us_large_cap", "vehicle": "direct_index",
                "sleeve_model": sleeves[0]}
    if kind == "location":  # no bonds in taxable, where the household has an IRA to hold them
        kinds = set(accounts["account_type"].to_list())
        if kinds & set(TAXABLE_ACCOUNT_TYPES) and kinds - set(TAXABLE_ACCOUNT_TYPES):
            return {"kind": "location", "asset_classes": list(BONDS), "account_kinds": ["taxable"],
                    "reason": "bonds in the IRA"}
        return None
    if kind == "never_buy":
        return {"kind": "security_restriction", "security_id": pick(model["security_id"].to_list()), "rule": "never_buy",
                "reason": "client's request"}
    if held is None or held.height == 0:
        return None
    if kind == "never_sell":
        return {"kind": "security_restriction", "security_id": pick(sorted(set(held["security_id"]))), "rule": "never_sell",
                "reason": "gifted shares"}
    if kind == "never_hold" and sellable is not None and sellable.height:
        return {"kind": "security_restriction", "security_id": pick(sorted(set(sellable["security_id"]))),
                "rule": "never_hold", "sell_by": (as_of + dt.timedelta(days=365)).isoformat(), "reason": "employer"}
    if kind == "hold_at_least":
        value = held.group_by("security_id", maintain_order=True).agg(pl.col("value_usd").sum()).sort("security_id")
        s, v = value.row(int(rng.integers(value.height)))
        return {"kind": "hold_at_least", "security_id": s, "amount_usd": round(0.5 * v, 2)} if v > 0 else None
    if kind == "exclusion":
        fossil = {s for s in held["security_id"].to_list() if "fossil_fuel" in tags_of.get(s, set())}
        # Only where every fossil-fuel holding has a gain lot to sell first (never a wash-sale dead end).
        if fossil and sellable is not None and fossil <= set(sellable["security_id"]):
            return {"kind": "exclusion", "name": "fossil-fuel free", "tags": ["fossil_fuel"],
                    "sell_by": (as_of + dt.timedelta(days=365)).isoformat()}
        if not fossil:  # nothing screened is held (an ETF household): the screen keeps it from being bought
            return {"kind": "exclusion", "name": "values screen", "tags": ["tobacco", "weapons"], "rule": "gambling"}
        return None
    if kind == "sector_cap":  # an ETF household's cap binds no security it may hold, and is still enforced
        sectors = sorted({sector_of[s] for s in model["security_id"].to_list() if sector_of.get(s)}) or ["energy"]
        return {"kind": "sector_cap", "sector": pick(sectors), "max_weight": 0.25}
    if kind == "asset_allocation":
        classes = {class_of[s] for s in model["security_id"].to_list()}
        return {"kind": "asset_allocation", "weights": {"us_reits": 0.0}, "reason": "owns real estate"} \
            if "us_reits" in classes else None
    if kind == "glide_path":
        weights = model.with_columns(pl.col("security_id").replace_strict(class_of).alias("c")).group_by(
            "c", maintain_order=True).agg(pl.col("target_weight").sum()).sort("c")  # classes in name order, every process
        now = dict(weights.iter_rows())
        bonds = sum(w for c, w in now.items() if c in BONDS)
        equity = sum(w for c, w in now.items() if c not in BONDS)
        if bonds <= 0 or equity <= 0.2:
            return None
        end = {c: round(w * ((equity - 0.2) / equity if c not in BONDS else (bonds + 0.2) / bonds), 6) for c, w in now.items()}
        return {"kind": "glide_path", "start": (as_of - dt.timedelta(days=730)).isoformat(),
                "end": (as_of + dt.timedelta(days=2920)).isoformat(), "step": "annual",
                "start_weights": {c: round(w, 6) for c, w in now.items()}, "end_weights": end}
    if kind == "transition":  # a legacy portfolio: half a percent of its value in tax per quarter
        worth = float(held["value_usd"].sum())
        return {"kind": "transition", "period": "quarterly", "tax_budget_usd": round(0.005 * worth, 2),
                "turnover_budget": 0.25}
    if kind == "cash_rules":
        value = held.group_by("account_id", maintain_order=True).agg(pl.col("value_usd").sum()).sort(
            "value_usd", "account_id", descending=[True, False])  # a tie goes to the first account id, not to chance
        account, worth = value.row(0)
        worth += cash.get(account, 0.0)
        return {"kind": "cash_rules", "account_id": account, "min_usd": round(0.01 * worth, 2),
                "scheduled_withdrawals": [{"date": (as_of + dt.timedelta(days=20)).isoformat(),
                                           "amount_usd": round(0.02 * worth, 2)}]}
    return None


def write_mandates(files: dict[str, dict], out: Path) -> int:
    """One YAML file per household under ``firm/mandates/``; returns the entries written."""
    folder = Path(out) / MANDATE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for h, content in files.items():
        (folder / f"{h}.yaml").write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return sum(len(c["mandates"]) for c in files.values())
