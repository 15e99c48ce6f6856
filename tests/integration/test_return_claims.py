"""Claims without a return through both state machines on the embedded cloud: the order's lifecycle delivers; the
customer reports a problem with the parcel; the return lifecycle's claim branch settles it, with nothing coming back.

- A damage claim worth more than its policy's threshold waits for an agent, who sends the item again: the replacement
  is held (reserved), shipped as a new shipment of the order that belongs to the claim (nothing captured), followed to
  the door, and the claim closes. The damaged mat stays with the customer: nothing is restocked.
- A small one settles by itself: refunded to the card, paid out once under the claim's own reference.

Each asserts the stock, the money, the timeline, every message (in the customer's language, on each channel they
chose), and that the original shipment is exactly as it was."""

import uuid
from collections import Counter

import pytest
from fakes import RecordingPayments
from parcels import carrier, order_of, shipped_tracking, stock, wait_until
from return_trips import AGENT, execution, return_when, returns_of, status_is, told_about_returns, what_told
from stacks import seeded_stack

from dawra.domain.return_claims import ClaimRequest
from dawra.domain.returns import ClaimReason, ClaimRemedy, RefundMethod, ReturnRefused

pytestmark = pytest.mark.timeout(240)
MAT = 13800  # 120.00 + 15% VAT: over standard's threshold (50.00), an agent decides
MUG = 5175  # 45.00 + 15% VAT: under inspect-first's (100.00), settled by itself


@pytest.fixture(scope="module")
def shop():
    """The stack, every payment provider a function builds recording its calls, and the returns use cases."""
    from dawra.adapters import payments
    from dawra.adapters.dynamo.inventory import DynamoInventory

    ledger = RecordingPayments()
    original, payments.wrap_provider = payments.wrap_provider, ledger.wrap
    try:
        for running in seeded_stack():
            inventory = DynamoInventory(running.cloud.resolve_ref("table", "inventory", "name"))
            inventory.set_stock("PRAYER-MAT", "riyadh-dc", 20)
            inventory.set_stock("MUG-CLASSIC", "riyadh-dc", 40)
            yield {"stack": running, "ledger": ledger, "returns": returns_of(running)}
    finally:
        payments.wrap_provider = original


def delivered(stack, lines: dict[str, int], language: str, channel: str) -> tuple[str, str, str]:
    """Placed by the storefront for a customer who reads `language` on `channel`, shipped and delivered."""
    from dawra.local.actors import Storefront

    email, phone = f"claim-{uuid.uuid4().hex[:8]}@example.com", f"+96655{uuid.uuid4().int % 10**7:07d}"
    body = {"customer_id": "cust-claims",
            "contact": {"email": email, "phone": phone, "preferred_channel": channel, "language": language},
            "shipping_address": {"name": "Sara", "line1": "12 Olaya St", "city": "Riyadh", "country": "SA"},
            "lines": [{"sku": sku, "quantity": n} for sku, n in lines.items()], "payment_token": "tok_sandbox_approve"}
    placed = Storefront(stack.gateway.url).place_order(body, f"key-{email}")
    assert placed.status == 201, placed.body
    order_id = str(placed.body["order_id"])
    carrier(stack).deliver(shipped_tracking(stack, order_id))
    wait_until(stack, order_id, lambda o: o["status"] == "COMPLETED", what="not delivered")
    return order_id, email, phone


def refunds(shop, order_id: str) -> list[tuple[str, int]]:
    from dawra.adapters.dynamo.orders import DynamoOrders

    stored = DynamoOrders(shop["stack"].cloud.resolve_ref("table", "orders", "name")).get(order_id)
    assert stored is not None
    return sorted({(reference, amount) for op, auth, reference, amount in shop["ledger"].ledger
                   if op == "refund" and auth == stored.payment.authorization_id})


def test_a_damage_claim_without_a_return_is_sent_again_by_an_agent_and_nothing_comes_back(shop):
    stack, returns = shop["stack"], shop["returns"]
    order_id, email, phone = delivered(stack, {"PRAYER-MAT": 2}, language="ar", channel="both")
    before = order_of(stack, order_id)
    on_hand, reserved, available = stock(stack, "PRAYER-MAT", "riyadh-dc")

    asked = ClaimRequest(reason=ClaimReason.ARRIVED_DAMAGED, lines=[("PRAYER-MAT", 1)], remedy=ClaimRemedy.RESHIP,
                         refund_method=RefundMethod.ORIGINAL_PAYMENT, comment="Torn along one edge")
    with pytest.raises(ReturnRefused, match="2 unit"):  # more than was delivered: says why, nothing stored
        returns.start_claim(order_id, "claim-too-many", ClaimRequest(
            reason=asked.reason, lines=[("PRAYER-MAT", 3)], remedy=asked.remedy, refund_method=asked.refund_method))
    ret = returns.start_claim(order_id, "claim-mat-1", asked)
    assert ret.status.value == "requested" and ret.estimate.total.amount == MAT  # an agent decides
    return_when(stack, order_id, ret.return_id, lambda r: r.resume_token is not None, "not waiting for an agent")

    returns.decide_claim.reship(AGENT, order_id, ret.return_id, "agent-reship-1")
    reshipping = return_when(stack, order_id, ret.return_id, status_is("reshipping"), "not reshipping")
    sent = wait_until(stack, order_id, lambda o: any(s["shipment_id"] == reshipping.replacement_id
                                                     and s["tracking_number"] for s in o["shipments"]),
                      what="the replacement did not leave")
    [replacement] = [s for s in sent["shipments"] if s["shipment_id"] == reshipping.replacement_id]
    # Stock: the replacement held at the decision, then gone with the parcel; the damaged mat never comes back.
    assert stock(stack, "PRAYER-MAT", "riyadh-dc") == (on_hand - 1, reserved, available - 1)
    carrier(stack).deliver(replacement["tracking_number"])
    closed = return_when(stack, order_id, ret.return_id, status_is("closed"), "not closed")
    run = execution(stack, ret.return_id)
    assert run["status"] == "SUCCEEDED"
    assert run["states"] == ["ReturnRequested", "NeedsApproval", "WhereDoesTheClaimStand", "WaitForClaimDecision",
                             "WhatWasDecided", "ShipTheClaimReplacement", "WaitForReplacement", "Close", "Closed"]
    assert stock(stack, "PRAYER-MAT", "riyadh-dc") == (on_hand - 1, reserved, available - 1)  # nothing restocked

    after = order_of(stack, order_id)
    # Money: nothing captured for the replacement, nothing refunded.
    assert after["payment"]["captured"] == before["payment"]["captured"]
    assert after["payment"]["refunded"]["amount"] == 0 and closed.refunded is None and refunds(shop, order_id) == []
    # History: the order stays complete; its original parcel exactly as it was; the replacement beside it.
    assert after["status"] == "COMPLETED"
    [original] = before["shipments"]
    assert [s for s in after["shipments"] if s["shipment_id"] == original["shipment_id"]] == [original]
    assert len(after["shipments"]) == 2
    kinds = Counter(e["kind"] for e in after["timeline"])
    assert all(kinds[e["kind"]] >= 1 for e in before["timeline"])
    for kind in ("claim_opened", "claim_reship", "claim_replacement_shipped", "claim_closed"):
        assert kinds[kind] == 1, kind
    assert not [k for k in kinds if k.startswith("return_")]  # no label, parcel, inspection
    assert kinds["shipment_delivered"] == 2
    # Messages: in Arabic, by email and SMS, each step once.
    told = told_about_returns(stack, order_id, (email, phone), 4)
    steps = ["claim_opened", "claim_replacement_shipped"]
    assert what_told([m for m in told if m.channel == "email"]) == [(kind, "email", "ar") for kind in steps]
    assert what_told([m for m in told if m.channel == "sms"]) == [(kind, "sms", "ar") for kind in steps]
    shipped = {m.channel: m.body for m in told if m.kind == "claim_replacement_shipped"}
    assert all(replacement["tracking_number"] in body for body in shipped.values())


def test_a_small_missing_item_claim_settles_by_itself_with_a_refund_paid_once(shop):
    stack, returns = shop["stack"], shop["returns"]
    order_id, email, phone = delivered(stack, {"MUG-CLASSIC": 2}, language="en", channel="sms")
    before = stock(stack, "MUG-CLASSIC", "riyadh-dc")

    asked = ClaimRequest(reason=ClaimReason.ITEM_MISSING, lines=[("MUG-CLASSIC", 1)], remedy=ClaimRemedy.REFUND,
                         refund_method=RefundMethod.ORIGINAL_PAYMENT)
    ret = returns.start_claim(order_id, "claim-mug-1", asked)
    assert returns.start_claim(order_id, "claim-mug-1", asked).return_id == ret.return_id  # one key, one claim
    assert ret.status.value == "refunded" and ret.decided_by == "policy"
    closed = return_when(stack, order_id, ret.return_id, status_is("closed"), "not closed")
    run = execution(stack, ret.return_id)
    assert run["status"] == "SUCCEEDED"
    assert run["states"] == ["ReturnRequested", "NeedsApproval", "WhereDoesTheClaimStand", "Refund",
                             "WasAnythingRefunded", "Close", "Closed"]
    assert closed.refunded is not None and closed.refunded.amount == MUG
    assert order_of(stack, order_id)["payment"]["refunded"]["amount"] == MUG
    assert refunds(shop, order_id) == [(f"{ret.return_id}:refund", MUG)]
    assert stock(stack, "MUG-CLASSIC", "riyadh-dc") == before  # nothing restocked, nothing sent
    told = told_about_returns(stack, order_id, (email, phone), 2)
    assert what_told(told) == [("claim_opened", "sms", "en"), ("claim_refunded", "sms", "en")]
    assert "(items missing)" in told[0].body and "We are refunding 51.75 SAR" in told[0].body
    assert "we gave you back 51.75 SAR." in told[1].body
