"""The tax-lot ledger against Publication 550, its boundaries, and hand-calculated cases."""

import datetime as dt

import pytest

from optimizer.ledger import Ledger, LedgerError, LedgerEvent
from optimizer.ledger.netting import net_sales, net_year
from optimizer.ledger.windows import buy_blocks, days_to_long_term, loss_sale_blocks, year_to_date

D = dt.date
TAXABLE, IRA, ROTH = "taxable_individual", "traditional_ira", "roth_ira"


def ev(date, side, qty, price, *, account="T", account_type=TAXABLE, security="M", taxpayer="tp", **kw):
    return LedgerEvent(None, date, taxpayer, account, account_type, security, side, qty, price, **kw)


def replay(*events, identical=None):
    return Ledger(identical).replay(events)


def test_pub550_basic_wash_sale():
    # Pub. 550: bought 100 shares for $1,000, sold them for $750, bought 100 within 30 days for $800:
    # the $250 loss is disallowed and the new shares' basis is $800 + $250 = $1,050.
    led = replay(ev(D(2023, 9, 21), "buy", 100, 10.0), ev(D(2025, 2, 5), "sell", 100, 7.5), ev(D(2025, 2, 14), "buy", 100, 8.0))
    (sale,) = led.sales
    assert sale.gain_usd == pytest.approx(-250.0)
    assert sale.disallowed_usd == pytest.approx(250.0) and sale.recognized_gain_usd == pytest.approx(0.0)
    (lot,) = led.open_lots()
    assert lot.basis_usd == pytest.approx(1050.0)
    # Holding period tacked: the sold shares were held 503 days (2023-09-21 → 2025-02-05), so the
    # replacement counts from 2025-02-14 − 503 days = 2023-09-30.
    assert lot.holding_start == D(2023, 9, 30)


def test_pub550_more_stock_bought_than_sold():
    # Pub. 550: 100 shares sold on 2025-02-03 at a $1,000 loss; 50 shares bought on each of Feb 10–13.
    # The whole loss is disallowed: $500 to the 50 shares of Feb 10, $500 to the 50 of Feb 11; the
    # shares of Feb 12 and 13 are untouched.
    events = [ev(D(2023, 9, 24), "buy", 100, 30.0), ev(D(2025, 2, 3), "sell", 100, 20.0)]
    events += [ev(D(2025, 2, d), "buy", 50, 21.0) for d in (10, 11, 12, 13)]
    led = replay(*events)
    assert led.sales[0].disallowed_usd == pytest.approx(1000.0)
    by_date = {lot.acquired: lot for lot in led.open_lots()}
    assert by_date[D(2025, 2, 10)].basis_usd == pytest.approx(50 * 21 + 500)
    assert by_date[D(2025, 2, 11)].basis_usd == pytest.approx(50 * 21 + 500)
    assert by_date[D(2025, 2, 12)].basis_usd == pytest.approx(50 * 21)
    assert by_date[D(2025, 2, 13)].wash_adjustment_usd == 0.0


def test_partial_wash_sale_splits_the_replacement_lot():
    # 100 shares sold at a $4 loss each ($400); 30 replacement shares bought 5 days later:
    # 30/100 of the loss ($120) is disallowed, $280 is recognized.
    led = replay(ev(D(2024, 1, 2), "buy", 100, 10.0), ev(D(2024, 6, 3), "sell", 100, 6.0), ev(D(2024, 6, 8), "buy", 30, 6.5))
    sale = led.sales[0]
    assert sale.disallowed_usd == pytest.approx(120.0) and sale.recognized_gain_usd == pytest.approx(-280.0)
    (lot,) = led.open_lots()
    assert lot.basis_usd == pytest.approx(30 * 6.5 + 120)


def test_only_matched_shares_of_a_bigger_replacement_lot_change():
    # 10 shares sold at a $2 loss ($20); 25 bought within the window: 10 of them take the $20 and
    # the tacked holding period, the other 15 keep their cost and date (the lot is split).
    led = replay(ev(D(2024, 1, 2), "buy", 10, 12.0), ev(D(2024, 3, 1), "sell", 10, 10.0),
                 ev(D(2024, 3, 5), "buy", 25, 10.0))
    lots = sorted(led.open_lots(), key=lambda lot: lot.quantity)
    assert [lot.quantity for lot in lots] == [10, 15]
    assert lots[0].basis_usd == pytest.approx(120.0) and lots[0].holding_start < D(2024, 3, 5)
    assert lots[1].basis_usd == pytest.approx(150.0) and lots[1].holding_start == D(2024, 3, 5)


@pytest.mark.parametrize("days_after, washed", [(30, True), (31, False)])
def test_window_after_the_sale(days_after, washed):
    sale = D(2024, 5, 1)
    led = replay(ev(D(2024, 1, 2), "buy", 10, 10.0), ev(sale, "sell", 10, 8.0),
                 ev(sale + dt.timedelta(days=days_after), "buy", 10, 8.0))
    assert (led.sales[0].disallowed_usd > 0) is washed


@pytest.mark.parametrize("days_before, washed", [(30, True), (31, False)])
def test_window_before_the_sale(days_before, washed):
    # Lot A bought long ago at $10; lot B bought `days_before` the sale; A sold (FIFO) at $8.
    sale = D(2024, 5, 1)
    led = replay(ev(D(2024, 1, 2), "buy", 10, 10.0), ev(sale - dt.timedelta(days=days_before), "buy", 10, 9.0),
                 ev(sale, "sell", 10, 8.0))
    assert (led.sales[0].disallowed_usd > 0) is washed


def test_holding_period_one_year_and_leap_day():
    led = replay(ev(D(2024, 1, 5), "buy", 2, 10.0), ev(D(2025, 1, 5), "sell", 1, 12.0), ev(D(2025, 1, 6), "sell", 1, 12.0),
                 ev(D(2024, 2, 29), "buy", 2, 10.0, taxpayer="leap"), ev(D(2025, 2, 28), "sell", 1, 12.0, taxpayer="leap"),
                 ev(D(2025, 3, 1), "sell", 1, 12.0, taxpayer="leap"))
    assert [s.term for s in led.sales] == ["short", "long", "short", "long"]


def test_sale_at_a_gain_is_never_a_wash_sale():
    led = replay(ev(D(2024, 1, 2), "buy", 10, 10.0), ev(D(2024, 5, 1), "sell", 10, 12.0), ev(D(2024, 5, 2), "buy", 10, 12.0))
    assert led.sales[0].disallowed_usd == 0.0
    assert led.open_lots()[0].basis_usd == pytest.approx(120.0)


def test_chained_wash_sales_carry_the_basis_through():
    # Loss 1: $200 (10 sh, $30 → $10) washed into the Feb-10 lot (basis $100 + $200 = $300).
    # That lot sold at $9 on Mar 1: loss $300 − $90 = $210, washed into the Mar-20 lot ($90 + $210 = $300).
    led = replay(ev(D(2023, 1, 3), "buy", 10, 30.0), ev(D(2024, 2, 1), "sell", 10, 10.0), ev(D(2024, 2, 10), "buy", 10, 10.0),
                 ev(D(2024, 3, 1), "sell", 10, 9.0), ev(D(2024, 3, 20), "buy", 10, 9.0))
    first, second = led.sales
    assert first.disallowed_usd == pytest.approx(200.0)
    assert second.basis_usd == pytest.approx(300.0) and second.disallowed_usd == pytest.approx(210.0)
    (lot,) = led.open_lots()
    assert lot.basis_usd == pytest.approx(300.0)
    # Holding periods tack through the chain: the first lot's 394 days + the second's 20 days.
    assert lot.holding_start == D(2024, 3, 20) - dt.timedelta(days=394 + 20)


@pytest.mark.parametrize("account_type", [IRA, ROTH])
def test_ira_replacement_disallows_permanently(account_type):
    # Rev. Rul. 2008-5: the IRA buy washes the taxable loss for good; no basis moves.
    led = replay(ev(D(2024, 1, 2), "buy", 10, 10.0), ev(D(2024, 5, 1), "sell", 10, 7.0),
                 ev(D(2024, 5, 10), "buy", 10, 7.0, account="IRA", account_type=account_type))
    sale = led.sales[0]
    assert sale.disallowed_usd == pytest.approx(30.0) and sale.disallowed_permanently_usd == pytest.approx(30.0)
    assert led.open_lots()[0].basis_usd == pytest.approx(70.0)


def test_ira_sale_realizes_nothing_and_is_no_wash_sale():
    led = replay(ev(D(2024, 1, 2), "buy", 10, 10.0, account="IRA", account_type=IRA),
                 ev(D(2024, 5, 1), "sell", 10, 7.0, account="IRA", account_type=IRA), ev(D(2024, 5, 2), "buy", 10, 7.0))
    assert led.sales[0].recognized_gain_usd == 0.0 and led.sales[0].disallowed_usd == 0.0


def test_substantially_identical_group():
    # Selling share class A at a loss and buying class B of the same fund washes the loss.
    groups = {"FUNDA": "FUND", "FUNDB": "FUND"}
    led = replay(ev(D(2024, 1, 2), "buy", 10, 10.0, security="FUNDA"), ev(D(2024, 5, 1), "sell", 10, 8.0, security="FUNDA"),
                 ev(D(2024, 5, 3), "buy", 10, 8.0, security="FUNDB"), identical=groups)
    assert led.sales[0].disallowed_usd == pytest.approx(20.0)
    # By default a security is identical only to itself.
    led = replay(ev(D(2024, 1, 2), "buy", 10, 10.0, security="FUNDA"), ev(D(2024, 5, 1), "sell", 10, 8.0, security="FUNDA"),
                 ev(D(2024, 5, 3), "buy", 10, 8.0, security="FUNDB"))
    assert led.sales[0].disallowed_usd == 0.0


@pytest.mark.parametrize("method, lot_ids, basis", [
    ("fifo", (), 10 * 10.0),          # oldest lot first: bought at $10
    ("hifo", (), 10 * 20.0),          # highest cost first: bought at $20
    ("specific", (("B", None),), 10 * 15.0),  # the lot named: bought at $15
])
def test_lot_relief_methods_on_the_same_sale(method, lot_ids, basis):
    events = [ev(D(2023, 1, 3), "buy", 10, 10.0, new_lot_id="A"), ev(D(2023, 2, 1), "buy", 10, 15.0, new_lot_id="B"),
              ev(D(2023, 3, 1), "buy", 10, 20.0, new_lot_id="C"),
              ev(D(2024, 6, 3), "sell", 10, 18.0, lot_method=method, lot_ids=lot_ids)]
    assert replay(*events).sales[0].basis_usd == pytest.approx(basis)


def test_fees_enter_basis_and_proceeds():
    # Buy 10 @ $10 + $5 fee → basis $105; sell 10 @ $12 − $3 fee → proceeds $117; gain $12.
    led = replay(ev(D(2024, 1, 2), "buy", 10, 10.0, fees_usd=5.0), ev(D(2024, 2, 1), "sell", 10, 12.0, fees_usd=3.0))
    assert led.sales[0].gain_usd == pytest.approx(12.0)


def test_bad_events_are_refused_with_their_row():
    led = Ledger()
    led.apply(LedgerEvent(2, D(2024, 1, 2), "tp", "T", TAXABLE, "M", "buy", 10, 10.0))
    with pytest.raises(LedgerError, match="row 3: quantity: sells 11 shares of M in T but 10 are held"):
        led.apply(LedgerEvent(3, D(2024, 2, 1), "tp", "T", TAXABLE, "M", "sell", 11, 10.0))
    with pytest.raises(LedgerError, match="row 4: trade_date"):
        led.apply(LedgerEvent(4, D(2023, 2, 1), "tp", "T", TAXABLE, "M", "buy", 1, 10.0))
    with pytest.raises(LedgerError, match="row 5: lot_ids: lot Z is not open"):
        led.apply(LedgerEvent(5, D(2024, 2, 1), "tp", "T", TAXABLE, "M", "sell", 1, 10.0, lot_method="specific",
                              lot_ids=(("Z", None),)))
    assert led.open_lots()[0].quantity == 10  # nothing half-applied


def test_transfer_in_keeps_carried_basis_and_date():
    led = replay(ev(D(2024, 6, 3), "transfer_in", 10, 0.0, basis_usd=55.0, acquired=D(2020, 1, 2)),
                 ev(D(2024, 6, 4), "sell", 10, 8.0))
    assert led.sales[0].basis_usd == pytest.approx(55.0) and led.sales[0].term == "long"


def test_netting_three_thousand_limit_and_carryforward_over_two_years():
    # 2024: ST loss $10,000, LT gain $2,000 → net ST loss $8,000 after crossing; deduct $3,000,
    #       carry $5,000 short-term.
    # 2025: ST gain $1,000, LT loss $500; carry-in $5,000 ST → ST −$4,000, LT −$500: deduct $3,000
    #       (ST first), carry $1,000 ST and $500 LT.
    y1 = net_year("tp", 2024, 0, 10_000, 2_000, 0)
    assert (y1.taxable_st_usd, y1.taxable_lt_usd, y1.ordinary_deduction_usd) == (0, 0, 3_000)
    assert (y1.st_carryover_out_usd, y1.lt_carryover_out_usd) == (5_000, 0)
    y2 = net_year("tp", 2025, 1_000, 0, 0, 500, y1.st_carryover_out_usd, y1.lt_carryover_out_usd)
    assert y2.ordinary_deduction_usd == 3_000
    assert (y2.st_carryover_out_usd, y2.lt_carryover_out_usd) == (1_000, 500)
    # Married filing separately: $1,500.
    assert net_year("tp", 2024, 0, 10_000, 0, 0, filing_status="married_separate").ordinary_deduction_usd == 1_500
    # Gains on both sides: nothing to deduct, each taxed at its own rate.
    y = net_year("tp", 2024, 5_000, 1_000, 3_000, 4_000)
    assert (y.taxable_st_usd, y.taxable_lt_usd) == (3_000, 0)  # ST +4,000 absorbs LT −1,000


def test_net_sales_carries_through_a_year_without_sales():
    # 2023: ST loss $10,000 → deduct 3,000, carry 7,000; 2024 no sales → deduct 3,000, carry 4,000;
    # 2025: ST gain $1,000 → ST −3,000 → deduct 3,000, carry 0.
    led = replay(ev(D(2023, 1, 3), "buy", 100, 200.0), ev(D(2023, 6, 1), "sell", 100, 100.0),
                 ev(D(2025, 1, 2), "buy", 10, 100.0, security="N"), ev(D(2025, 3, 3), "sell", 10, 200.0, security="N"))
    years = {n.year: n for n in net_sales(led.sales)}
    assert [years[y].st_carryover_out_usd for y in (2023, 2024, 2025)] == [7_000, 4_000, 0]
    assert years[2024].ordinary_deduction_usd == 3_000


def test_windows_for_the_optimizer():
    led = replay(ev(D(2024, 1, 2), "buy", 10, 10.0, new_lot_id="old"), ev(D(2024, 11, 1), "sell", 5, 8.0),
                 ev(D(2024, 11, 5), "buy", 3, 8.0, security="Q", account="IRA", account_type=IRA),
                 ev(D(2024, 11, 6), "buy", 4, 8.0, security="Q", new_lot_id="q"))
    as_of = D(2024, 11, 20)
    (block,) = buy_blocks(led, as_of)
    assert (block.group, block.blocked_through) == ("M", D(2024, 12, 1))
    loss_blocked = {b.lot_id: b.blocked_through for b in loss_sale_blocks(led, as_of)}
    assert loss_blocked == {"q": D(2024, 12, 6)}  # taxable lots of Q, bought last on Nov 6
    days = days_to_long_term(led, as_of)
    assert days["old"] == (D(2025, 1, 3) - as_of).days  # bought 2024-01-02: long-term from 2025-01-03
    assert days["q"] == (D(2025, 11, 7) - as_of).days
    (ytd,) = year_to_date(led, as_of)
    assert ytd.realized_st_usd == pytest.approx(-10.0)  # 5 shares × ($8 − $10)


def test_replaying_twice_gives_the_same_result():
    events = [ev(D(2024, 1, 2), "buy", 10, 10.0), ev(D(2024, 5, 1), "sell", 6, 7.0), ev(D(2024, 5, 3), "buy", 2, 7.0)]
    a, b = replay(*events), replay(*events)
    assert a.sales == b.sales and a.open_lots() == b.open_lots()


def test_long_term_brackets_stack_on_ordinary_income():
    from optimizer.ledger.estimate import long_term_federal_tax

    # 2025, single: 0 % up to $48,350 of taxable income, 15 % up to $533,400.
    # $40,000 ordinary + $100,000 LT gain: $8,350 at 0 %, $91,650 at 15 % = $13,747.50.
    assert long_term_federal_tax(100_000, 40_000, 2025, "single") == pytest.approx(13_747.50)
    # $600,000 ordinary: all of a $10,000 gain is above $533,400 → 20 % = $2,000.
    assert long_term_federal_tax(10_000, 600_000, 2025, "single") == pytest.approx(2_000.0)


def test_tax_estimate_from_household_rates():
    from optimizer.ledger.estimate import TaxProfile, estimate_tax

    # Taxable ST $10,000 and LT $5,000; ordinary 32 %, LT 15 %, state 5 %, NIIT applies:
    # ST 3,200 + LT 750 + NIIT 3.8 % × 15,000 = 570 + state 5 % × 15,000 = 750 → $5,270.
    n = net_year("tp", 2025, 10_000, 0, 5_000, 0)
    est = estimate_tax(n, TaxProfile("married_joint", 0.32, 0.15, 0.05, True))
    assert est.total_usd == pytest.approx(5_270.0)
    # A net loss year saves the deduction at ordinary + state: $3,000 × 37 % = $1,110.
    loss = estimate_tax(net_year("tp", 2025, 0, 8_000, 0, 0), TaxProfile("single", 0.32, 0.15, 0.05, True))
    assert loss.total_usd == pytest.approx(-1_110.0)


def test_a_loss_window_from_outside_the_history_washes_later_buys_only():
    # A $3/share loss on 10 shares sold on Nov 1 (known from the custodian, not replayed): a buy of
    # 4 shares on Nov 10 washes 4 × $3 = $12 into the new lot; a lot bought before Nov 1 is untouched.
    led = replay(ev(D(2024, 10, 20), "buy", 5, 10.0, new_lot_id="before"))
    line = led.add_loss_window("tp", "T", "M", D(2024, 11, 1), 10, 3.0)
    led.apply(ev(D(2024, 11, 10), "buy", 4, 9.0, new_lot_id="after"))
    assert line.disallowed_usd == pytest.approx(12.0)
    assert led.lots["after"].basis_usd == pytest.approx(36.0 + 12.0)
    assert led.lots["before"].basis_usd == pytest.approx(50.0)


def test_a_break_even_sale_is_not_a_loss_however_the_floats_round():
    # A lot (0.529… shares, basis $32.55719254727911) sold at the very price it cost, with a rebuy 30 days
    # before: shares × price comes to $32.5571925472791, 7e-15 below the basis. That is float noise, a
    # break-even sale, not a loss to wash (a simulation met exactly this).
    from optimizer.ledger.engine import Ledger
    from optimizer.ledger.model import LedgerEvent

    shares, basis = 0.5290721028087295, 32.55719254727911
    price = 32.5571925472791 / shares
    ledger = Ledger()
    ledger.apply(LedgerEvent(None, dt.date(2018, 5, 1), "H", "T", "taxable_individual", "X", "transfer_in", shares, 0.0,
                             basis_usd=basis, acquired=dt.date(2018, 5, 1)))
    ledger.apply(LedgerEvent(None, dt.date(2018, 7, 2), "H", "T", "taxable_individual", "X", "buy", 1.0, price))
    lines = ledger.apply(LedgerEvent(None, dt.date(2018, 8, 1), "H", "T", "taxable_individual", "X", "sell", shares,
                                     price, lot_method="fifo"))
    assert -1e-12 < lines[0].gain_usd < 0  # the noise is there
    assert all(s.disallowed_usd == 0 for s in ledger.sales)
