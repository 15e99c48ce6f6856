"""Returns of cash-on-delivery orders through the real return state machine on the embedded cloud. An agent places
the order over the admin API (the customer pays the courier), it is shipped (the courier collects) and delivered; the
customer sends an item back and the warehouse finds it sellable. Such an order is never refunded to "the original
payment": as store credit (nothing paid out: no provider refund, the credit counted against what the order can still
give back) or by bank transfer to the IBAN the customer gave (paid out once under the return's reference, only its
last four digits ever in a message). Each asserts the stock, the money, the payment provider's calls and what the
customer was told, on each channel they chose, in their language."""

import uuid

import pytest
from fakes import RecordingPayments
from parcels import order_of, stock
from return_trips import (
    WAREHOUSE,
    asking,
    delivered_order,
    parked,
    report_return,
    return_when,
    returns_of,
    status_is,
    told_about_returns,
    what_told,
)
from stacks import seeded_stack

from dawra.domain.errors import InvalidCustomerDetails
from dawra.domain.returns import InspectionOutcome, RefundMethod, ReturnReason, ReturnRefused

pytestmark = pytest.mark.timeout(240)
IBAN = "SA03 8000 0000 6080 1016 7519"  # the customer types it with spaces; a valid Saudi IBAN (mod 97)
REFUND = 11900  # one prayer mat: 120.00 + 15% VAT, less the customer's return label under standard@2 (19.00)


@pytest.fixture(scope="module")
def shop():
    """The stack, with every payment provider a function builds recording its calls; an agent signed in to the
    admin API; the returns use cases."""
    from dawra.adapters import payments
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.local.actors import AdminApi
    from dawra.local.scenario import sign_in
    from dawra.local.seed import seed_operators

    ledger = RecordingPayments()
    original, payments.wrap_provider = payments.wrap_provider, ledger.wrap  # before any function's container starts
    try:
        for running in seeded_stack():
            DynamoInventory(running.cloud.resolve_ref("table", "inventory", "name")).set_stock(
                "PRAYER-MAT", "riyadh-dc", 20)
            agent = next(o for o in seed_operators(running.cloud) if o.role == "agent")
            yield {"stack": running, "ledger": ledger, "returns": returns_of(running),
                   "agent": AdminApi(running.gateway_url, sign_in(running, agent))}
    finally:
        payments.wrap_provider = original


def cod_delivered(shop, email: str, phone: str, channel: str, language: str) -> str:
    """A prayer mat ordered by phone: the agent places it, cash on delivery, nothing held; shipped and delivered."""
    from dawra.local.demo import customer

    placed = shop["agent"].post("/orders", {
        "customer_id": f"cust-{uuid.uuid4().hex[:8]}",
        **customer("Khalid", email, phone=phone, channel=channel, language=language),
        "lines": [{"sku": "PRAYER-MAT", "quantity": 1}], "payment": "cash_on_delivery"}, key=f"key-{uuid.uuid4()}")
    assert placed.status == 201, placed.body
    return delivered_order(shop["stack"], email, {}, placed=placed.body["order"]["order_id"])


def sent_back_and_sellable(shop, order_id: str, return_id: str, key: str):
    """The parcel goes back with its label, arrives, is found sellable; the return, once closed."""
    stack = shop["stack"]
    labelled = return_when(stack, order_id, return_id, status_is("label_issued"), "no label")
    report_return(stack, labelled.tracking_number, "PICKED_UP")
    report_return(stack, labelled.tracking_number, "DELIVERED")
    return_when(stack, order_id, return_id, parked("received"), "not waiting for inspection")
    shop["returns"].inspect(WAREHOUSE, order_id, return_id, key, {"PRAYER-MAT": (InspectionOutcome.SELLABLE, None)})
    return return_when(stack, order_id, return_id, status_is("closed"), "not closed")


def provider_calls(shop, order_id: str) -> list[tuple[str, str, int]]:
    """What the payment provider was asked for the order after its authorisation, each reference once."""
    from dawra.adapters.dynamo.orders import DynamoOrders

    stored = DynamoOrders(shop["stack"].cloud.resolve_ref("table", "orders", "name")).get(order_id)
    assert stored is not None and stored.payment.provider == "cash_on_delivery"
    return sorted({(op, reference, amount) for op, auth, reference, amount in shop["ledger"].ledger
                   if auth == stored.payment.authorization_id and op != "authorize"})


def stored_order(shop, order_id: str):
    from dawra.adapters.dynamo.orders import DynamoOrders

    stored = DynamoOrders(shop["stack"].cloud.resolve_ref("table", "orders", "name")).get(order_id)
    assert stored is not None
    return stored


def test_a_cash_on_delivery_return_is_refunded_as_store_credit_and_nothing_is_paid_out(shop):
    stack, returns = shop["stack"], shop["returns"]
    email, phone = f"cod-credit-{uuid.uuid4().hex[:8]}@example.com", f"+96655{uuid.uuid4().int % 10**7:07d}"
    order_id = cod_delivered(shop, email, phone, channel="both", language="ar")
    before = stock(stack, "PRAYER-MAT", "riyadh-dc")
    collected = stored_order(shop, order_id).payment.captured.amount
    assert collected == order_of(stack, order_id)["totals"]["total"]["amount"]  # the courier collected it all
    calls_before = provider_calls(shop, order_id)
    assert [op for op, *_ in calls_before] == ["capture"]

    ret = returns.start(order_id, "cod-credit", asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)},
                                                       refund=RefundMethod.STORE_CREDIT))
    closed = sent_back_and_sellable(shop, order_id, ret.return_id, "inspect-cod-credit")

    on_hand, reserved, available = before
    assert stock(stack, "PRAYER-MAT", "riyadh-dc") == (on_hand + 1, reserved, available + 1)  # restocked, once
    assert closed.refund_method == RefundMethod.STORE_CREDIT
    assert closed.refunded is not None and closed.refunded.amount == REFUND and closed.store_credit == REFUND
    order = stored_order(shop, order_id)
    assert order.payment.refunded.amount == 0  # nothing paid out...
    assert order.refundable.amount == collected - REFUND  # ...but the credit counts against what is left to give
    assert provider_calls(shop, order_id) == calls_before  # no refund asked of the provider
    timeline = [e["kind"] for e in order_of(stack, order_id)["timeline"]]
    assert timeline.count("return_refunded") == 1

    # In Arabic, by email and SMS, each step once.
    told = told_about_returns(stack, order_id, (email, phone), 8)
    steps = ["return_requested", "return_label_issued", "return_received", "return_refunded"]
    assert what_told([m for m in told if m.channel == "email"]) == [(kind, "email", "ar") for kind in steps]
    assert what_told([m for m in told if m.channel == "sms"]) == [(kind, "sms", "ar") for kind in steps]
    refunded = {m.channel: m.body for m in told if m.kind == "return_refunded"}
    assert "أعدنا إليك <strong>119.00 SAR</strong> رصيداً في المتجر" in refunded["email"]
    assert "أعدنا إليك 119.00 SAR رصيداً في المتجر" in refunded["sms"]


def test_a_cash_on_delivery_return_is_refunded_by_bank_transfer_to_the_iban_given(shop):
    stack, returns = shop["stack"], shop["returns"]
    email, phone = f"cod-iban-{uuid.uuid4().hex[:8]}@example.com", f"+96655{uuid.uuid4().int % 10**7:07d}"
    order_id = cod_delivered(shop, email, phone, channel="sms", language="en")
    before = stock(stack, "PRAYER-MAT", "riyadh-dc")
    mat = {"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}
    with pytest.raises(ReturnRefused, match="original_payment is not offered"):  # cash: never "the original payment"
        returns.start(order_id, "cod-card", asking(mat))
    with pytest.raises(InvalidCustomerDetails, match="IBAN"):
        returns.start(order_id, "cod-no-iban", asking(mat, refund=RefundMethod.BANK_TRANSFER))
    assert stored_order(shop, order_id).returns == []  # neither stored anything

    ret = returns.start(order_id, "cod-iban", asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)},
                                                     refund=RefundMethod.BANK_TRANSFER, iban=IBAN))
    closed = sent_back_and_sellable(shop, order_id, ret.return_id, "inspect-cod-iban")

    on_hand, reserved, available = before
    assert stock(stack, "PRAYER-MAT", "riyadh-dc") == (on_hand + 1, reserved, available + 1)
    assert closed.refund_method == RefundMethod.BANK_TRANSFER and closed.bank_account == "SA0380000000608010167519"
    assert closed.refunded is not None and closed.refunded.amount == REFUND and closed.store_credit == 0
    order = stored_order(shop, order_id)
    assert order.payment.refunded.amount == REFUND
    # Paid out once, by the cash-on-delivery provider (the merchant's transfer), under the return's own reference.
    refunds = [call for call in provider_calls(shop, order_id) if call[0] == "refund"]
    assert refunds == [("refund", f"{ret.return_id}:refund", REFUND)]

    # By SMS only, in English, each step once; the account named by its last four digits, never in full.
    told = told_about_returns(stack, order_id, (email, phone), 4)
    assert what_told(told) == [(kind, "sms", "en") for kind in (
        "return_requested", "return_label_issued", "return_received", "return_refunded")]
    assert "we gave you back 119.00 SAR by bank transfer (account ending 7519)" in told[-1].body
    sent = [m.body for m in stack.outbox() if m.to in (email, phone)]
    assert not any("60801016" in body or "SA038000" in body for body in sent)
