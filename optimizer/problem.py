"""The household rebalancing LP: its data, and its formulation.

One linear program per household, across all of its accounts. Money variables are in dollars at
the as-of close (shares = dollars / price), which keeps the LP well scaled across $5 and $5,000
stocks.

Sets
    A   accounts of the household (taxable, traditional IRA, Roth IRA)
    S   securities: everything held plus everything the model holds
    L   open tax lots; lot l sits in account a(l) and holds security s(l)
    C   asset classes, including the cash class
    B ⊆ A × S  buy candidates: s is in the model, the configured substitute of a model security,
               or a security the household must hold at least some of
    σ(s)    the slot of s: a substitute, or a held member of a transition's equivalence set, counts
            toward its primary's target, else s itself (an equivalent costs no ρ: it is as good)

Data
    p_s     price;  q_l shares in lot l;  k_l its total basis
    U_l = q_l p_{s(l)}   the lot's market value (its largest possible sale)
    g_l = 1 − k_l / U_l  gain per dollar of proceeds (negative for a loss lot)
    τ_l     marginal rate of the lot's realized gain or loss: 0 in IRAs; otherwise, for a gain, the
            household's combined short- or long-term rate, and for a loss, the rate at which the loss
            will actually be used given YTD realized gains and carryforwards (optimizer.ledger.marginal)
    δ_l     deferral premium: (τ_ST − τ_LT) g_l for a short-term gain lot within H days of turning
            long-term (selling now forfeits the saving a short wait would bring); 0 otherwise
    c⁰_a, m_a   the account's cash and minimum cash
    H⁰_s, H⁰_c  household holdings of security s / class c;  C⁰ = Σ_a c⁰_a
    V = Σ_s H⁰_s + C⁰    household value;  w_s, W_c model weights (W_cash for cash; a security the
                         household may never hold passes its w_s to its class's other model securities)
    κ       trading cost per dollar traded;  λ_C, λ_S drift penalties per dollar of drift
    ρ_s     cost per dollar held in substitute s (its tracking gap: the substitute's quality, from the
            securities master, else the run's default ρ); 0 for model securities
    α_{a,s} location value per dollar of s held in a (asset location; Meet Joe's coefficients)
    x_{s,k} exposure of s to characteristic k (sector membership 0/1, beta, size, value, momentum)
    M_a, r_a    maximum cash and cash to raise (a withdrawal) of account a
    G, T    remaining budget of net realized gain and of estimated tax this year (after YTD; a budget
            spent before the run is 0: no trade that adds tax)
    B, F = L Lᵀ, D   the day's risk model on S (optimizer/risk.py): loadings, factor covariance, specific
            variances, annualized; τ the household's tracking-error cap; γ risk aversion, T its horizon

Variables (all ≥ 0)
    u_l ≤ U_l         dollars of lot l sold (lot relief is the optimizer's choice)
    v_{a,s}, (a,s)∈B  dollars of s bought in account a
    d⁺_c, d⁻_c        class c above / below target, dollars
    e⁺_s, e⁻_s        security s above / below target, dollars
    f⁺_k, f⁻_k        characteristic k above / below the model's exposure, dollar-weighted (no risk model)
    With a risk model (optimizer/constraints/risk.py): y_k factor exposure of the active dollars (free),
    z±_ji and s±_si the segments of the factor and specific squares, t ≥ 0 the cap's slack; and b ≥ 0
    a soft budget's overshoot (only after the relaxation made the budgets soft)

Holdings after trading:  h_{a,s} = H⁰_{a,s} − Σ_{l∈(a,s)} u_l + v_{a,s};  cash_a = c⁰_a + Σ_{l∈a} u_l − Σ_s v_{a,s}

Constraints (one generator each, optimizer/constraints/)
    cash          m_a + r_a ≤ c⁰_a + Σ_{l∈a} u_l − Σ_s v_{a,s} ≤ M_a   ∀a   (no money moves between accounts)
    class drift   Σ_{s∈c} (H⁰_s − Σ_{l∈s} u_l + Σ_a v_{a,s}) − d⁺_c + d⁻_c = W_c V     ∀c ≠ cash
                  C⁰ + Σ_l u_l − Σ v − d⁺_cash + d⁻_cash = W_cash V
    security drift  Σ_{s: σ(s)=t} (H⁰_s − Σ_{l∈s} u_l + Σ_a v_{a,s}) − e⁺_t + e⁻_t = w_t V   ∀ slots t
    exposure      Σ_t x_{t,k} (e⁺_t − e⁻_t) − f⁺_k + f⁻_k = 0   ∀k   (the household's exposure after
                  trading less the model's, since slot t holds w_t V + e⁺_t − e⁻_t; counterbalancing:
                  an overweight kept for tax reasons is offset by underweighting similar securities)
    gain budget   Σ_{l taxable} g_l u_l ≤ G                 (net realized gain, losses count negative)
    tax budget    Σ_l τ_l g_l u_l ≤ T                       (the year's, or a transition period's if lower)
    turnover      Σ_l u_l [+ Σ v] ≤ Θ                       (a transition's dollars still to trade this period:
                                                             sells, or buys plus sells)
    risk          with a risk model every security is its own slot (σ(s) = s), so d_s = e⁺_s − e⁻_s are
                  its active dollars, cash counted through them (a cash overweight is the securities'
                  underweight, priced by their market loading);  y = Bᵀd,  z = Lᵀy,  d and z split into
                  segments;  V²TE² = ‖z‖² + Σ D_s d_s²
    TE cap        TE ≤ τ(1 + tolerance): tangent cuts (L z*)ᵀy/g* + Σ D_s d*_s d_s/g* − t ≤ τV added at
                  each solution that breaks it, then re-solved (Kelley); verify re-checks TE
    no shorts     u_l ≤ U_l (variable bound); nothing else decreases a holding
    wash sales    (bounds) v_{a,s} = 0 for s (or its identical group) sold at a loss in the last 30
                  days in any account; u_l = 0 for a taxable loss lot whose security (group) was
                  bought in the last 30 days in any account (per the transactions or the lots' own
                  dates). A loss inside an IRA has no tax effect: IRA lots are never frozen. An older
                  loss lot of such a group (held > 30 days, R_g replacement shares known) may be
                  freed for a partial wash sale, priced as below
    mandates      (bounds) v_{a,s} = 0 where s may not be bought in a; u_l = 0 where it may not be sold
                  never hold:  H⁰_{a,s} − Σ_{l∈(a,s)} u_l + v_{a,s} ≤ M_{a,s}  (falls to 0 by its sell-by date)
                  hold at least:  Σ_{a∈A_k} (H⁰_{a,s_k} − Σ_{l∈(a,s_k)} u_l + v_{a,s_k}) ≥ K_k
                  sector cap:  Σ_{s∈g} (H⁰_s − Σ_{l∈s} u_l + Σ_a v_{a,s}) ≤ Q_g   (screens are never-hold rows)

Objective terms (optimizer/terms/), minimized as a weighted sum
    risk          (γT/2V)(‖z‖² + Σ D_s d_s²) = (γT/2)·TE²·V dollars, piecewise linear (secants); with a
                  risk model it replaces λ_S, λ_C of the cash class, exposure and substitute below (0
                  there); λ_C of the other classes stays (the asset allocation is the PM's)
    overshoot     100 t + 10 Σ b: a limit gives way only by what nothing else can avoid, and says so
    drift         λ_C Σ_c (d⁺_c + d⁻_c) + λ_S Σ_s (e⁺_s + e⁻_s)
    tax           Σ_l τ_l g_l u_l                  (a loss earns back the rate it will be used at;
                                                    × (1 − ω_g) on a partial wash sale, below)
    deferral      Σ_l δ_l u_l
    substitute    Σ_{s substitute} ρ_s h_s = −Σ ρ_s Σ_{l∈s} u_l + Σ ρ_s Σ_a v_{a,s} + constant
Loss harvesting follows from these terms. With a risk model: selling a loss lot of s earns τ_l|g_l|
per dollar and pays 2κ (sell, and buy stand-ins) plus the risk cost of the active positions it
leaves: any buyable security can stand in, and the LP buys the mix that hedges s best (the most
correlated, through B and D); the wash-sale bounds keep s's group off the buy list for 30 days.
Of the seed's eight factors of a harvest decision, these enter: the tax rate and the ability to use
the loss (τ_l: the rate the loss will actually be used at, from YTD gains and carryforwards,
optimizer.ledger.marginal); volatility and substitute quality (the risk model: a volatile stock's
stand-ins leave more specific risk, a close substitute leaves little); trading cost (κ both ways);
days to long term (τ_l by the lot's character, and the deferral premium δ_l on the gain side);
the horizon (T, the time an active position is assumed carried). Time to year end enters only
through τ_l (a loss realized before 31 December offsets this year's gains); the chance of a
better harvest later (the option value of waiting) does not enter: the LP harvests what pays today.
Without a risk model: selling a loss lot of s and buying its substitute s' keeps the slot on target
and pays 2κ + ρ_{s'}, so a loss lot is harvested exactly when τ_l |g_l| > 2κ + ρ_{s'}; afterwards the
LP swaps back when ρ_{s'} beats the cost of selling the substitute (2κ plus tax on its gain).
    exposure      λ_F Σ_k (f⁺_k + f⁻_k)
    trading cost  κ (Σ_l u_l + Σ v_{a,s})
    location      −Σ α_{a,s} h_{a,s}  =  Σ_l α_{a(l),s(l)} u_l − Σ α_{a,s} v_{a,s} + constant
With ``priority="drift_first"`` (or a household in a transition, whose budgets say how much tax and
turnover it may spend on drift) the LP is solved twice: first for the least weighted drift D*,
then for the whole objective subject to drift ≤ D* + 1e-7 V max(λ) (Betterment's order).

"Not a buy and a (taxable) loss sale of the same security in one run" is modelled as a multi-pass
LP with fixed trade directions (Moehle, Kochenderfer, Boyd and Ang, 2021). Before the first solve,
groups holding a taxable loss lot worth harvesting (τ_l |g_l| > 2κ, + ρ of a configured substitute
without a risk model, which then also needs one) are not bought. Then: solve; every identical group
both bought and sold at a loss keeps one side — its loss sales if worth harvesting (its buys bound to
zero), else its buys (its loss sales bound to zero; if that is infeasible, the buys go instead, which
is always feasible) — and a group whose buys were closed for a harvest the LP did not make, and that
is short of its target and would buy (a negative reduced cost), gets its buys back and keeps its loss
lots instead (once per group); the LP is solved again while either happens. Each group changes side
at most twice, so this ends (in practice after one or two passes). The tracking-error cap's cuts are
valid for every pass and carried along.

Partial wash sales (Publication 550, "Wash Sales"; Treas. Reg. §1.1091-1(b), (c)). A loss sale today
is washed only up to R_g, the shares of its group acquired in the 30 days before (any account, IRAs
included; ``group_replacement_shares``), matched to the sold loss shares in the order the sold
shares were acquired; the disallowed loss moves into the replacement shares' basis (for good when
they sit in an IRA). That cost is concave in the shares sold (all of the first R_g, none after), so
no LP term is exact for every sale. A group whose older loss lots (held > 30 days) could bring at
least PARTIAL_WASH_MIN_GAIN_USD if all were sold has them freed (``partial_wash_groups``): like a
group worth harvesting its buys are closed, its replacement lots are not sold in the run, and each
freed lot's loss is credited × (1 − ω_g), ω_g the share of the group's older loss washed if all of
them are sold whole — exact for the usual harvest. After the passes the exact disallowed loss is
computed (``optimizer.ledger.partial_wash``); a group whose exact cost exceeds the LP's price by
more than PARTIAL_WASH_MIN_GAIN_USD (part of it sold), or whose recognized gains break a budget,
is frozen again and the household solved once more; the better by the exact objective is kept. A
deferred loss is counted at nothing: it comes back only when the replacement shares are sold, at a
date and rate this run cannot know.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np


@dataclass(frozen=True)
class SolveParams:
    """Trade-offs of the objective; every weight is dollars of penalty per dollar."""

    class_drift_penalty: float = 0.10  # λ_C
    security_drift_penalty: float = 0.02  # λ_S
    trading_cost_rate: float = 0.0005  # κ: 5 bp per dollar traded
    priority: Literal["weighted", "drift_first"] = "weighted"
    dust_usd: float = 0.01  # trades below one cent are solver noise, not trades
    wash_sale_window_days: int = 30
    deferral_horizon_days: int = 30  # H: short-term lots this close to long-term carry the deferral premium
    exposure_penalty: float = 0.05  # λ_F per dollar·unit of sector / factor exposure gap
    substitute_cost: float = 0.003  # ρ per dollar held in a substitute instead of its primary
    # Whole shares: "round" (LP, then a rounding repair that keeps every constraint), "mip" (SCIP on
    # integer share counts), or "fractional" (custodians that take fractional shares). It is the
    # default for accounts whose problem does not say (HouseholdProblem.whole_shares); where it does,
    # whole-share accounts are made whole by "mip" in mip mode and by the repair otherwise.
    shares: Literal["round", "mip", "fractional"] = "round"
    min_trade_usd: float = 0.0  # smaller trades are not sent (the repair keeps cash whole); a floor under the accounts' own
    mip_gap: float = 0.01  # relative
    mip_abs_gap: float = 1.0  # dollars of objective: a household's MIP need not prove more
    mip_time_limit_s: float = 10.0
    # Risk (used when the problem carries a risk model; see optimizer/constraints/risk.py):
    risk_aversion: float = 10.0  # γ: certainty-equivalent cost (γ/2)·TE²·T·V, e.g. 1 % TE for a year = 5 bp of V
    risk_horizon_years: float = 1.0  # T: how long an active position is assumed to be carried
    tracking_error_tolerance: float = 0.005  # a cap counts as met at TE ≤ cap × (1 + this)
    tracking_error_max_cuts: int = 40  # cutting planes per household before the conservative row ends them
    # Re-solve once with the risk segments' breakpoints around the solution (exact there), keeping the
    # better answer by the exact objective: a closer risk cost for one more solve (optimizer.solve)
    risk_polish: bool = False


@dataclass(frozen=True)
class HouseholdProblem:
    """Everything the LP of one household needs, as arrays (built by tasks.build_problems).

    Derived arrays are cached on first use (``cached_property``): treat them as read-only.
    """

    household_id: str
    as_of: dt.date
    # accounts A
    account_ids: np.ndarray  # str[A]
    account_taxable: np.ndarray  # bool[A]
    cash_usd: np.ndarray  # float[A]  c⁰_a
    min_cash_usd: np.ndarray  # float[A]  m_a
    # securities S
    security_ids: np.ndarray  # str[S]
    price_usd: np.ndarray  # float[S]  p_s
    security_class: np.ndarray  # int[S] index into class_names
    identical_group: np.ndarray  # int[S] wash-sale group index
    target_weight: np.ndarray  # float[S]  w_s
    buy_blocked: np.ndarray  # bool[S]  wash-sale window (sold at a loss within 30 days)
    # classes C; the last one is cash
    class_names: tuple[str, ...]
    class_target_weight: np.ndarray  # float[C]  W_c
    # lots L
    lot_ids: np.ndarray  # str[L]
    lot_account: np.ndarray  # int[L]
    lot_security: np.ndarray  # int[L]
    lot_quantity_shares: np.ndarray  # float[L]
    lot_basis_usd: np.ndarray  # float[L] total basis k_l
    lot_acquired: np.ndarray  # datetime64[D][L]
    lot_loss_sale_blocked: np.ndarray  # bool[L] (security bought within 30 days)
    # tax
    short_term_rate: float
    long_term_rate: float
    # α_{a,s}; zeros when the household has no location preference
    location_value: np.ndarray | None = None  # float[A, S]
    # Loss rates (tax saved per dollar of loss); None: the gain rates
    short_term_loss_rate: float | None = None
    long_term_loss_rate: float | None = None
    # Cash limits beyond the minimum: None means none
    max_cash_usd: np.ndarray | None = None  # float[A]  M_a
    withdrawal_usd: np.ndarray | None = None  # float[A]  r_a
    # Remaining budgets this year (YTD already counted); None means no budget
    gain_budget_usd: float | None = None  # G
    tax_budget_usd: float | None = None  # T
    # substitute_of[s]: index of the model security s stands in for, -1 if none
    substitute_of: np.ndarray | None = None  # int[S]
    # ρ_s per security (the substitute's quality); NaN or None: the run's default
    substitute_cost: np.ndarray | None = None  # float[S]
    # Characteristics for counterbalancing: x_{s,k}
    exposures: np.ndarray | None = None  # float[S, K]
    exposure_names: tuple[str, ...] = ()
    # Personal mandates (optimizer/constraints/mandates.py); None: none
    buy_forbidden: np.ndarray | None = None  # bool[A, S]  never buy / never trade / never hold
    sell_forbidden: np.ndarray | None = None  # bool[A, S]  never sell / never trade
    max_holding_usd: np.ndarray | None = None  # float[A, S]  M_{a,s} of never hold; inf where none
    hold_min_account: np.ndarray | None = None  # int[K]  account of favoured k, −1: household-wide
    hold_min_security: np.ndarray | None = None  # int[K]  s_k
    hold_min_usd: np.ndarray | None = None  # float[K]  K_k
    group_cap_members: np.ndarray | None = None  # bool[G, S]  securities of capped sector / industry g
    group_cap_usd: np.ndarray | None = None  # float[G]  Q_g = max weight × V
    group_cap_names: tuple[str, ...] = ()
    # Transitions: dollars that may still be sold this period (None: no limit), and equivalence sets
    turnover_budget_usd: float | None = None  # Θ
    turnover_counts_buys: bool = False  # Θ caps buys plus sells (else sells only)
    # The relaxation's last resort for budgets: they may be exceeded, by as little as any feasible trade
    # list needs (slacks priced at BUDGET_OVERSHOOT_COST per dollar); never dropped
    budgets_soft: bool = False
    # What the problem's builder had to hold back (a sell-now mandate the wash-sale rules delay), in
    # words: every solution carries them into its notes, so they reach the review queue
    notes: tuple[str, ...] = ()
    equivalent_of: np.ndarray | None = None  # int[S]: the primary a held equivalent counts toward, −1 if none
    # A transition spends its budgets on drift: least drift within them first, then the best trades
    drift_first: bool = False
    # Trading rules per account (custodian, mandates); None: the run's (SolveParams.shares, min_trade_usd)
    whole_shares: np.ndarray | None = None  # bool[A]: the account trades whole shares only
    min_trade_usd: np.ndarray | None = None  # float[A]: no trade (per security and side) smaller than this
    # Risk model (optimizer/risk.py) restricted to S; None: no risk model (the per-dollar drift penalties)
    risk_loadings: np.ndarray | None = None  # float[S, K]  B
    risk_factor_root: np.ndarray | None = None  # float[K, R]  L with F = L Lᵀ
    risk_specific_variance: np.ndarray | None = None  # float[S]  D
    max_tracking_error: float | None = None  # τ: annualized cap on TE (0.01 = 1 %); None: no cap
    # The polish (SolveParams.risk_polish): active dollars d* [S] and factor terms z* [R] of a first
    # solution, around which the segments' breakpoints are placed; None: the standard breakpoints
    risk_centre_usd: np.ndarray | None = None
    risk_factor_centre_usd: np.ndarray | None = None
    # Shares of each security acquired (bought, dividends reinvested) within the last 30 days per the
    # transactions, any account; NaN where a buy's size is unknown. None: the lots' own dates only
    recent_bought_shares: np.ndarray | None = None  # float[S]
    # Groups whose older loss lots the solve frees for partial wash sales (optimizer.solve); None: none
    partial_wash_groups: np.ndarray | None = None  # bool[G]

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)

    @property
    def n_securities(self) -> int:
        return len(self.security_ids)

    @property
    def n_lots(self) -> int:
        return len(self.lot_ids)

    @property
    def cash_class(self) -> int:
        return len(self.class_names) - 1

    @cached_property
    def lot_value_usd(self) -> np.ndarray:
        return self.lot_quantity_shares * self.price_usd[self.lot_security]

    @cached_property
    def lot_long_term(self) -> np.ndarray:
        """Long-term when sold today: held more than one year (tax.long_term_from)."""
        return self.lot_days_to_long_term == 0

    @cached_property
    def lot_gain_per_dollar(self) -> np.ndarray:
        """g_l = 1 − k_l / U_l: gain per dollar of proceeds (negative for a loss lot)."""
        value = self.lot_value_usd
        return np.divide(value - self.lot_basis_usd, value, out=np.zeros_like(value), where=value > 0)

    @cached_property
    def lot_tax_rate(self) -> np.ndarray:
        """τ_l: the gain rate for a gain lot, the loss rate for a loss lot, 0 in IRAs."""
        long_term = self.lot_long_term
        st_loss = self.short_term_rate if self.short_term_loss_rate is None else self.short_term_loss_rate
        lt_loss = self.long_term_rate if self.long_term_loss_rate is None else self.long_term_loss_rate
        gain = np.where(long_term, self.long_term_rate, self.short_term_rate)
        loss = np.where(long_term, lt_loss, st_loss)
        rate = np.where(self.lot_basis_usd > self.lot_value_usd, loss, gain)
        return np.where(self.account_taxable[self.lot_account], rate, 0.0)

    @cached_property
    def lot_days_to_long_term(self) -> np.ndarray:
        from optimizer.tax import long_term_from

        return np.maximum((long_term_from(self.lot_acquired) - np.datetime64(self.as_of, "D")).astype(int), 0)

    @cached_property
    def is_substitute(self) -> np.ndarray:
        """Securities held or bought only as stand-ins for a model security."""
        if self.substitute_of is None:
            return np.zeros(self.n_securities, dtype=bool)
        return (self.substitute_of >= 0) & (self.target_weight <= 0)

    def substitute_cost_rate(self, default: float) -> np.ndarray:
        """ρ_s for every security: its own substitute cost where given, else ``default``; 0 if not a substitute."""
        own = np.full(self.n_securities, default) if self.substitute_cost is None else \
            np.where(np.isnan(self.substitute_cost), default, self.substitute_cost)
        return np.where(self.is_substitute, own, 0.0)

    @cached_property
    def slot(self) -> np.ndarray:
        """σ(s): the model security whose target s counts toward (itself unless it is a substitute or
        a member of a transition's equivalence set)."""
        own = np.arange(self.n_securities)
        if self.equivalent_of is not None:
            own = np.where((self.equivalent_of >= 0) & (self.target_weight <= 0), self.equivalent_of, own)
        return own if self.substitute_of is None else np.where(self.is_substitute, self.substitute_of, own)

    @property
    def has_risk_model(self) -> bool:
        """The problem carries a factor model: risk is priced by it instead of the drift penalties."""
        return self.risk_loadings is not None

    def tracking_error_of(self, active_usd: np.ndarray) -> float:
        """TE = √(dᵀ(BFBᵀ + D)d) / V of active dollars d on S, annualized, from this problem's risk model
        (optimizer.risk.tracking_error); the problem must carry one."""
        from optimizer.risk import tracking_error

        return tracking_error(active_usd, self.total_value_usd, self.risk_loadings, self.risk_factor_root,
                              self.risk_specific_variance)

    @cached_property
    def risk_lp_factors(self) -> tuple[np.ndarray, np.ndarray]:
        """(B', L') the LP writes its factor rows with: B' L' L'ᵀ B'ᵀ = B F Bᵀ on S. The model's own (B, L)
        when the household holds at least as many securities as there are factors; else compressed to
        the rank of M = B L (≤ S): M = U Σ Wᵀ, B' = U Σ, L' = I — an ETF household of 20 funds under a
        25-factor model writes ≤ 20 dense rows instead of 25 + 25 (exact: ‖Mᵀd‖ = ‖Σ Uᵀd‖)."""
        b, root = self.risk_loadings, self.risk_factor_root
        if self.n_securities >= b.shape[1]:
            return b, root
        u, sigma, _ = np.linalg.svd(b @ root, full_matrices=False)
        keep = sigma > 1e-9 * max(sigma.max(initial=0.0), 1e-300)
        return u[:, keep] * sigma[keep], np.eye(int(keep.sum()))

    @cached_property
    def lp_slot(self) -> np.ndarray:
        """The slot whose e± carries s in the LP: σ(s) without a risk model; with one, every security
        is its own slot (its active dollars d_s = e⁺_s − e⁻_s), so the model prices a stand-in
        against its primary instead of counting it as the primary."""
        return np.arange(self.n_securities) if self.has_risk_model else self.slot

    @cached_property
    def buyable(self) -> np.ndarray:
        """In the model, a substitute, or a favoured security (hold at least) of the household."""
        favoured = np.zeros(self.n_securities, dtype=bool)
        if self.hold_min_security is not None:
            favoured[self.hold_min_security] = True
        return (self.target_weight > 0) | self.is_substitute | favoured

    @cached_property
    def cash_floor_usd(self) -> np.ndarray:
        """m_a + r_a: the cash each account must hold after trading."""
        return self.min_cash_usd + (0.0 if self.withdrawal_usd is None else self.withdrawal_usd)

    @cached_property
    def cash_ceiling_usd(self) -> np.ndarray:
        return np.full(self.n_accounts, np.inf) if self.max_cash_usd is None else self.max_cash_usd

    @property
    def holdings_usd(self) -> np.ndarray:
        """H⁰_{a,s} as an [A, S] matrix."""
        h = np.zeros((self.n_accounts, self.n_securities))
        np.add.at(h, (self.lot_account, self.lot_security), self.lot_value_usd)
        return h

    @cached_property
    def total_value_usd(self) -> float:
        return float(self.lot_value_usd.sum() + self.cash_usd.sum())

    @cached_property
    def lot_age_days(self) -> np.ndarray:
        """int[L]: days from each lot's acquisition date to the as-of date (≤ 30: inside a wash-sale window)."""
        return (np.datetime64(self.as_of, "D") - self.lot_acquired).astype(int)

    @cached_property
    def lot_loss_sale_window(self) -> np.ndarray:
        """Loss lots that may not be sold: every lot of an identical group that was bought within the
        last 30 days in any account, per the transactions (a flagged lot) or the lots' own dates."""
        group = self.identical_group[self.lot_security]
        recent_groups = np.unique(group[(self.lot_age_days <= 30) | self.lot_loss_sale_blocked])
        return np.isin(group, recent_groups)

    @cached_property
    def group_replacement_shares(self) -> np.ndarray:
        """R_g per identical group: shares acquired within the last 30 days in any account, the most a
        loss sale today can have matched (only that many shares' loss is disallowed, Publication 550):
        the shares of its lots dated within 30 days. inf — the group's loss lots stay frozen whole —
        where the transactions show more shares bought in the window than those lots hold (a recent
        purchase hides among older-dated lots, e.g. a replacement whose date a wash sale moved back:
        which lots are truly older is then not known), or a buy whose size is not known."""
        groups = self.identical_group.max(initial=-1) + 1
        lot_group = self.identical_group[self.lot_security]
        recent = self.lot_age_days <= 30
        shares = np.bincount(lot_group[recent], weights=self.lot_quantity_shares[recent], minlength=groups)
        if self.recent_bought_shares is not None:
            bought = np.bincount(self.identical_group, weights=self.recent_bought_shares, minlength=groups)
            shares = np.where(np.isnan(bought) | (bought > shares * (1 + 1e-9) + 1e-9), np.inf, shares)
        flagged = np.zeros(groups, dtype=bool)
        flagged[lot_group[self.lot_loss_sale_blocked]] = True
        return np.where(flagged & (shares <= 0), np.inf, shares)

    @cached_property
    def lot_partly_washable(self) -> np.ndarray:
        """bool[L]: taxable loss lots frozen by a wash-sale window that a partial wash sale may free:
        held more than 30 days (not themselves a replacement) in a group whose R_g is known."""
        loss = (self.lot_basis_usd > self.lot_value_usd) & self.account_taxable[self.lot_account]
        known = np.isfinite(self.group_replacement_shares)[self.identical_group[self.lot_security]]
        return loss & self.lot_loss_sale_window & (self.lot_age_days > 30) & known

    def with_partial_wash_groups(self, groups: np.ndarray) -> "HouseholdProblem":
        """This problem with ``partial_wash_groups`` set, keeping the arrays already derived (only ω
        depends on the groups): the solve's copy costs no recomputation."""
        freed = dataclasses.replace(self, partial_wash_groups=groups)
        kept = {k: v for k, v in self.__dict__.items() if k in _DERIVED and k != "lot_wash_share"}
        freed.__dict__.update(kept)
        return freed

    @cached_property
    def lot_wash_share(self) -> np.ndarray:
        """ω per lot (optimizer.ledger.partial_wash.lot_wash_share): 0 unless freed for a partial wash sale."""
        from optimizer.ledger.partial_wash import lot_wash_share  # the ledger imports this module

        return lot_wash_share(self)

    def account_whole_shares(self, params: SolveParams) -> np.ndarray:
        """bool[A]: accounts that trade whole shares only (fractional shares not allowed there)."""
        if self.whole_shares is None:
            return np.full(self.n_accounts, params.shares != "fractional")
        return self.whole_shares

    def account_min_trade_usd(self, params: SolveParams) -> np.ndarray:
        """float[A]: the smallest trade each account sends, per security and side."""
        if self.min_trade_usd is None:
            return np.full(self.n_accounts, params.min_trade_usd)
        return np.maximum(self.min_trade_usd, params.min_trade_usd)

    @cached_property
    def mandated_positions(self) -> np.ndarray:
        """bool[A, S]: positions a hard mandate makes trade today, whatever their size (a never-hold cap
        below the holding; a hold-at-least not yet met). The minimum trade size does not apply to them."""
        out = np.zeros((self.n_accounts, self.n_securities), dtype=bool)
        held = self.holdings_usd
        if self.max_holding_usd is not None:
            out |= held > self.max_holding_usd + 0.01
        if self.hold_min_security is not None:
            for a, s, amount in zip(self.hold_min_account, self.hold_min_security, self.hold_min_usd):
                if (held[:, s].sum() if a < 0 else held[a, s]) < amount:
                    out[slice(None) if a < 0 else a, s] = True
        return out

    def location(self) -> np.ndarray:
        if self.location_value is None:
            return np.zeros((self.n_accounts, self.n_securities))
        return self.location_value


# The derived arrays (cached on first use): what ``with_partial_wash_groups`` may carry over.
_DERIVED = frozenset(k for k, v in vars(HouseholdProblem).items() if isinstance(v, cached_property))
