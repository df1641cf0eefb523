"""A generated sample firm: one business day of files in the canonical layout, its risk model
(``data_contracts.sample_risk``) and mandates (``data_contracts.sample_mandates``) included.

Deterministic (the same seed gives the same bytes, in any process: tests/test_sample_firm.py) and
vectorized: a household is never a Python loop iteration, so 100,000 households (about 250,000
accounts and 20 million lots) are written in well under two minutes. The default mix is the firm
every benchmark uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from data_contracts.custodian_layout import LAYOUT_FILE, CustodianLayout, from_canonical, load_layout
from data_contracts.sample_mandates import sample_mandates, write_mandates
from data_contracts.sample_risk import sample_risk_model
from data_contracts.types import CASH_SECURITY_ID

CUSTODIANS = ("alder", "birch", "cedar")
FIRM_FILE_NAMES = ("securities", "prices", "models", "households", "risk_loadings", "risk_factor_covariance", "risk_specific")

# asset class -> (ETF tickers: primary first, annual drift, annual volatility)
ASSET_CLASSES: dict[str, tuple[tuple[str, ...], float, float]] = {
    "us_large_cap": (("VTI", "ITOT", "SCHB"), 0.08, 0.17),
    "us_small_cap": (("VB", "IJR"), 0.07, 0.22),
    "intl_developed": (("VEA", "IEFA"), 0.05, 0.16),
    "emerging_markets": (("VWO", "IEMG"), 0.04, 0.21),
    "us_aggregate_bonds": (("BND", "AGG"), 0.01, 0.06),
    "treasury_inflation": (("VTIP", "SCHP"), 0.015, 0.04),
    "municipal_bonds": (("MUB", "VTEB"), 0.01, 0.05),
    "high_yield_bonds": (("HYG", "JNK"), 0.03, 0.09),
    "us_reits": (("VNQ", "SCHH"), 0.04, 0.20),
    "commodities": (("GSG", "DBC"), 0.02, 0.18),
}
# Fund families of the sample ETFs (for product preferences)
FUND_FAMILY = {"Vanguard": ("VTI", "VB", "VEA", "VWO", "BND", "VTIP", "VTEB", "VNQ"),
               "iShares": ("ITOT", "IJR", "IEFA", "IEMG", "AGG", "MUB", "HYG", "GSG"),
               "Schwab": ("SCHB", "SCHP", "SCHH"), "SPDR": ("JNK",), "Invesco": ("DBC",)}
FAMILY_OF = {t: family for family, tickers in FUND_FAMILY.items() for t in tickers}
EQUITY = ["us_large_cap", "us_small_cap", "intl_developed", "emerging_markets", "us_reits", "commodities"]
BONDS = ["us_aggregate_bonds", "treasury_inflation", "municipal_bonds", "high_yield_bonds"]
SECTORS = {
    "information_technology": ("software", "semiconductors", "hardware"),
    "health_care": ("pharmaceuticals", "biotechnology", "health_care_equipment"),
    "financials": ("banks", "insurance", "capital_markets"),
    "consumer_discretionary": ("retail", "automobiles", "hotels_restaurants"),
    "communication_services": ("media", "telecom", "interactive_media"),
    "industrials": ("aerospace_defense", "machinery", "transportation"),
    "consumer_staples": ("food_beverage", "household_products", "tobacco"),
    "energy": ("oil_gas", "energy_equipment"),
    "utilities": ("electric_utilities", "gas_utilities"),
    "real_estate": ("reits_equity", "real_estate_services"),
    "materials": ("chemicals", "metals_mining"),
}
# equity share of each ETF model; the direct-index model is 'growth' with large caps as a stock sleeve
MODELS = {"conservative": 0.30, "moderate": 0.50, "growth": 0.70, "aggressive": 0.90}
DIRECT_INDEX_MODEL = "growth_direct_index"
CASH_TARGET = 0.01


@dataclass(frozen=True)
class FirmMix:
    """The default mix is the benchmark firm: ~2.5 accounts and ~200 lots per household."""

    direct_index_share: float = 0.20
    direct_index_stocks: int = 150
    stock_lots_per_position: float = 3.2  # mean lots per direct-index stock position in a taxable account
    mean_accounts: float = 2.5
    recent_lot_share: float = 0.03  # lots bought within the last 30 days
    loss_sale_share: float = 0.15  # taxable accounts with a sale at a loss in the last 60 days
    mandate_share: float = 0.02  # households with each kind of mandate (data_contracts.sample_mandates)


def _tickers(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    out: list[str] = []
    while len(out) < n:
        t = "".join(rng.choice(letters, size=int(rng.integers(3, 5))))
        if t not in taken and t != CASH_SECURITY_ID:
            taken.add(t)
            out.append(t)
    return out


def securities_master(rng: np.random.Generator, mix: FirmMix) -> pl.DataFrame:
    rows = []
    for cls, (tickers, _, _) in ASSET_CLASSES.items():
        for i, t in enumerate(tickers):  # each ETF's substitute: the next ETF of its class
            rows.append(dict(security_id=t, name=f"{t} {cls.replace('_', ' ')} ETF", security_type="etf", asset_class=cls,
                             fund_family=FAMILY_OF[t], substitute_id=tickers[(i + 1) % len(tickers)]))
    stocks = _tickers(rng, mix.direct_index_stocks, {r["security_id"] for r in rows})
    sector_names = list(SECTORS)
    tag_pool = np.array(["esg_leader", "fossil_fuel", "tobacco", "weapons", "gambling", "alcohol"])
    for i, t in enumerate(stocks):
        sector = sector_names[i % len(sector_names)]
        industry = SECTORS[sector][int(rng.integers(len(SECTORS[sector])))]
        tags = [str(x) for x in tag_pool[rng.random(len(tag_pool)) < [0.3, 0.06, 0.03, 0.03, 0.02, 0.03]]]
        if sector == "energy" and "fossil_fuel" not in tags:
            tags.append("fossil_fuel")
        rows.append(dict(
            security_id=t, name=f"{t} Corp", security_type="stock", asset_class="us_large_cap", sector=sector,
            industry=industry, tags=";".join(tags) or None, beta=round(float(rng.normal(1.0, 0.25)), 4),
            size=round(float(rng.normal(0, 1)), 4), value=round(float(rng.normal(0, 1)), 4),
            momentum=round(float(rng.normal(0, 1)), 4),
        ))
    # A stock's substitute: the next stock of its industry, or the large-cap ETF when it is alone.
    by_industry: dict[str, list[str]] = {}
    for r in rows:
        if r["security_type"] == "stock":
            by_industry.setdefault(r["industry"], []).append(r["security_id"])
    for r in rows:
        if r["security_type"] == "stock":
            peers = by_industry[r["industry"]]
            r["substitute_id"] = peers[(peers.index(r["security_id"]) + 1) % len(peers)] if len(peers) > 1 else "VTI"
            r["substitute_cost"] = 0.006  # a single stock tracks another worse than one ETF tracks its twin
    schema = {"security_id": pl.String, "name": pl.String, "security_type": pl.String, "asset_class": pl.String,
              "fund_family": pl.String, "sector": pl.String, "industry": pl.String, "tags": pl.String, "identical_group": pl.String,
              "substitute_id": pl.String, "substitute_cost": pl.Float64,
              "beta": pl.Float64, "size": pl.Float64, "value": pl.Float64, "momentum": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def firm_models(securities: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Each model: equity share split over equity classes, bonds over bond classes, 1 % cash."""
    eq_split = np.array([0.45, 0.10, 0.20, 0.10, 0.10, 0.05])
    bond_split = np.array([0.55, 0.15, 0.15, 0.15])
    stocks = securities.filter(pl.col("security_type") == "stock")
    cap = rng.lognormal(0, 1.0, stocks.height)
    cap_weight = cap / cap.sum()
    rows = []

    def add(model: str, equity: float, direct: bool) -> None:
        invest = 1 - CASH_TARGET
        for cls, w in zip(EQUITY, eq_split):
            weight = invest * equity * w
            if direct and cls == "us_large_cap":
                rows.extend((model, s, weight * cw) for s, cw in zip(stocks["security_id"], cap_weight))
            else:
                rows.append((model, ASSET_CLASSES[cls][0][0], weight))
        rows.extend((model, ASSET_CLASSES[cls][0][0], invest * (1 - equity) * w) for cls, w in zip(BONDS, bond_split))
        rows.append((model, CASH_SECURITY_ID, CASH_TARGET))

    for name, equity in MODELS.items():
        add(name, equity, False)
    add(DIRECT_INDEX_MODEL, MODELS["growth"], True)
    return pl.DataFrame(rows, schema=["model_id", "security_id", "target_weight"], orient="row")


def _ids(prefix: str, n: int, width: int) -> pl.Series:
    """'H0000001'-style identifiers, built by polars (no Python string per row)."""
    return pl.select((pl.lit(prefix) + pl.int_range(n, dtype=pl.Int64).cast(pl.String).str.zfill(width)).alias("id")).to_series()


def _groups_dirichlet(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """Random positive weights summing to 1 within each consecutive group of the given sizes."""
    w = rng.exponential(1.0, counts.sum())
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return w / np.repeat(np.add.reduceat(w, starts), counts)


def generate(households: int, seed: int, as_of: dt.date, mix: FirmMix = FirmMix()) -> dict[str, pl.DataFrame]:
    """All files of the sample firm as frames: firm-level and firm-wide custodian frames."""
    rng = np.random.default_rng(seed)
    securities = securities_master(rng, mix)
    models = firm_models(securities, rng)
    sec_ids = securities["security_id"].to_numpy()
    sec_index = {s: i for i, s in enumerate(sec_ids)}
    is_stock = (securities["security_type"] == "stock").to_numpy()
    cls_of = securities["asset_class"].to_numpy()
    drift_of = np.array([ASSET_CLASSES[c][1] for c in cls_of])
    vol_of = np.array([ASSET_CLASSES[c][2] for c in cls_of]) * np.where(is_stock, 1.6, 1.0)
    price = np.round(np.where(is_stock, rng.lognormal(4.5, 0.8, len(sec_ids)), rng.uniform(25, 350, len(sec_ids))), 2)
    price = np.maximum(price, 1.0)
    as_of64 = np.datetime64(as_of, "D")

    # ---- households and tax profiles
    H = households
    hh_ids = _ids("H", H, 7)
    direct = rng.random(H) < mix.direct_index_share
    etf_models = np.array(list(MODELS))
    model = np.where(direct, DIRECT_INDEX_MODEL, etf_models[rng.integers(0, len(etf_models), H)])
    value = rng.lognormal(np.log(np.where(direct, 1_500_000, 400_000)), 0.8)
    fed = rng.choice([0.22, 0.24, 0.32, 0.35, 0.37], H, p=[0.15, 0.3, 0.25, 0.15, 0.15])
    ltcg = np.where(fed >= 0.35, 0.20, 0.15)
    filing = rng.choice(["married_joint", "single", "married_separate", "head_of_household"], H, p=[0.6, 0.3, 0.04, 0.06])
    carry = rng.random(H) < 0.1
    hh = pl.DataFrame({
        "household_id": hh_ids, "model_id": model, "filing_status": filing,
        "federal_ordinary_rate": fed, "federal_ltcg_rate": ltcg,
        "state_rate": np.round(rng.choice([0.0, 0.0307, 0.05, 0.0685, 0.093, 0.133], H), 4),
        "niit_applies": fed >= 0.32,
        "ytd_realized_st_gain_usd": np.round(rng.normal(2_000, 15_000, H), 2),
        "ytd_realized_lt_gain_usd": np.round(rng.normal(10_000, 30_000, H), 2),
        "st_loss_carryforward_usd": np.round(np.where(carry, rng.exponential(20_000, H), 0.0), 2),
        "lt_loss_carryforward_usd": np.round(np.where(carry, rng.exponential(30_000, H), 0.0), 2),
    })

    # ---- accounts: the first is taxable; the others taxable, traditional or Roth IRA
    n_acc = np.clip(rng.poisson(mix.mean_accounts - 1, H) + 1, 1, 4)
    acc_hh = np.repeat(np.arange(H), n_acc)
    first = np.concatenate([[True], acc_hh[1:] != acc_hh[:-1]]) if len(acc_hh) else np.zeros(0, bool)
    kinds = np.array(["taxable_individual", "taxable_joint", "trust", "traditional_ira", "roth_ira"])
    acc_type = np.where(first, kinds[rng.choice(3, len(acc_hh), p=[0.5, 0.4, 0.1])],
                        kinds[rng.choice(5, len(acc_hh), p=[0.1, 0.05, 0.05, 0.5, 0.3])])
    taxable = np.isin(acc_type, kinds[:3])
    acc_value = value[acc_hh] * _groups_dirichlet(rng, n_acc)
    A = len(acc_hh)
    acc_ids = _ids("A", A, 8)
    custodian = np.array(CUSTODIANS)[rng.choice(len(CUSTODIANS), A, p=[0.5, 0.3, 0.2])]
    cash_share = np.where(rng.random(A) < 0.05, rng.uniform(0.05, 0.3, A), rng.uniform(0.0, 0.03, A))
    cash = np.round(acc_value * cash_share, 2)
    min_cash = np.round(np.where(rng.random(A) < 0.7, 0.0, np.minimum(acc_value * 0.005, 5_000)), 2)

    # ---- positions: by template (model × account kind), each account holding the template with noise
    model_ids = models["model_id"].to_numpy()
    model_sec = np.array([sec_index.get(s, -1) for s in models["security_id"]])
    model_w = models["target_weight"].to_numpy()
    pos_acc, pos_sec, pos_val = [], [], []
    acc_model = model[acc_hh]
    for m in np.unique(acc_model):
        for kind_taxable in (True, False):
            accs = np.flatnonzero((acc_model == m) & (taxable == kind_taxable))
            if not len(accs):
                continue
            sel = (model_ids == m) & (model_sec >= 0)
            secs, w = model_sec[sel], model_w[sel]
            if m == DIRECT_INDEX_MODEL and not kind_taxable:  # IRAs hold the large-cap ETF, not the stocks
                st = is_stock[secs]
                secs = np.concatenate([secs[~st], [sec_index["VTI"]]])
                w = np.concatenate([w[~st], [w[st].sum()]])
            k = len(secs)
            noisy = np.tile(w, len(accs)) * rng.lognormal(0, 0.25, k * len(accs))
            noisy *= rng.random(k * len(accs)) > 0.05  # a few positions missing: drift to fix
            grid_acc = np.repeat(accs, k)
            invested = acc_value[accs] - cash[accs]
            totals = np.bincount(np.repeat(np.arange(len(accs)), k), weights=noisy, minlength=len(accs))
            pv = noisy * np.repeat(invested / np.where(totals > 0, totals, 1), k)
            keep = pv > 1.0
            pos_acc.append(grid_acc[keep]); pos_sec.append(np.tile(secs, len(accs))[keep]); pos_val.append(pv[keep])
    # legacy holdings: an alternate ETF of the same class, common in transitions
    legacy = np.flatnonzero(rng.random(A) < 0.3)
    alt = np.array([sec_index[ASSET_CLASSES[c][0][1]] for c in ASSET_CLASSES])
    pos_acc.append(legacy); pos_sec.append(alt[rng.integers(0, len(alt), len(legacy))])
    pos_val.append(acc_value[legacy] * rng.uniform(0.02, 0.1, len(legacy)))
    pos_acc, pos_sec, pos_val = np.concatenate(pos_acc), np.concatenate(pos_sec), np.concatenate(pos_val)
    order = np.lexsort((pos_sec, pos_acc))
    pos_acc, pos_sec, pos_val = pos_acc[order], pos_sec[order], pos_val[order]
    dup = np.concatenate([[False], (pos_acc[1:] == pos_acc[:-1]) & (pos_sec[1:] == pos_sec[:-1])])
    pos_acc, pos_sec, pos_val = pos_acc[~dup], pos_sec[~dup], pos_val[~dup]

    # ---- lots: taxable positions carry more lots (monthly buys, reinvestment); direct-index stocks ~5
    lam = np.where(taxable[pos_acc], np.where(is_stock[pos_sec], mix.stock_lots_per_position - 1, 5.0), 1.4)
    n_lots = 1 + rng.poisson(lam)
    lot_pos = np.repeat(np.arange(len(pos_acc)), n_lots)
    L = len(lot_pos)
    lot_sec, lot_acc = pos_sec[lot_pos], pos_acc[lot_pos]
    lot_val = pos_val[lot_pos] * _groups_dirichlet(rng, n_lots)
    recent = rng.random(L) < mix.recent_lot_share
    age_days = np.where(recent, rng.integers(1, 31, L), rng.integers(31, 5 * 365, L))
    acquired = as_of64 - age_days
    years = age_days / 365.25
    growth = np.exp((drift_of[lot_sec] - 0.5 * vol_of[lot_sec] ** 2) * years + vol_of[lot_sec] * np.sqrt(years) * rng.normal(0, 1, L))
    qty = np.maximum(np.round(lot_val / price[lot_sec], 4), 0.0001)
    basis = np.round(qty * price[lot_sec] / growth, 2)
    lot_ids = _ids("L", L, 9)

    lots = pl.DataFrame({
        "as_of_date": pl.Series([as_of] * L, dtype=pl.Date) if L else pl.Series([], dtype=pl.Date),
        "lot_id": lot_ids, "account_id": acc_ids.gather(lot_acc),
        "security_id": pl.Series(sec_ids).gather(lot_sec), "quantity_shares": qty, "cost_basis_usd": basis,
        "acquisition_date": acquired.astype("datetime64[D]"),
    })
    positions = (
        lots.group_by("account_id", "security_id", maintain_order=True)
        .agg(pl.col("quantity_shares").sum().round(4))
        .join(pl.DataFrame({"security_id": sec_ids, "price": price}), on="security_id", maintain_order="left")
        .with_columns((pl.col("quantity_shares") * pl.col("price")).round(2).alias("market_value_usd"))
        .select(pl.lit(as_of).alias("as_of_date"), "account_id", "security_id", "quantity_shares", "market_value_usd")
    )

    # ---- transactions (last 60 days): buys behind recent lots, sales at a loss, deposits, dividends
    rec = np.flatnonzero(age_days <= 60)
    buys = pl.DataFrame({
        "account_id": acc_ids.gather(lot_acc[rec]), "trade_date": acquired[rec], "transaction_type": "buy",
        "security_id": pl.Series(sec_ids).gather(lot_sec[rec]), "quantity_shares": qty[rec], "amount_usd": basis[rec],
        "cost_basis_usd": pl.Series([None] * len(rec), dtype=pl.Float64),
    })
    sellers = np.flatnonzero(taxable & (rng.random(A) < mix.loss_sale_share))
    sold_sec = alt[rng.integers(0, len(alt), len(sellers))]
    sold_qty = np.round(rng.uniform(10, 500, len(sellers)), 4)
    proceeds = np.round(sold_qty * price[sold_sec], 2)
    sells = pl.DataFrame({
        "account_id": acc_ids.gather(sellers), "trade_date": as_of64 - rng.integers(1, 61, len(sellers)),
        "transaction_type": "sell", "security_id": pl.Series(sec_ids).gather(sold_sec), "quantity_shares": sold_qty,
        "amount_usd": proceeds, "cost_basis_usd": np.round(proceeds * rng.uniform(1.05, 1.4, len(sellers)), 2),
    })
    depositors = np.flatnonzero(rng.random(A) < 0.2)
    deposits = pl.DataFrame({
        "account_id": acc_ids.gather(depositors), "trade_date": as_of64 - rng.integers(1, 61, len(depositors)),
        "transaction_type": "deposit", "security_id": pl.Series([None] * len(depositors), dtype=pl.String),
        "quantity_shares": pl.Series([None] * len(depositors), dtype=pl.Float64),
        "amount_usd": np.round(rng.uniform(500, 20_000, len(depositors)), 2),
        "cost_basis_usd": pl.Series([None] * len(depositors), dtype=pl.Float64),
    })
    transactions = pl.concat([buys, sells, deposits], how="vertical_relaxed").with_columns(
        pl.col("trade_date").cast(pl.Date)
    ).sort("account_id", "trade_date", "transaction_type", "security_id", nulls_last=True)
    transactions = transactions.with_columns(
        (pl.lit("T") + pl.int_range(pl.len(), dtype=pl.Int64).cast(pl.String).str.zfill(9)).alias("transaction_id")
    ).select("transaction_id", "account_id", "trade_date", "transaction_type", "security_id", "quantity_shares",
             "amount_usd", "cost_basis_usd")

    accounts = pl.DataFrame({
        "account_id": acc_ids, "household_id": hh_ids.gather(acc_hh), "custodian_id": custodian,
        "account_type": acc_type, "min_cash_usd": min_cash,
    })
    cash_df = pl.DataFrame({"as_of_date": pl.Series([as_of] * A, dtype=pl.Date), "account_id": acc_ids, "cash_usd": cash})
    prices = pl.DataFrame({"security_id": sec_ids, "price_date": pl.Series([as_of] * len(sec_ids), dtype=pl.Date), "close_usd": price})
    risk = sample_risk_model(securities, models, {c: v for c, (_, _, v) in ASSET_CLASSES.items()}, list(SECTORS),
                             DIRECT_INDEX_MODEL, seed)
    return {
        "securities": securities, "prices": prices, "models": models, "households": hh,
        "accounts": accounts, "positions": positions, "lots": lots, "transactions": transactions, "cash": cash_df,
    } | risk


def write_sample_firm(households: int, seed: int, as_of: dt.date, out: Path, mix: FirmMix = FirmMix(),
                      layouts: Literal["canonical", "custodian"] = "canonical") -> dict[str, int]:
    """Write the firm under ``out``; returns rows written per file.

    ``layouts="custodian"`` writes each custodian in its own shape: alder canonical, birch and
    cedar in the shapes of the mapping files that ship in ``data_contracts/layouts`` (with a
    ``layout.yaml`` naming them), as a firm onboarding several custodians would receive them.
    """
    frames = generate(households, seed, as_of, mix)
    out = Path(out)
    (out / "firm").mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name in FIRM_FILE_NAMES:
        frames[name].write_csv(out / "firm" / f"{name}.csv", float_precision=None)
        counts[name] = frames[name].height
    counts["mandates"] = write_mandates(sample_mandates(frames, seed, as_of, mix.mandate_share), out)
    custodian_of = frames["accounts"].select("account_id", "custodian_id")
    shaped = {"birch", "cedar"} if layouts == "custodian" else set()
    for cust in CUSTODIANS:
        folder = out / "custodians" / cust
        folder.mkdir(parents=True, exist_ok=True)
        if cust in shaped:
            (folder / LAYOUT_FILE).write_text(f"layout: {cust}\n", encoding="utf-8")
    for name in ("accounts", "positions", "lots", "transactions", "cash"):
        df = frames[name] if name == "accounts" else frames[name].join(custodian_of, on="account_id", maintain_order="left")
        for cust in CUSTODIANS:
            folder = out / "custodians" / cust
            part = df.filter(pl.col("custodian_id") == cust)
            if name != "accounts":
                part = part.drop("custodian_id")
            if cust in shaped:
                layout = load_layout(folder, out)
                from_canonical(part, layout, name).write_csv(
                    layout.path(folder, name, as_of), separator=layout.delimiter, float_precision=None)
            else:
                part.write_csv(folder / f"{name}.csv")
        counts[name] = df.height
    return counts
