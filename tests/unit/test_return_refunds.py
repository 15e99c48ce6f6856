"""The money of returns: per unit its price and its share of the line's tax; the original shipping (and its tax) only
when every delivered unit comes back for the merchant's fault; a restocking fee and the customer's return shipping
unless it is the merchant's fault; never below zero, never more than is left to give back (captured, less refunded,
less store credit); cash-on-delivery orders get store credit or a bank transfer to a valid IBAN, never a card
refund; paid out once, however often the step runs. And, over random sequences of returns and back-office refunds,
the order never gives back more than it took."""

import contextlib
import dataclasses

import pytest
from fakes import (
    FakeCarriers,
    FakeInventory,
    FakeMessenger,
    FakeOpsAlerts,
    FakeOrders,
    FakeUnitOfWork,
    FakeWorkflow,
    FixedClock,
    RecordingPayments,
    World,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from returning import AGENT, WAREHOUSE, Returns, asking, delivered

from dawra.adapters.payments.cod import CashOnDelivery
from dawra.domain.errors import IllegalTransition, InvalidCustomerDetails, TransientError
from dawra.domain.money import Money
from dawra.domain.returns import InspectionOutcome, RefundMethod, ReturnMethod, ReturnReason, ReturnStatus
from dawra.local.seed import CATALOG, LOCATIONS, STOCK

IBAN = "SA0380000000608010167519"


def fresh(shop, provider=None):
    """The same shop, emptied (a new world and fakes), paid through `provider` (default: the sandbox)."""
    world = World(catalog={item.sku: item for item in CATALOG}, locations=list(LOCATIONS))
    for (sku, location_id), units in STOCK.items():
        world.set_stock(sku, location_id, units)
    return dataclasses.replace(
        shop, world=world, clock=FixedClock(), uow=FakeUnitOfWork(world), workflow=FakeWorkflow(),
        payments=RecordingPayments(provider), carriers=FakeCarriers(), messenger=FakeMessenger(),
        alerts=FakeOpsAlerts(), orders=FakeOrders(world), inventory=FakeInventory(world))


def through(returns, order_id, key, ask, outcome=InspectionOutcome.SELLABLE):
    """A return asked for, approved if it must be, brought back, inspected, refunded."""
    ret = returns.request(order_id, key, ask)
    if ret.status == ReturnStatus.REQUESTED:
        returns.decide.approve(AGENT, order_id, ret.return_id, f"{key}-decide")
    returns.back(order_id, ret.return_id)
    note = None if outcome == InspectionOutcome.SELLABLE else "seen at inspection"
    returns.inspect(WAREHOUSE, order_id, ret.return_id, f"{key}-inspect",
                    {line.sku: (outcome, note) for line in ret.lines})
    return ret, returns.refund(order_id, ret.return_id)


def test_everything_back_for_our_fault_gives_back_the_whole_order_shipping_included(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    total = shop.orders.get(order_id).totals.total.amount
    ret, refunded = through(returns, order_id, "ret-1", asking({"PRAYER-MAT": (1, ReturnReason.NOT_AS_DESCRIBED)}))
    settlement = returns.get(order_id, ret.return_id).settlement
    assert (settlement.items.amount, settlement.shipping.amount, settlement.tax.amount) == (12000, 2500, 1800 + 375)
    assert refunded.amount.amount == total == 16675
    assert shop.orders.get(order_id).refundable.amount == 0


def test_a_restocking_fee_and_return_shipping_unless_it_is_our_fault(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"MUG-CLASSIC": 2})  # inspect-first: 10% restocking, 15.00 return label
    estimate = returns.estimate(order_id, asking({"MUG-CLASSIC": (1, ReturnReason.CHANGED_MIND)}))
    assert (estimate.items.amount, estimate.tax.amount, estimate.restocking_fee.amount,
            estimate.return_shipping.amount, estimate.total.amount) == (4500, 675, 518, 1500, 3157)
    ours = returns.estimate(order_id, asking({"MUG-CLASSIC": (2, ReturnReason.DAMAGED)}))
    assert (ours.restocking_fee.amount, ours.return_shipping.amount, ours.shipping.amount) == (0, 0, 2500)
    assert ours.total.amount == shop.orders.get(order_id).totals.total.amount
    # One unit back for our fault, the other kept: no shipping refunded.
    half = returns.estimate(order_id, asking({"MUG-CLASSIC": (1, ReturnReason.DAMAGED)}))
    assert (half.shipping.amount, half.total.amount) == (0, 4500 + 675)


def test_the_tax_shares_of_returns_one_by_one_add_up_to_the_line_tax(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"MUG-CLASSIC": 3})
    line_tax = shop.orders.get(order_id).lines[0].tax.amount
    for n in range(3):
        through(returns, order_id, f"ret-{n}", asking({"MUG-CLASSIC": (1, ReturnReason.WRONG_SIZE)},
                                                      method=ReturnMethod.STORE))
    settled = [r.settlement.tax.amount for r in shop.orders.get(order_id).returns]
    assert sum(settled) == line_tax == 2025


def test_a_refund_is_capped_at_what_is_left_after_a_back_office_refund(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    order = shop.orders.get(order_id)
    order.refund(Money(amount=16000, currency="SAR"), "2026-11-23T10:00:00.000Z", "bo-1")  # as the back office does
    shop.uow.commit(order=order)
    ret, refunded = through(returns, order_id, "ret-1", asking({"PRAYER-MAT": (1, ReturnReason.DAMAGED)}))
    assert refunded.amount.amount == 675 and returns.get(order_id, ret.return_id).settlement.capped
    assert shop.orders.get(order_id).payment.refunded == shop.orders.get(order_id).payment.captured


def test_a_refund_recorded_then_paid_out_is_paid_once_when_retried(shop):
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 1})
    ret = returns.request(order_id, "ret-1", asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}))
    returns.back(order_id, ret.return_id)
    returns.inspect(WAREHOUSE, order_id, ret.return_id, "inspect-1", {"PRAYER-MAT": (InspectionOutcome.SELLABLE,
                                                                                      None)})
    pay = shop.payments.refund

    def down(*args, **kwargs):
        shop.payments.refund = pay
        raise TransientError("the provider is briefly down")

    shop.payments.refund = down
    with pytest.raises(TransientError):
        returns.refund(order_id, ret.return_id)
    assert returns.get(order_id, ret.return_id).status == ReturnStatus.REFUNDED  # recorded first
    assert returns.refund(order_id, ret.return_id).amount.amount == 11900
    assert returns.refund(order_id, ret.return_id).amount.amount == 11900
    assert shop.payments.effective("refund") == {f"{ret.return_id}:refund": 11900}  # one reference: paid once
    assert shop.orders.get(order_id).payment.refunded.amount == 11900


def test_cash_on_delivery_is_refunded_by_bank_transfer_to_a_valid_iban_or_store_credit(shop):
    shop = fresh(shop, CashOnDelivery())
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 2})
    assert shop.orders.get(order_id).payment.provider == "cash_on_delivery"
    assert returns.choices(order_id).refund_methods == (RefundMethod.BANK_TRANSFER, RefundMethod.STORE_CREDIT)
    card = asking({"PRAYER-MAT": (1, ReturnReason.DAMAGED)})
    with pytest.raises(IllegalTransition, match="original_payment is not offered"):
        returns.request(order_id, "ret-1", card)
    with pytest.raises(InvalidCustomerDetails, match="needs the IBAN"):
        returns.request(order_id, "ret-1", asking({"PRAYER-MAT": (1, ReturnReason.DAMAGED)},
                                                  refund=RefundMethod.BANK_TRANSFER))
    with pytest.raises(InvalidCustomerDetails, match="check digits"):
        returns.request(order_id, "ret-1", asking({"PRAYER-MAT": (1, ReturnReason.DAMAGED)},
                                                  refund=RefundMethod.BANK_TRANSFER, iban="SA0480000000608010167519"))

    _, by_credit = through(returns, order_id, "ret-1", asking({"PRAYER-MAT": (1, ReturnReason.DAMAGED)},
                                                              refund=RefundMethod.STORE_CREDIT))
    assert (by_credit.amount.amount, by_credit.method) == (13800, RefundMethod.STORE_CREDIT)
    assert shop.payments.effective("refund") == {}  # store credit moves no money
    order = shop.orders.get(order_id)
    assert order.payment.refunded.amount == 0
    assert order.refundable.amount == order.payment.captured.amount - 13800  # the credit counts

    bank, by_bank = through(returns, order_id, "ret-2", asking({"PRAYER-MAT": (1, ReturnReason.DAMAGED)},
                                                               refund=RefundMethod.BANK_TRANSFER, iban=IBAN))
    assert returns.get(order_id, bank.return_id).bank_account == IBAN
    # The last unit back for our fault: the shipping and its tax come back too.
    assert by_bank.amount.amount == 13800 + 2875 == shop.orders.get(order_id).payment.refunded.amount
    assert shop.payments.effective("refund") == {f"{bank.return_id}:refund": 16675}
    refunded = [e for e in shop.orders.timeline(order_id) if e.kind == "return_refunded"]
    assert sorted(e.detail.get("account_ending", "") for e in refunded) == ["", "7519"]  # never the whole IBAN
    assert shop.orders.get(order_id).refundable.amount == 0
    order = shop.orders.get(order_id)
    with pytest.raises(IllegalTransition, match="at most 0"):  # a back-office refund cannot pay the credit again
        order.refund(Money(amount=1, currency="SAR"), "2026-11-23T10:00:00.000Z", "bo-1")


OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("return"), st.sampled_from(["PRAYER-MAT", "MUG-CLASSIC"]), st.integers(1, 2),
              st.sampled_from(list(ReturnReason)), st.sampled_from([RefundMethod.ORIGINAL_PAYMENT,
                                                                    RefundMethod.STORE_CREDIT]),
              st.sampled_from(list(InspectionOutcome))),
    st.tuples(st.just("refund"), st.integers(1, 30_000)),
), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_returns_and_back_office_refunds_never_give_back_more_than_was_captured(shop, operations):
    shop = fresh(shop)
    returns = Returns(shop)
    order_id = delivered(shop, {"PRAYER-MAT": 2, "MUG-CLASSIC": 2})
    captured = shop.orders.get(order_id).payment.captured.amount
    for n, operation in enumerate(operations):
        if operation[0] == "return":
            _, sku, quantity, reason, refund, outcome = operation
            with contextlib.suppress(IllegalTransition, InvalidCustomerDetails):  # more than is left: refused
                through(returns, order_id, f"ret-{n}", asking({sku: (quantity, reason)}, refund=refund), outcome)
        else:
            order = shop.orders.get(order_id)
            try:
                order.refund(Money(amount=operation[1], currency="SAR"), "2026-11-23T10:00:00.000Z", f"bo-{n}")
            except IllegalTransition:
                continue  # more than is left: refused
            shop.uow.commit(order=order)
            shop.payments.refund(order.payment.authorization_id, Money(amount=operation[1], currency="SAR"),
                                 reference=f"{order_id}:refund:bo-{n}")
        order = shop.orders.get(order_id)
        credit = sum(r.store_credit for r in order.returns)
        given = order.payment.refunded.amount + credit
        assert 0 <= order.refundable.amount == captured - given
        assert given <= captured
        assert sum(shop.payments.effective("refund").values()) == order.payment.refunded.amount
        for ret in order.returns:
            if ret.settlement is not None:
                assert 0 <= ret.settlement.total.amount == ret.refunded.amount
