"""The tax-lot ledger: replays a taxpayer's transactions across all accounts (IRS Publication 550).

Rules, and how they are applied here
- Holding period (§1222, §1223): starts the day after the trade date; long-term when sold more
  than one year later (``optimizer.tax.long_term_from``). A lot's ``holding_start`` is the date the
  holding period counts from; wash-sale tacking moves it earlier.
- Wash sales (§1091): a loss on a sale in a taxable account is disallowed to the extent that
  substantially identical shares (same ``group``) are acquired within 30 days before or after the
  sale, in any account of the taxpayer, IRAs included. Replacement shares are matched in the order
  they were acquired, each share once, and only as many as were sold at a loss (partial wash
  sales). The disallowed loss is added to the replacement shares' basis and the sold shares'
  holding period is tacked on (the replacement's ``holding_start`` moves back by the days the sold
  shares were held); a partly matched replacement lot is split so only the matched shares change.
  A replacement bought in a traditional or Roth IRA disallows the loss permanently and moves no
  basis (Rev. Rul. 2008-5). Sales at a gain are never wash sales; a replacement lot that is later
  sold at a loss carries its added basis into the next wash sale (chains).
- What counts as a replacement: buys and reinvested dividends still open when matched; the very
  shares sold are never their own replacement (the sold shares leave the lot before matching),
  while unsold shares of the same purchase are. Transfers in are not acquisitions.
- Sales in IRAs realize nothing taxable and are never wash sales themselves.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from optimizer.ledger.model import LedgerError, LedgerEvent, Lot, SaleLine
from optimizer.tax import is_long_term

WINDOW_DAYS = 30
EPS_SHARES = 1e-9
# A sale whose proceeds and basis differ by less than this is break-even, not a loss: shares × price
# and basis × fraction round differently by ~1e-14 (a lot sold at the price it was bought at).
BREAK_EVEN_USD = 1e-6


@dataclass(slots=True)
class _PendingLoss:
    """Loss shares of a sale not yet matched to a replacement; live for 30 days after the sale."""

    line: SaleLine
    sale_date: dt.date
    shares: float
    loss_per_share: float
    held_days: int


class Ledger:
    """Replays events in trade-date order (per taxpayer) and keeps open lots, sales and windows."""

    def __init__(self, identical: Mapping[str, str] | None = None) -> None:
        self.identical = dict(identical or {})
        self.lots: dict[str, Lot] = {}
        self.sales: list[SaleLine] = []
        self._positions: dict[tuple[str, str, str], list[Lot]] = {}
        self._acquisitions: dict[tuple[str, str], deque[Lot]] = {}
        self._pending: dict[tuple[str, str], deque[_PendingLoss]] = {}
        self._last_date: dict[str, dt.date] = {}
        self.last_loss_sale: dict[tuple[str, str], dt.date] = {}
        self.last_acquisition: dict[tuple[str, str], dt.date] = {}
        self._seq = 0

    # ------------------------------------------------------------------ public
    def group(self, security: str) -> str:
        return self.identical.get(security, security)

    def apply(self, e: LedgerEvent) -> list[SaleLine]:
        """Apply one event; returns the sale lines it created (empty for acquisitions)."""
        last = self._last_date.get(e.taxpayer)
        if last is not None and e.trade_date < last:
            raise LedgerError(e.row, "trade_date", f"{e.trade_date} is before the taxpayer's previous transaction "
                                                   f"({last}): transactions must be in trade-date order")
        if not e.quantity > 0:
            raise LedgerError(e.row, "quantity", f"must be > 0, got {e.quantity}")
        if e.side == "sell":
            lines = self._sell(e)
        elif e.side in ("buy", "reinvest", "transfer_in"):
            self._acquire(e)
            lines = []
        else:
            raise LedgerError(e.row, "side", f"unknown side {e.side!r}")
        self._last_date[e.taxpayer] = e.trade_date
        return lines

    def replay(self, events: Iterable[LedgerEvent], errors: list[LedgerError] | None = None) -> "Ledger":
        """Apply every event; with ``errors`` given, a bad event is recorded there and skipped."""
        for e in events:
            try:
                self.apply(e)
            except LedgerError as err:
                if errors is None:
                    raise
                errors.append(err)
        return self

    def add_loss_window(self, taxpayer: str, account: str, security: str, sale_date: dt.date, shares: float,
                        loss_per_share_usd: float) -> SaleLine:
        """A loss sale known from outside the replayed history (before it starts, or a custodian's
        record): its unmatched shares wash acquisitions for 30 days after ``sale_date``; it changes
        no lot the ledger holds. Returns the sale line that will carry any disallowance."""
        line = SaleLine(None, taxpayer, account, "taxable_individual", security, f"~loss:{security}", sale_date,
                        sale_date, sale_date, shares, 0.0, shares * loss_per_share_usd, "short", True)
        key = (taxpayer, self.group(security))
        self.last_loss_sale[key] = max(sale_date, self.last_loss_sale.get(key, sale_date))
        self.sales.append(line)
        self._pending.setdefault(key, deque()).append(_PendingLoss(line, sale_date, shares, loss_per_share_usd, 0))
        return line

    def open_lots(self) -> list[Lot]:
        return sorted(self.lots.values(), key=lambda lot: (lot.taxpayer, lot.account, lot.security, lot.seq, lot.lot_id))

    # ------------------------------------------------------------ acquisitions
    def _acquire(self, e: LedgerEvent) -> None:
        self._seq += 1
        lot_id = e.new_lot_id or f"{e.account}:{e.security}:{self._seq}"
        if lot_id in self.lots:
            raise LedgerError(e.row, "lot_ids", f"lot id {lot_id} is already open")
        transfer = e.side == "transfer_in"
        if transfer and (e.basis_usd is None or e.acquired is None):
            raise LedgerError(e.row, "basis", "a transfer in needs its carried basis and acquisition date")
        basis = e.basis_usd if transfer else e.quantity * e.price_usd + e.fees_usd
        acquired = e.acquired if transfer else e.trade_date
        group = self.group(e.security)
        lot = Lot(lot_id, e.taxpayer, e.account, e.account_type, e.security, group, e.quantity, float(basis),
                  acquired, acquired, self._seq, replacement_capacity=0.0 if transfer else e.quantity,
                  in_window_from=None if transfer else e.trade_date)
        self.lots[lot_id] = lot
        self._positions.setdefault((e.taxpayer, e.account, e.security), []).append(lot)
        if transfer:
            return
        key = (e.taxpayer, group)
        self._acquisitions.setdefault(key, deque()).append(lot)
        self.last_acquisition[key] = e.trade_date
        pending = self._pending.get(key)
        while pending and lot.replacement_capacity > EPS_SHARES and lot.lot_id in self.lots:
            loss = pending[0]
            if (e.trade_date - loss.sale_date).days > WINDOW_DAYS:
                pending.popleft()
                continue
            shares = min(loss.shares, lot.replacement_capacity, lot.quantity)
            self._wash(loss.line, loss.sale_date, loss.loss_per_share, loss.held_days, lot, shares)
            loss.shares -= shares
            if loss.shares <= EPS_SHARES:
                pending.popleft()

    # ------------------------------------------------------------------- sales
    def _relief(self, e: LedgerEvent, open_lots: list[Lot]) -> list[tuple[Lot, float]]:
        held = sum(lot.quantity for lot in open_lots)
        if e.quantity > held * (1 + 1e-12) + EPS_SHARES:
            raise LedgerError(e.row, "quantity", f"sells {e.quantity:g} shares of {e.security} in {e.account} "
                                                 f"but {held:g} are held")
        if e.lot_method == "specific":
            by_id = {lot.lot_id: lot for lot in open_lots}
            picks, left = [], e.quantity
            for lot_id, shares in e.lot_ids:
                lot = by_id.get(lot_id)
                if lot is None:
                    raise LedgerError(e.row, "lot_ids", f"lot {lot_id} is not open in {e.account} / {e.security}")
                take = min(lot.quantity if shares is None else shares, left)
                if take > lot.quantity + EPS_SHARES:
                    raise LedgerError(e.row, "lot_ids", f"lot {lot_id} holds {lot.quantity:g} shares, {take:g} asked")
                picks.append((lot, min(take, lot.quantity)))
                left -= take
            if left > EPS_SHARES:
                raise LedgerError(e.row, "lot_ids", f"the lots named cover {e.quantity - left:g} of {e.quantity:g} shares")
            return picks
        if e.lot_method == "hifo":
            order = sorted(open_lots, key=lambda lot: (-lot.basis_usd / lot.quantity, lot.acquired, lot.seq))
        elif e.lot_method == "fifo":
            order = sorted(open_lots, key=lambda lot: (lot.acquired, lot.seq))
        else:
            raise LedgerError(e.row, "lot_method", f"unknown lot method {e.lot_method!r} (fifo, hifo, specific)")
        picks, left = [], e.quantity
        for lot in order:
            if left <= EPS_SHARES:
                break
            take = min(lot.quantity, left)
            picks.append((lot, take))
            left -= take
        return picks

    def _sell(self, e: LedgerEvent) -> list[SaleLine]:
        key = (e.taxpayer, e.account, e.security)
        open_lots = self._positions.get(key, [])
        picks = self._relief(e, open_lots)
        net_proceeds = e.quantity * e.price_usd - e.fees_usd
        taxable = e.account_type not in ("traditional_ira", "roth_ira")
        group = self.group(e.security)
        lines = []
        for lot, take in picks:
            fraction = take / lot.quantity
            basis = lot.basis_usd * fraction
            line = SaleLine(e.row, e.taxpayer, e.account, e.account_type, e.security, lot.lot_id, e.trade_date,
                            lot.acquired, lot.holding_start, take, net_proceeds * take / e.quantity, basis,
                            "long" if is_long_term(lot.holding_start, e.trade_date) else "short", taxable)
            lot.basis_usd -= basis
            lot.wash_adjustment_usd -= lot.wash_adjustment_usd * fraction
            lot.quantity -= take
            lot.replacement_capacity = min(lot.replacement_capacity, lot.quantity)
            if lot.quantity <= EPS_SHARES:
                del self.lots[lot.lot_id]
                open_lots.remove(lot)
            self.sales.append(line)
            lines.append((line, lot))
        # Match losses only once every lot of this sale is relieved: shares sold together are
        # never each other's replacements.
        for line, lot in lines:
            if taxable and line.gain_usd < -BREAK_EVEN_USD:
                self._match_loss(line, lot, group, e.trade_date)
        return [line for line, _ in lines]

    def _match_loss(self, line: SaleLine, sold: Lot, group: str, sale_date: dt.date) -> None:
        key = (line.taxpayer, group)
        self.last_loss_sale[key] = sale_date
        loss_per_share = -line.gain_usd / line.quantity
        held_days = (sale_date - sold.holding_start).days
        shares = line.quantity
        window_start = sale_date - dt.timedelta(days=WINDOW_DAYS)
        acquisitions = self._acquisitions.get(key, deque())
        while acquisitions and acquisitions[0].in_window_from < window_start:
            acquisitions.popleft()  # too old to replace this or any later loss of this taxpayer
        for cand in list(acquisitions):
            if shares <= EPS_SHARES:
                break
            if cand.lot_id not in self.lots or cand.replacement_capacity <= EPS_SHARES:
                continue
            take = min(shares, cand.replacement_capacity, cand.quantity)
            self._wash(line, sale_date, loss_per_share, held_days, cand, take)
            shares -= take
        if shares > EPS_SHARES:
            self._pending.setdefault(key, deque()).append(_PendingLoss(line, sale_date, shares, loss_per_share, held_days))

    def _wash(self, line: SaleLine, sale_date: dt.date, loss_per_share: float, held_days: int,
              replacement: Lot, shares: float) -> None:
        disallowed = shares * loss_per_share
        line.disallowed_usd += disallowed
        replacement.replacement_capacity -= shares
        if replacement.is_ira:
            line.disallowed_permanently_usd += disallowed
            line.replacements.append(replacement.lot_id)
            return
        target = replacement if shares >= replacement.quantity - EPS_SHARES else self._split(replacement, shares)
        target.basis_usd += disallowed
        target.wash_adjustment_usd += disallowed
        target.holding_start = target.acquired - dt.timedelta(days=held_days)
        line.replacements.append(target.lot_id)

    def _split(self, lot: Lot, shares: float) -> Lot:
        """Carve ``shares`` out of ``lot`` into a new lot (id ``<lot>.w<n>``) so only they are adjusted."""
        n = 1
        while f"{lot.lot_id}.w{n}" in self.lots:
            n += 1
        fraction = shares / lot.quantity
        part = Lot(f"{lot.lot_id}.w{n}", lot.taxpayer, lot.account, lot.account_type, lot.security, lot.group,
                   shares, lot.basis_usd * fraction, lot.acquired, lot.holding_start, lot.seq,
                   lot.wash_adjustment_usd * fraction, 0.0, lot.in_window_from)
        lot.quantity -= shares
        lot.basis_usd -= part.basis_usd
        lot.wash_adjustment_usd -= part.wash_adjustment_usd
        lot.replacement_capacity = min(lot.replacement_capacity, lot.quantity)
        self.lots[part.lot_id] = part
        position = self._positions[(lot.taxpayer, lot.account, lot.security)]
        position.insert(position.index(lot) + 1, part)
        return part
