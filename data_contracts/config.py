"""Run configuration: the embedded defaults, overridable from a YAML/JSON file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

# α: value of holding one dollar of an asset class in an account kind, per dollar (horizon-adjusted).
# Small next to the drift penalties: asset location decides *where* a class sits, never *how much*.
DEFAULT_LOCATION_VALUE: dict[str, dict[str, float]] = {
    "us_large_cap": {"taxable": 0.003, "traditional_ira": 0.0, "roth_ira": 0.004},
    "us_small_cap": {"taxable": 0.002, "traditional_ira": 0.0, "roth_ira": 0.004},
    "intl_developed": {"taxable": 0.003, "traditional_ira": 0.0, "roth_ira": 0.003},
    "emerging_markets": {"taxable": 0.002, "traditional_ira": 0.0, "roth_ira": 0.004},
    "us_aggregate_bonds": {"taxable": 0.0, "traditional_ira": 0.004, "roth_ira": 0.002},
    "treasury_inflation": {"taxable": 0.0, "traditional_ira": 0.004, "roth_ira": 0.002},
    "municipal_bonds": {"taxable": 0.004, "traditional_ira": 0.0, "roth_ira": 0.0},
    "high_yield_bonds": {"taxable": 0.0, "traditional_ira": 0.005, "roth_ira": 0.003},
    "us_reits": {"taxable": 0.0, "traditional_ira": 0.005, "roth_ira": 0.005},
    "commodities": {"taxable": 0.0, "traditional_ira": 0.003, "roth_ira": 0.002},
}


# How and where a run executes, not what it decides: the same inputs give the same decisions and the
# same files under any of them (threads or Dask, any batch size: tests/test_dask.py), so they are no
# part of a run's identity. ``time_zone`` only picks the date when none is given, and the date is in
# the run id already; ``reports_base_url`` only says where the dashboard's links point.
EXECUTION_FIELDS = frozenset({"batch_size", "task_runner", "workers", "dask_address", "snapshots", "lock_wait_seconds",
                              "time_zone", "reports_base_url"})

# `lotwise reports serve` listens here by default (tasks/reports_server.py), and the artifacts link here.
DEFAULT_REPORTS_PORT = 8765
DEFAULT_REPORTS_BASE_URL = f"http://127.0.0.1:{DEFAULT_REPORTS_PORT}"


class ConfigError(ValueError):
    """A run configuration file that cannot be used; the message names the file and the problem."""


class CustodianTrading(BaseModel):
    """What one custodian takes: fractional shares or not, and its smallest trade."""

    model_config = ConfigDict(extra="forbid")

    fractional_shares: bool | None = Field(None, description="Takes fractional shares (blank: as the run's `shares`).")
    min_trade_usd: float = Field(0.0, ge=0, description="Smallest trade it takes, per security and side.")


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    class_drift_penalty: float = Field(0.10, ge=0, description="λ_C: dollars of penalty per dollar of class drift.")
    security_drift_penalty: float = Field(0.02, ge=0, description="λ_S: per dollar of security drift.")
    trading_cost_rate: float = Field(0.0005, ge=0, description="κ: cost per dollar traded.")
    priority: Literal["weighted", "drift_first"] = Field("weighted", description="Objective: weighted sum or drift first.")
    deferral_horizon_days: int = Field(30, ge=0, description="H: short-term gain lots this close to long-term pay the deferral premium.")
    exposure_penalty: float = Field(0.05, ge=0, description="λ_F: per dollar·unit of sector/factor exposure gap.")
    substitute_cost: float = Field(0.003, ge=0, description="ρ: per dollar held in a substitute instead of its primary.")
    loss_tranche_usd: float = Field(10_000.0, gt=0, description="Tranche over which a loss's marginal value is measured.")
    carryforward_value: float = Field(0.8, ge=0, le=1, description="Value of a carried-forward loss dollar, × the LT rate.")
    # Risk (the day's risk model, data_contracts.risk_model; optimizer.risk): a cap and a cost.
    max_tracking_error: float | None = Field(
        0.02, gt=0, le=1, description="τ: default cap on each household's annualized ex-ante tracking error against its "
                                      "target, a fraction (0.02 = 2 % a year); a mandate's tighter cap wins; blank: no cap.")
    risk_aversion: float = Field(10.0, ge=0, description="γ: risk cost (γ/2)·TE²·T·V in dollars, traded against tax "
                                                         "(10: 1 % tracking error held a year costs 5 bp of the household).")
    risk_horizon_years: float = Field(1.0, gt=0, description="T: years an active position is assumed to be carried.")
    tracking_error_tolerance: float = Field(0.005, ge=0, description="A cap counts as met at TE ≤ cap × (1 + this).")
    annual_gain_budget_usd: float | None = Field(None, description="Cap on net realized gains per year (YTD counted).")
    annual_tax_budget_usd: float | None = Field(None, description="Cap on estimated tax on realized gains per year (YTD counted).")
    shares: Literal["round", "mip", "fractional"] = Field(
        "round", description="Whole shares by LP + rounding repair (round), by SCIP (mip), or fractional shares.")
    min_trade_usd: float = Field(
        25.0, ge=1, description="Trades smaller than this, per security and side, are not sent (anywhere; a sale that "
                                "closes a position too, unless a mandate requires it today); at least $1.")
    custodians: dict[str, CustodianTrading] = Field(
        default_factory=dict, description="Per custodian id: fractional shares and minimum trade, e.g. "
                                          "{birch: {fractional_shares: false, min_trade_usd: 100}}. Mandates may ask more.")
    mip_gap: float = Field(0.01, gt=0, description="Relative optimality gap of the mip mode.")
    mip_abs_gap_usd: float = Field(1.0, gt=0, description="Absolute optimality gap of the mip mode, in objective dollars.")
    mip_time_limit_s: float = Field(10.0, gt=0, description="Time limit per household solve in the mip mode.")
    batch_size: int | None = Field(None, ge=1, description="Households per Prefect task; blank: sized by the run "
                                                          "(tasks.optimize.auto_batch_size) so orchestration stays small.")
    task_runner: Literal["threads", "dask"] = Field(
        "threads", description="Where household batches run: a thread pool in the flow's process, or Dask (a local "
                               "cluster of worker processes, or the scheduler at dask_address).")
    workers: int = Field(2, ge=1, description="Threads, or local Dask worker processes (one thread each).")
    dask_address: str | None = Field(None, description="Dask scheduler to send batches to (e.g. tcp://10.0.0.5:8786); "
                                                       "its workers need Lotwise installed and var/ on a shared path.")
    snapshots: Literal["none", "failures", "all"] = Field(
        "failures", description="Write households' solver input for `lotwise replay`: none, failures (infeasible, relaxed, "
                                "failed verification) or all.")
    stale_price_days: int = Field(5, ge=0, description="Calendar days after which a close is stale.")
    review_tax_usd: float = Field(10_000.0, ge=0, description="Review queue: estimated tax of a household's run at least this.")
    review_turnover: float = Field(0.25, ge=0, description="Review queue: turnover (buys + sells ÷ value) at least this ...")
    review_value_usd: float = Field(1_000_000.0, ge=0, description="... on a household worth at least this.")
    lock_wait_seconds: float = Field(0.0, ge=0, description="How long a run waits for another run of the same date "
                                                              "to finish before refusing (0: refuse at once).")
    time_zone: str = Field("America/New_York", description="The firm's time zone: a scheduled run with no date "
                                                            "rebalances the business day before today there.")
    reports_base_url: str = Field(
        DEFAULT_REPORTS_BASE_URL, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Where the dashboard's browsers reach `lotwise reports serve`: every artifact link is this "
                    "address + `/runs/<date>/<run id>/…` or `/data-docs/<date>/<run id>/…`.")
    location_value: dict[str, dict[str, float]] = Field(
        default_factory=lambda: DEFAULT_LOCATION_VALUE,
        description="α: value per dollar of holding an asset class in each kind of account (taxable, traditional_ira, "
                    "roth_ira), by class.")

    def canonical_json(self) -> str:
        """The effective configuration that decides a run's outputs (defaults filled in, execution
        settings left out), as JSON with sorted keys and no whitespace: equal settings give equal
        text, however the YAML spelled or ordered them."""
        return json.dumps(self.model_dump(mode="json", exclude=set(EXECUTION_FIELDS)), sort_keys=True,
                          separators=(",", ":"), ensure_ascii=True, allow_nan=False)

    def digest(self) -> str:
        """16 hex digits of the canonical JSON: part of every run id (tasks.ingest.run_id_for,
        tasks.cash_flow.cash_flow_run_id) and of every household's input fingerprint (tasks.reuse)."""
        return hashlib.blake2b(self.canonical_json().encode(), digest_size=8).hexdigest()

    @classmethod
    def load(cls, path: Path | None) -> "RunConfig":
        """The embedded defaults, or ``path``'s settings over them; ``ConfigError`` says in one line
        what is wrong with the file (missing, not YAML, an unknown or invalid setting)."""
        if path is None:
            return cls()
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise ConfigError(f"{path}: a run configuration is a mapping of settings, not a {type(data).__name__}")
            return cls.model_validate(data)
        except OSError as exc:
            raise ConfigError(f"{path}: {exc.strerror or exc}") from exc
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not YAML: {' '.join(str(exc).split())[:200]}") from exc
        except ValidationError as exc:
            why = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"{path}: {why}") from exc
