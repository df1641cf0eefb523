"""One household's books in a simulation: its lots (through the tax-lot ledger, wash sales and
basis adjustments included), cash per account, recent transactions, and the tax year.

Taxes: a year's realized gains are netted (carryforwards in and out, the $3,000 deduction) and taxed
with the household's profile (``optimizer.ledger.estimate``), plus qualified dividends at the
long-term rates. The year is settled on its due date, the first rebalance on or after 15 April of
the next year — late enough that every wash-sale window of the year has closed — and is either paid
from the household's taxable account's cash (``pay``: the rebalance raises it) or accrued as a
liability (``accrue``). Until then the optimizer sees the next year's carryforwards as netted on
1 January.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl

from optimizer.ledger.engine import Ledger
from optimizer.ledger.estimate import NIIT_RATE, TaxProfile, estimate_tax
from optimizer.ledger.model import IRA_ACCOUNT_TYPES, LedgerEvent, SaleLine
from optimizer.ledger.netting import YearNetting, net_year
from optimizer.ledger.savings import Realized, TaxYear
from optimizer.tax import is_long_term

TaxMode = Literal["pay", "accrue"]
# Transactions kept for the optimizer: the wash-sale windows need 30 days, a transition its period.
LOG_DAYS, TRANSITION_LOG_DAYS = 31, 366


@dataclass
class YearFigures:
    """What one calendar year did, for the results."""

    taxes_usd: float = 0.0  # the year's estimated tax (gains and dividends), whenever settled
    st_gain_usd: float = 0.0  # recognized, taxable accounts
    lt_gain_usd: float = 0.0
    losses_harvested_usd: float = 0.0  # recognized losses (after wash-sale disallowance), as a positive amount
    dividends_usd: float = 0.0
    deposits_usd: float = 0.0
    withdrawals_usd: float = 0.0
    sold_usd: float = 0.0
    bought_usd: float = 0.0
    wash_sales: int = 0  # sale lines with a disallowed loss the strategy did not state (partial ones it chose are not)


@dataclass
class HouseholdBook:
    household_id: str
    profile: TaxProfile
    account_type: dict[str, str]
    cash_usd: dict[str, float]
    tax_account: str
    tax_mode: TaxMode
    ledger: Ledger
    year: int
    tax_due_usd: float = 0.0  # settled, to be paid at this rebalance (pay mode)
    liability_usd: float = 0.0  # settled and accrued, never paid (accrue mode)
    log: deque = field(default_factory=deque)
    log_days: int = LOG_DAYS
    carry_value: float = 0.8  # value of a loss dollar carried forward, × the long-term rate (RunConfig)
    # Short-term gains the household realizes each year outside this book (another manager, a
    # business): recognized on 1 January and netted with the book's lines, so a harvested loss can
    # offset them at once — the seed's "ability to use the loss". Every strategy gets the same; the
    # book is charged the household's tax less what the outside gains alone would cost
    # (``_outside_tax_usd``), so a loss that offsets them is a credit and none is a charge.
    outside_st_gain_usd: float = 0.0
    years: dict[int, YearFigures] = field(default_factory=dict)
    # (trade date, lot id) → loss the strategy stated its partial wash sale disallows (Decision.washed)
    stated_washes: dict[tuple[dt.date, str], float] = field(default_factory=dict)
    _open_years: dict[int, int] = field(default_factory=dict)  # year → index of its first sale line
    _dividends: dict[int, float] = field(default_factory=dict)  # taxable dividends per open year
    _settled_carry: dict[int, tuple[float, float]] = field(default_factory=dict)  # (ST, LT) carried into a year
    # Per open year: [cursor into ledger.sales, ST gains, ST losses, LT gains, LT losses] of its lines
    # before the cursor, final because more than 30 days old (no later buy can wash them any more).
    _final: dict[int, list] = field(default_factory=dict)
    _today: dt.date | None = None

    # ------------------------------------------------------------ the year
    def figures(self, year: int) -> YearFigures:
        return self.years.setdefault(year, YearFigures())

    def start_year(self, year: int) -> None:
        self._open_years.setdefault(year, len(self.ledger.sales))
        self._final.setdefault(year, [len(self.ledger.sales), 0.0, 0.0, 0.0, 0.0])
        self._dividends.setdefault(year, 0.0)
        self.year = year

    def roll_to(self, day: dt.date) -> None:
        """Open ``day``'s year and settle every open year whose due date (15 April of the next year) has come."""
        self._today = day
        while self.year < day.year:
            self.start_year(self.year + 1)
        for year in sorted(y for y in self._open_years if y < day.year and day >= dt.date(y + 1, 4, 15)):
            self._settle(year)

    def settle_all(self) -> None:
        """At the end of the simulation: every year still open is accrued (its tax is a liability of
        the liquidation value, the current year's included)."""
        for year in sorted(self._open_years):
            self._settle(year, force_accrue=True)

    def _year_end(self, year: int) -> int:
        later = [i for y, i in self._open_years.items() if y > year]
        return min(later) if later else len(self.ledger.sales)

    def _year_lines(self, year: int) -> list[SaleLine]:
        return [s for s in self.ledger.sales[self._open_years[year]:self._year_end(year)]
                if s.taxable and s.trade_date.year == year]

    def _sums(self, year: int) -> tuple[float, float, float, float]:
        """The year's recognized (ST gains, ST losses, LT gains, LT losses) so far, the outside gains
        included: the final part kept
        as running sums, the last 30 days' lines (still open to a wash-sale match) added each time."""
        final, end, sales = self._final[year], self._year_end(year), self.ledger.sales
        settled_before = self._today - dt.timedelta(days=31) if self._today else dt.date.min
        while final[0] < end and sales[final[0]].trade_date <= settled_before:
            _add(final, sales[final[0]], year)
            final[0] += 1
        tail = [final[0], *final[1:]]
        for line in sales[final[0]:end]:
            _add(tail, line, year)
        return tail[1] + self.outside_st_gain_usd, tail[2], tail[3], tail[4]

    def _netting(self, year: int) -> YearNetting:
        st_g, st_l, lt_g, lt_l = self._sums(year)
        carry = self._carry_into(year)
        return net_year(self.household_id, year, st_g, st_l, lt_g, lt_l, carry[0], carry[1], self.profile.filing_status)

    def carry_usd(self) -> tuple[float, float]:
        """(ST, LT) losses carried into the current year (an unsettled last year netted as it stands)."""
        return self._carry_into(self.year)

    def _carry_into(self, year: int) -> tuple[float, float]:
        earlier = [y for y in self._open_years if y < year]
        if earlier:  # the year before is still open: its netting as it stands
            n = self._netting(max(earlier))
            return n.st_carryover_out_usd, n.lt_carryover_out_usd
        return self._settled_carry.get(year, (0.0, 0.0))

    def _settle(self, year: int, force_accrue: bool = False) -> None:
        n = self._netting(year)
        lines = self._year_lines(year)
        tax = estimate_tax(n, self.profile).total_usd - self._outside_tax_usd(year) \
            + self._dividends.get(year, 0.0) * self._dividend_rate()
        f = self.figures(year)
        f.taxes_usd = tax
        f.st_gain_usd = n.st_gains_usd - self.outside_st_gain_usd - n.st_losses_usd
        f.lt_gain_usd = n.lt_gains_usd - n.lt_losses_usd
        f.losses_harvested_usd = sum(max(-s.recognized_gain_usd, 0.0) for s in lines)
        f.wash_sales = sum(1 for s in self.ledger.sales[self._open_years[year]:] if s.trade_date.year == year
                           and s.disallowed_usd > self.stated_washes.get((s.trade_date, s.lot_id), 0.0) + 0.01)
        self._settled_carry[year + 1] = (n.st_carryover_out_usd, n.lt_carryover_out_usd)
        del self._open_years[year]
        self._final.pop(year, None)
        self._dividends.pop(year, None)
        if self.tax_mode == "pay" and not force_accrue:
            self.tax_due_usd += tax
        else:
            self.liability_usd += tax

    def _outside_tax_usd(self, year: int) -> float:
        """The tax the year's outside gains would cost on their own (no book lines, no carryover)."""
        if not self.outside_st_gain_usd:
            return 0.0
        alone = net_year(self.household_id, year, self.outside_st_gain_usd, 0.0, 0.0, 0.0, 0.0, 0.0,
                         self.profile.filing_status)
        return estimate_tax(alone, self.profile).total_usd

    def _dividend_rate(self) -> float:
        p = self.profile
        return p.federal_ltcg_rate + p.state_rate + (NIIT_RATE if p.niit_applies else 0.0)

    def ytd(self) -> tuple[float, float]:
        """Net recognized short- and long-term gains of the current year so far (taxable accounts)."""
        st_g, st_l, lt_g, lt_l = self._sums(self.year)
        return st_g - st_l, lt_g - lt_l

    # ------------------------------------------------------------ money in and out
    def pay_dividends(self, day: dt.date, close: dict[str, float], annual_yield: float, days: int) -> float:
        """Cash dividends for ``days`` days at ``annual_yield`` on each position at ``day``'s close."""
        if annual_yield <= 0 or days <= 0:
            return 0.0
        paid = 0.0
        for lot in self.ledger.lots.values():
            amount = lot.quantity * close[lot.security] * annual_yield * days / 365.0
            self.cash_usd[lot.account] += amount
            paid += amount
            if not lot.is_ira:
                self._dividends[self.year] = self._dividends.get(self.year, 0.0) + amount
        self.figures(day.year).dividends_usd += paid
        return paid

    def deposit(self, day: dt.date, amount_usd: float) -> None:
        self.cash_usd[self.tax_account] += amount_usd
        self.figures(day.year).deposits_usd += amount_usd

    def withdraw(self, day: dt.date, amount_usd: float, tax_usd: float) -> None:
        """After the rebalance raised it: the withdrawal and the tax leave the taxable account."""
        self.cash_usd[self.tax_account] -= amount_usd + tax_usd
        self.figures(day.year).withdrawals_usd += amount_usd

    # ------------------------------------------------------------ trades
    def execute(self, day: dt.date, close: dict[str, float], sells: list[tuple[str, float]],
                buys: list[tuple[str, str, float]], stated_washes: dict[str, float] | None = None) -> None:
        """Sells (lot id, shares) then buys (account, security, shares), all at ``day``'s close. The
        sells go in the order their lots were acquired (Treas. Reg. §1.1091-1(b): shares disposed of
        together are matched to replacements earliest acquired first), by the date the optimizer saw
        (``lot_rows``: a replacement's moved back by a wash sale), as it priced them;
        ``stated_washes`` (lot id → disallowed loss the strategy expects) is kept beside the ledger's."""
        f = self.figures(day.year)
        for lot_id, usd in (stated_washes or {}).items():
            self.stated_washes[(day, lot_id)] = usd
        for lot_id, shares in sorted(sells, key=lambda sell: (self.ledger.lots[sell[0]].holding_start, sell[0])):
            lot = self.ledger.lots[lot_id]
            shares = min(shares, lot.quantity)
            lines = self.ledger.apply(LedgerEvent(None, day, self.household_id, lot.account, lot.account_type,
                                                  lot.security, "sell", shares, close[lot.security], lot_method="specific",
                                                  lot_ids=((lot_id, shares),)))
            proceeds = sum(s.proceeds_usd for s in lines)
            self.cash_usd[lot.account] += proceeds
            f.sold_usd += proceeds
            self.log.append(dict(trade_date=day, account_id=lot.account, transaction_type="sell", security_id=lot.security,
                                 quantity_shares=shares, amount_usd=proceeds, cost_basis_usd=sum(s.basis_usd for s in lines)))
        for account, security, shares in buys:
            amount = shares * close[security]
            self.ledger.apply(LedgerEvent(None, day, self.household_id, account, self.account_type[account], security,
                                          "buy", shares, close[security]))
            self.cash_usd[account] -= amount
            f.bought_usd += amount
            self.log.append(dict(trade_date=day, account_id=account, transaction_type="buy", security_id=security,
                                 quantity_shares=shares, amount_usd=amount, cost_basis_usd=None))
        for account, cash in self.cash_usd.items():  # share arithmetic leaves ±1e-10 where a buy spent it all:
            if abs(cash) < 1e-6:                       # noise, not money (a negative would read as a breach)
                self.cash_usd[account] = 0.0
        while self.log and (day - self.log[0]["trade_date"]).days > self.log_days:
            self.log.popleft()

    # ------------------------------------------------------------ values
    def value_usd(self, close: dict[str, float]) -> float:
        return sum(lot.quantity * close[lot.security] for lot in self.ledger.lots.values()) + sum(self.cash_usd.values())

    def unrealized_gain_usd(self, close: dict[str, float]) -> float:
        """Gains not yet realized in taxable accounts (value − adjusted basis): what has been deferred."""
        return sum(lot.quantity * close[lot.security] - lot.basis_usd for lot in self.ledger.lots.values() if not lot.is_ira)

    def liquidation_usd(self, day: dt.date, close: dict[str, float]) -> float:
        """After-tax value if everything were sold at ``day``'s close: the value less the tax of every
        open year (this one with the liquidation's gains), of what is settled but unpaid, and of the
        accrued liabilities; a loss still carried forward after the sale is worth ``carry_value`` × the
        long-term rate a dollar, as the optimizer and the tax report price it (``after_tax_cost``)."""
        gain, long_term, taxable = [], [], []
        for lot in self.ledger.lots.values():
            gain.append(lot.quantity * close[lot.security] - lot.basis_usd)
            long_term.append(is_long_term(lot.holding_start, day))
            taxable.append(not lot.is_ira)
        realized = Realized.of_lots(np.array(gain), np.array(long_term, dtype=bool), np.array(taxable, dtype=bool)) \
            if gain else Realized()
        tax = self.tax_due_usd + self.liability_usd
        for year in sorted(self._open_years):
            n = self._netting(year)
            if year == self.year:
                st, lt = n.st_gains_usd - n.st_losses_usd, n.lt_gains_usd - n.lt_losses_usd
                tax += TaxYear(year, st, lt, n.st_carryover_in_usd, n.lt_carryover_in_usd, self.profile) \
                    .cost_usd(realized, self.carry_value)
            else:
                tax += estimate_tax(n, self.profile).total_usd
            tax += self._dividends.get(year, 0.0) * self._dividend_rate() - self._outside_tax_usd(year)
        return self.value_usd(close) - tax

    # ------------------------------------------------------------ frames for the optimizer
    def lot_rows(self) -> list[tuple]:
        return [(self.household_id, lot.account, lot.security, lot.lot_id, lot.quantity, lot.basis_usd, lot.holding_start)
                for lot in self.ledger.lots.values()]

    def transaction_rows(self) -> list[dict]:
        return [r | {"household_id": self.household_id} for r in self.log]


def _add(sums: list, line: SaleLine, year: int) -> None:
    """Add a sale line's recognized gain or loss to [_, ST gains, ST losses, LT gains, LT losses]."""
    if not line.taxable or line.trade_date.year != year:
        return
    g = line.recognized_gain_usd
    k = 1 if line.term == "short" else 3
    sums[k] += max(g, 0.0)
    sums[k + 1] += max(-g, 0.0)


def open_book(household: dict, accounts: pl.DataFrame, start_cash: dict[str, float], start_lots: pl.DataFrame,
              identical: dict[str, str], tax_account: str, tax_mode: TaxMode, start: dt.date,
              in_transition: bool = False, recent: pl.DataFrame | None = None, carry_value: float = 0.8,
              outside_st_gain_usd: float = 0.0) -> HouseholdBook:
    """A household's books on the start date: its cash, its starting lots as transfers in (their
    basis and acquisition dates carried; no wash-sale replacement capacity), and ``recent``: its
    transactions of the 30 days before (their wash-sale windows)."""
    profile = TaxProfile(household["filing_status"], household["federal_ordinary_rate"], household["federal_ltcg_rate"],
                         household["state_rate"], household["niit_applies"])
    types = dict(accounts.select("account_id", "account_type").iter_rows())
    book = HouseholdBook(household["household_id"], profile, types, {a: float(start_cash.get(a, 0.0)) for a in types},
                         tax_account, tax_mode, Ledger(identical), start.year,
                         log_days=TRANSITION_LOG_DAYS if in_transition else LOG_DAYS, carry_value=carry_value,
                         outside_st_gain_usd=outside_st_gain_usd)
    book._settled_carry[start.year] = (household["st_loss_carryforward_usd"], household["lt_loss_carryforward_usd"])
    book.start_year(start.year)
    for r in (recent.filter(pl.col("account_id").is_in(list(types))).iter_rows(named=True) if recent is not None else []):
        book.log.append(r)  # the windows the optimizer sees; a loss sale's also binds the ledger (it counts washes)
        if (r["transaction_type"] == "sell" and types[r["account_id"]] not in IRA_ACCOUNT_TYPES and r["quantity_shares"]
                and r["cost_basis_usd"] is not None and r["cost_basis_usd"] > r["amount_usd"]):
            book.ledger.add_loss_window(book.household_id, r["account_id"], r["security_id"], r["trade_date"],
                                        r["quantity_shares"], (r["cost_basis_usd"] - r["amount_usd"]) / r["quantity_shares"])
    for account, security, lot_id, shares, basis, acquired in start_lots.filter(
            pl.col("account_id").is_in(list(types))).sort("acquisition_date", "lot_id").iter_rows():
        book.ledger.apply(LedgerEvent(None, start, book.household_id, account, types[account], security, "transfer_in",
                                      shares, 0.0, new_lot_id=lot_id, basis_usd=basis, acquired=acquired))
    return book
