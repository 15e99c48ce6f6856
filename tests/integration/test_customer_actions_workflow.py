"""The customer's actions before shipping, through the real state machine on the embedded cloud: cancelling the
order or one parcel of a split order, changing the address (same zone, dearer, cheaper, after the label), changing
how the customer hears from us. Each asserts the stock at each location, the money (authorised, captured, refunded,
and what the provider was asked) and the exact messages sent.

The use cases are called as the customer's page calls them (dawra.bootstrap.build_customer_actions); the page and its
routes are tested with it. The warehouse is held up (the ship task waits) until the customer has acted: the window a
real order has between being confirmed and its label being printed."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pytest

from dawra.adapters.dynamo.inventory import DynamoInventory
from dawra.adapters.dynamo.orders import DynamoOrders
from dawra.domain.customer import Address
from dawra.domain.errors import IllegalTransition
from dawra.domain.order import Order, OrderStatus
from dawra.local.actors import SandboxCarrierSimulator, Storefront
from dawra.rendering import order_reference

pytestmark = pytest.mark.timeout(180)

RIYADH = {"name": "Sara", "line1": "12 Olaya St", "city": "Riyadh", "country": "SA"}
NAJRAN = {"name": "Sara", "line1": "9 King Abdulaziz Rd", "city": "Najran", "country": "SA"}
JEDDAH = {"name": "Sara", "line1": "3 Tahlia St", "city": "Jeddah", "postal_code": "21411", "country": "SA"}


@pytest.fixture(scope="module")
def shop(local_stack):
    """The customer's actions as the order page gets them, the storefront, the carrier, and a ledger of every call
    any function (and this test) makes to the payment providers."""
    from dawra.adapters import payments
    from dawra.bootstrap import build_customer_actions
    from dawra.contracts.env import Settings

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from fakes import RecordingPayments

    ledger = RecordingPayments()
    original, payments.wrap_provider = payments.wrap_provider, ledger.wrap  # for containers that start from now on
    cloud = local_stack.cloud
    try:
        yield {"actions": build_customer_actions(Settings.from_env()), "ledger": ledger,
               "store": Storefront(local_stack.gateway.url),
               "carrier": SandboxCarrierSimulator(local_stack.gateway.url,
                                                  cloud.carrier_secrets["carrier-sandbox-webhook"]),
               "orders": DynamoOrders(cloud.resolve_ref("table", "orders", "name")),
               "inventory": DynamoInventory(cloud.resolve_ref("table", "inventory", "name")),
               "stack": local_stack}
    finally:
        payments.wrap_provider = original


class Warehouse:
    """Holds the ship task of the orders it is told about until let go: their parcels are not booked yet."""

    def __init__(self):
        self.orders: set[str] = set()
        self.waiting: dict[str, set[str]] = defaultdict(set)
        self.go = threading.Event()

    def wait_until_busy_with(self, order_id: str, parcels: int, timeout_s: float = 30) -> set[str]:
        deadline = time.monotonic() + timeout_s
        while len(self.waiting[order_id]) < parcels:
            assert time.monotonic() < deadline, f"the ship task never ran for {order_id}"
            time.sleep(0.02)
        return set(self.waiting[order_id])


@pytest.fixture
def warehouse(monkeypatch):
    from dawra.app.ship import ShipShipment

    held = Warehouse()
    ship = ShipShipment.__call__

    def slow_warehouse(self, order_id, shipment_id, just=None):
        if order_id in held.orders:
            held.waiting[order_id].add(shipment_id)
            held.go.wait(timeout=60)
            # Held: the parcel ships later, from the order as it is by then. What ReserveAndShip hands over (`just`,
            # decision 126) describes the order only at once after the reservation's commit.
            just = None
        return ship(self, order_id, shipment_id, just)

    monkeypatch.setattr(ShipShipment, "__call__", slow_warehouse)
    yield held
    held.go.set()


def place(shop, warehouse, lines: dict[str, int], address: dict, parcels: int = 1) -> tuple[str, str]:
    """A storefront's order, its stock held, its confirmation sent, its parcels waiting for the warehouse."""
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    placed = shop["store"].place_order({
        "customer_id": "cust-self-service", "contact": {"email": email}, "shipping_address": address,
        "lines": [{"sku": sku, "quantity": q} for sku, q in lines.items()], "payment_token": "tok_sandbox_approve",
    }, f"key-{uuid.uuid4()}")
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    warehouse.orders.add(order_id)
    warehouse.wait_until_busy_with(order_id, parcels)
    assert [m.subject for m in messages_to(shop, email, 1)] == [f"Your order {order_reference(order_id)} is confirmed"]
    return order_id, email


def order_of(shop, order_id: str) -> Order:
    order = shop["orders"].get(order_id)
    assert order is not None
    return order


def wait_for(shop, order_id: str, *statuses: OrderStatus, timeout_s: float = 60) -> Order:
    deadline = time.monotonic() + timeout_s
    while (order := order_of(shop, order_id)).status not in statuses:
        assert time.monotonic() < deadline, f"{order_id} is {order.status}, not {statuses}"
        time.sleep(0.05)
    return order


def available(shop, sku: str, location: str) -> tuple[int, int, int]:
    level = shop["inventory"].stock(sku, location)
    return level.on_hand, level.reserved, level.available


def messages_to(shop, to: str, count: int, timeout_s: float = 30) -> list:
    deadline = time.monotonic() + timeout_s
    while True:
        sent = [m for m in shop["stack"].outbox() if m.to == to]
        if len(sent) >= count or time.monotonic() > deadline:
            time.sleep(0.3)  # anything more that would come (it must not)
            return [m for m in shop["stack"].outbox() if m.to == to]
        time.sleep(0.05)


def execution_status(shop, order_id: str, timeout_s: float = 30) -> str:
    cloud = shop["stack"].cloud
    arn = cloud.resolve_ref("state_machine", "order-lifecycle", "arn").replace(":stateMachine:", ":execution:")
    sfn, deadline = cloud.client("stepfunctions"), time.monotonic() + timeout_s
    while (status := sfn.describe_execution(executionArn=f"{arn}:{order_id}")["status"]) == "RUNNING":
        assert time.monotonic() < deadline, f"the execution of {order_id} is still running"
        time.sleep(0.1)
    return status


def ledger_for(shop, order: Order) -> list[tuple[str, str, int]]:
    """What the provider was asked after the authorisation (the order records that one), each reference once."""
    return sorted({(op, reference, amount) for op, auth, reference, amount in shop["ledger"].ledger
                   if auth == order.payment.authorization_id and op != "authorize"})


def deliver_everything(shop, order_id: str) -> Order:
    """The parcels still meant for the customer (one each here: SHIPPED means its label exists) are delivered."""
    order = wait_for(shop, order_id, OrderStatus.SHIPPED)
    for shipment in order.active_shipments:
        assert shipment.tracking_number
        shop["carrier"].deliver(shipment.tracking_number)
    return wait_for(shop, order_id, OrderStatus.COMPLETED)


# --- cancelling ---------------------------------------------------------------------------------------------------

def test_the_customer_cancels_the_order_before_it_ships(shop, warehouse):
    before = {sku: available(shop, sku, "riyadh-dc") for sku in ("MUG-CLASSIC", "DATES-1KG")}
    order_id, email = place(shop, warehouse, {"MUG-CLASSIC": 1, "DATES-1KG": 2}, RIYADH)
    held = available(shop, "MUG-CLASSIC", "riyadh-dc")
    assert held == (before["MUG-CLASSIC"][0], before["MUG-CLASSIC"][1] + 1, before["MUG-CLASSIC"][2] - 1)

    outcome = shop["actions"].cancel(order_id, "cancel-1")
    assert outcome.kind == "cancelled" and not outcome.replayed
    assert shop["actions"].cancel(order_id, "cancel-1").replayed  # a double submit acts once
    warehouse.go.set()

    order = wait_for(shop, order_id, OrderStatus.CANCELLED)
    assert order.cancellation_reason == "CancelledByCustomer"
    assert execution_status(shop, order_id) == "SUCCEEDED"  # a business outcome, not an incident
    # Stock: every unit back where it was held.
    assert {sku: available(shop, sku, "riyadh-dc") for sku in before} == before
    # Money: authorised, nothing captured, the authorisation voided.
    p = order.payment
    assert (p.authorized, p.captured.amount, p.refunded.amount, p.voided) == (order.totals.total, 0, 0, True)
    assert [op for op, *_ in ledger_for(shop, order)] == ["void"]
    # Messages: the confirmation (sent when its stock was held), then the cancellation, as the customer asked.
    ref = order_reference(order_id)
    sent = messages_to(shop, email, 2)
    assert [m.subject for m in sent] == [f"Your order {ref} is confirmed", f"Your order {ref} was cancelled"]
    assert f"Your order {ref} is cancelled, as you asked. You have not been charged." in sent[1].body


def test_the_customer_cancels_the_parcel_of_a_split_order_that_has_not_left(shop, warehouse):
    dallah_before = available(shop, "DALLAH-BRASS", "jeddah-store")
    dates_before = available(shop, "DATES-1KG", "riyadh-dc")
    order_id, email = place(shop, warehouse, {"DALLAH-BRASS": 1, "DATES-1KG": 2}, RIYADH, parcels=2)
    placed = order_of(shop, order_id)
    by_location = {s.location_id: s for s in placed.shipments}
    jeddah, riyadh = by_location["jeddah-store"], by_location["riyadh-dc"]
    assert available(shop, "DALLAH-BRASS", "jeddah-store")[1] == dallah_before[1] + 1

    outcome = shop["actions"].cancel(order_id, "cancel-parcel-1", [jeddah.shipment_id])
    assert outcome.kind == "shipments_cancelled" and "1 x Brass dallah" in outcome.message
    # The dallah is back on the Jeddah shelf at once; the dates stay held in Riyadh.
    assert available(shop, "DALLAH-BRASS", "jeddah-store") == dallah_before
    assert available(shop, "DATES-1KG", "riyadh-dc")[1] == dates_before[1] + 2
    warehouse.go.set()

    order = deliver_everything(shop, order_id)
    assert execution_status(shop, order_id) == "SUCCEEDED"
    assert order.shipment(jeddah.shipment_id).cancelled and not order.shipment(jeddah.shipment_id).tracking_number
    assert [line.sku for line in order.lines] == ["DATES-1KG"]
    # Stock: Jeddah's dallah never left; Riyadh's dates left with the parcel.
    assert available(shop, "DALLAH-BRASS", "jeddah-store") == dallah_before
    assert available(shop, "DATES-1KG", "riyadh-dc") == (dates_before[0] - 2, dates_before[1], dates_before[2] - 2)
    # Money: the Jeddah parcel's share was voided from the authorisation before anything was captured; the Riyadh
    # parcel captured exactly what is left; nothing refunded.
    p = order.payment
    assert order.totals.total == placed.totals.total - jeddah.amount
    assert p.authorized == p.captured == order.totals.total == riyadh.amount and p.refunded.amount == 0
    ops = ledger_for(shop, order)
    assert [(op, amount) for op, _, amount in ops] == sorted([("capture", riyadh.amount.amount),
                                                              ("void_part", jeddah.amount.amount)])
    # Messages: confirmed, the parcel cancelled (what, and what is not charged), then the other one's journey.
    ref = order_reference(order_id)
    sent = messages_to(shop, email, 4)
    assert [m.subject for m in sent] == [f"Your order {ref} is confirmed", f"Part of your order {ref} is cancelled",
                                         f"Your order {ref} is on its way", f"Your order {ref} was delivered"]
    assert "<li>1 \N{MULTIPLICATION SIGN} Brass dallah</li>" in sent[1].body  # the outbox keeps an email's HTML
    share = jeddah.amount.amount
    assert f"{share // 100}.{share % 100:02d} SAR will not be charged" in sent[1].body


# --- changing the address -------------------------------------------------------------------------------------------

def test_an_address_in_the_same_zone_changes_only_where_it_goes_and_not_after_the_label(shop, warehouse):
    order_id, email = place(shop, warehouse, {"MUG-CLASSIC": 1}, RIYADH)
    placed = order_of(shop, order_id)
    quote = shop["actions"].quote_address_change(order_id, Address.model_validate(JEDDAH))
    assert quote.allowed and quote.difference.amount == 0 and quote.shipping_before == quote.shipping_after
    outcome = shop["actions"].change_address(order_id, "address-1", Address.model_validate(JEDDAH))
    assert outcome.kind == "address_changed"
    warehouse.go.set()

    order = wait_for(shop, order_id, OrderStatus.SHIPPED)
    assert order.shipping_address == Address.model_validate(JEDDAH)
    assert order.totals == placed.totals and order.promised_by == quote.promised_by
    assert not [op for op, *_ in ledger_for(shop, order) if op == "void_part"]
    # Once the label exists, the address no longer changes (and the page's quote says why).
    later = shop["actions"].quote_address_change(order_id, Address.model_validate(RIYADH))
    assert not later.allowed and later.reason == "a label already exists for a parcel"
    with pytest.raises(IllegalTransition, match="label already exists"):
        shop["actions"].change_address(order_id, "address-2", Address.model_validate(RIYADH))
    ref = order_reference(order_id)
    sent = messages_to(shop, email, 3)
    assert [m.subject for m in sent] == [f"Your order {ref} is confirmed", f"Your order {ref} goes to a new address",
                                         f"Your order {ref} is on its way"]
    assert f"will now be delivered to <strong>3 Tahlia St, Jeddah</strong>, by {order.promised_by}." in sent[1].body
    assert "costs less" not in sent[1].body


def test_a_dearer_address_is_refused_with_the_amount_and_the_order_ships_where_it_was_going(shop, warehouse):
    order_id, email = place(shop, warehouse, {"MUG-CLASSIC": 1}, RIYADH)
    najran = Address.model_validate(NAJRAN)
    quote = shop["actions"].quote_address_change(order_id, najran)
    assert not quote.allowed and quote.difference.amount == 1725  # 15.00 more shipping and its VAT
    assert quote.reason == "Delivering to Najran costs 17.25 SAR more: the address cannot change to it."
    with pytest.raises(IllegalTransition, match=r"costs 17\.25 SAR more"):
        shop["actions"].change_address(order_id, "address-1", najran)
    warehouse.go.set()

    order = wait_for(shop, order_id, OrderStatus.SHIPPED)
    assert order.shipping_address == Address.model_validate(RIYADH)
    assert order.payment.captured == order.payment.authorized == order.totals.total
    ref = order_reference(order_id)
    assert [m.subject for m in messages_to(shop, email, 2)] == [f"Your order {ref} is confirmed",
                                                                f"Your order {ref} is on its way"]


def test_a_cheaper_address_gives_the_shipping_difference_back(shop, warehouse):
    order_id, email = place(shop, warehouse, {"MUG-CLASSIC": 1}, NAJRAN)
    placed = order_of(shop, order_id)
    assert placed.totals.shipping.amount == 4000  # Najran is in the remote zone: charged so at checkout
    riyadh = Address.model_validate(RIYADH)
    quote = shop["actions"].quote_address_change(order_id, riyadh)
    assert quote.allowed and (quote.shipping_before.amount, quote.shipping_after.amount) == (4600, 2875)
    assert quote.difference.amount == -1725
    outcome = shop["actions"].change_address(order_id, "address-1", riyadh)
    assert "17.25 SAR of the shipping charge will not be charged" in outcome.message
    warehouse.go.set()

    order = deliver_everything(shop, order_id)
    p = order.payment
    assert order.totals.total.amount == placed.totals.total.amount - 1725 and order.totals.shipping.amount == 2500
    assert p.authorized == p.captured == order.totals.total and p.refunded.amount == 0
    assert [(op, amount) for op, _, amount in ledger_for(shop, order)] == [("capture", order.totals.total.amount),
                                                                          ("void_part", 1725)]
    ref = order_reference(order_id)
    sent = messages_to(shop, email, 4)
    assert [m.subject for m in sent] == [f"Your order {ref} is confirmed", f"Your order {ref} goes to a new address",
                                         f"Your order {ref} is on its way", f"Your order {ref} was delivered"]
    assert "Shipping there costs less: 17.25 SAR will not be charged." in sent[1].body


# --- how the customer hears from us -------------------------------------------------------------------------------

def test_choosing_email_and_sms_in_arabic_sends_every_later_message_on_both(shop, warehouse):
    order_id, email = place(shop, warehouse, {"MUG-CLASSIC": 1}, RIYADH)
    outcome = shop["actions"].change_contact(order_id, "contact-1", "both", "ar", "+966501234568")
    assert outcome.kind == "contact_changed" and outcome.message.endswith("by email and SMS, in Arabic.")
    warehouse.go.set()
    wait_for(shop, order_id, OrderStatus.SHIPPED)
    ref = order_reference(order_id)
    by_email = messages_to(shop, email, 3)
    by_sms = messages_to(shop, "+966501234568", 2)
    assert [m.subject for m in by_email] == [f"Your order {ref} is confirmed", f"طريقة تواصلنا معك بشأن طلبك {ref}",
                                             f"طلبك {ref} في الطريق إليك"]
    assert [m.channel for m in by_sms] == ["sms", "sms"]
    assert "الرسائل النصية والبريد الإلكتروني باللغة العربية" in by_sms[0].body and "تم شحن الطلب" in by_sms[1].body
