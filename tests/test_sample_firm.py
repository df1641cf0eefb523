"""The generated firm has the shape the issue asks for, and the same seed gives the same bytes."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import polars as pl

from data_contracts.layout import read_day
from data_contracts.sample_firm import write_sample_firm
from data_contracts.validation import validate_day
from optimizer.tax import long_term_from
from tests.conftest import AS_OF

REPO = Path(__file__).resolve().parents[1]
# Both generators behind the CLI, as `make demo` and the simulator's users call them: the firm (every
# custodian layout, mandates, risk model) and a price history for its securities.
GENERATE = """
import sys
from flows.cli import app
households, seed, out = sys.argv[1:]
for args in (["sample-firm", "--households", households, "--seed", seed, "--as-of", "{as_of}", "--out", out + "/drop",
              "--layouts", "custodian"],
             ["sample-prices", "--firm", out + "/drop", "--out", out + "/prices.csv", "--start", "2026-06-01",
              "--end", "{as_of}", "--seed", seed]):
    app(args, standalone_mode=False)
""".format(as_of=AS_OF.isoformat())


def digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, whatever its extension."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def generate_in_a_new_process(households: int, seed: int, out: Path, hash_seed: int) -> dict[str, str]:
    """Generate in a fresh interpreter: string hashing (set and dict order of str keys) and polars'
    thread pool differ from process to process, which one process writing twice never shows."""
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed), "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", GENERATE, str(households), str(seed), str(out)], env=env, check=True,
                   cwd=REPO, stdout=subprocess.DEVNULL)
    return digest(out)


def test_same_seed_same_bytes_in_every_process(tmp_path):
    a = generate_in_a_new_process(200, 5, tmp_path / "a", hash_seed=1)
    b = generate_in_a_new_process(200, 5, tmp_path / "b", hash_seed=2)
    # Every kind of file the generators write is compared: CSV, the mapped layouts' text files, YAML
    # (layout references, mandates with glide paths whose class weights are dicts), the price history.
    assert {Path(f).suffix for f in a} >= {".csv", ".txt", ".yaml"}
    assert "prices.csv" in a and "drop/custodians/birch/layout.yaml" in a
    glide = [f for f in a if f.startswith("drop/firm/mandates/") and "glide_path" in (tmp_path / "a" / f).read_text()]
    assert len(glide) >= 3, "too few glide-path mandates to catch their class order changing"
    assert a.keys() == b.keys()
    assert [f for f in a if a[f] != b[f]] == []
    c = generate_in_a_new_process(200, 6, tmp_path / "c", hash_seed=1)  # another seed: other data files
    data = [f for f in a if f.endswith((".csv", ".txt"))]
    assert data and all(c[f] != a[f] for f in data)


def test_firm_shape(tmp_path):
    write_sample_firm(400, 5, AS_OF, tmp_path)
    day = validate_day(read_day(tmp_path, AS_OF), AS_OF)
    assert day.exceptions.filter(pl.col("severity") == "error").height == 0  # mandates included: conflict-free
    # A few percent of households with each kind of mandate: 2 % × 14 kinds = 28 % drawn (less a kind that
    # does not fit a household, e.g. a location preference with no IRA for the bonds); over 400 households
    # a draw's standard deviation is √(0.28 × 0.72 / 400) = 2.2 points, so 34 % is out of bounds. Every kind present.
    with_mandates = day.mandates["household_id"].n_unique() / day.households.height
    assert 0.15 < with_mandates < 0.34
    assert set(day.mandates["rule"]) == {"never_buy", "never_sell", "never_hold", "hold_at_least", "exclusion",
                                         "sector_cap", "asset_allocation", "glide_path", "cash_rules", "transition",
                                         "location", "product_preference", "trading", "tracking_error"}

    per_hh = day.accounts.group_by("household_id").agg(pl.len().alias("n"), pl.col("custodian_id").n_unique().alias("c"))
    assert per_hh["n"].min() >= 1 and per_hh["n"].max() <= 4
    assert day.accounts["custodian_id"].n_unique() >= 2
    assert set(day.accounts["account_type"]) == {"taxable_individual", "taxable_joint", "trust", "traditional_ira", "roth_ira"}

    assert 3 <= day.models["model_id"].n_unique() <= 6
    classes = day.securities.filter(pl.col("security_type") == "etf")["asset_class"].n_unique()
    assert classes >= 9
    stocks = day.securities.filter(pl.col("security_type") == "stock")
    assert stocks.height >= 100
    assert sum(stocks[c].null_count() for c in ("sector", "industry", "beta", "size", "value", "momentum")) == 0
    di_models = day.models.join(stocks, on="security_id")["model_id"].unique()
    assert di_models.len() >= 1
    di_share = day.households["model_id"].is_in(di_models.implode()).mean()
    assert 0.1 < di_share < 0.3  # about 20 %

    lots = day.lots
    prices = dict(zip(day.prices["security_id"], day.prices["close_usd"]))
    value = lots["quantity_shares"] * lots["security_id"].replace_strict(prices)
    gain = value - lots["cost_basis_usd"]
    assert (gain > 0).any() and (gain < 0).any()
    lt_from = long_term_from(lots["acquisition_date"].to_numpy().astype("datetime64[D]"))
    long_term = lt_from <= AS_OF
    assert long_term.any() and (~long_term).any()
    ages = (lots.select((pl.lit(AS_OF) - pl.col("acquisition_date")).dt.total_days().alias("d"))["d"])
    assert ages.max() <= 5 * 365 and (ages <= 30).any()

    txns = day.transactions
    span = txns.select((pl.lit(AS_OF) - pl.col("trade_date")).dt.total_days().alias("d"))["d"]
    assert span.max() <= 60
    loss_sales = txns.filter((pl.col("transaction_type") == "sell") & (pl.col("amount_usd") < pl.col("cost_basis_usd")))
    assert loss_sales.height > 0
    hh = day.households
    for column in ("federal_ordinary_rate", "federal_ltcg_rate", "state_rate", "niit_applies", "filing_status",
                   "ytd_realized_st_gain_usd", "ytd_realized_lt_gain_usd", "st_loss_carryforward_usd"):
        assert hh[column].null_count() == 0
    assert (hh["st_loss_carryforward_usd"] > 0).any()
