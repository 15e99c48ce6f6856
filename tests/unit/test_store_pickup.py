"""Store pickup (decision 98): placed for a store with a pickup desk (no shipping charge, that store's stock only),
waiting for the store to mark it ready (a code, the customer told), handed over for the right code only (attempts
limited; captured and consumed then, counted delivered), reminded once, and cancelled when nobody collects it (the
units released at the store, the authorisation voided)."""

from __future__ import annotations

import pytest
from fakes import FakeAuditLog, FakeOrderSearch, request

from dawra.app.ship import AwaitCollection, AwaitPacking, RemindCollection
from dawra.app.store_pickup import StorePickups
from dawra.domain.access import Actor, Role
from dawra.domain.availability import ShortOfStock
from dawra.domain.errors import (
    Forbidden,
    IllegalTransition,
    NotCollected,
    PickupCodeRefused,
    PickupLocked,
    PickupNotOffered,
)
from dawra.domain.order import OrderStatus
from dawra.domain.pickup import MAX_ATTEMPTS, normalise, spoken
from dawra.domain.shipment import ShipmentStatus
from dawra.domain.timeline import TimelineKind
from dawra.rendering import Letterhead, render

STORE = Actor(user_id="u-store", username="store@dawra.example", roles=frozenset({Role.STORE}))
WAREHOUSE = Actor(user_id="u-wh", username="warehouse@dawra.example", roles=frozenset({Role.WAREHOUSE}))
PICKUP = {"method": "pickup", "location_id": "jeddah-store"}
JEDDAH = {"name": "Huda", "line1": "7 Tahlia St", "city": "Jeddah", "country": "SA"}
CODES = iter(f"K7QXM4T{c}" for c in "23456789ABCDEFGH")


@pytest.fixture
def desk(shop):
    shop.audit = FakeAuditLog(shop.world)
    shop.pickups = StorePickups(shop.orders, FakeOrderSearch(shop.world), shop.inventory, shop.uow, shop.audit,
                                shop.workflow, _Registry(shop.payments), shop.clock, codes=lambda: next(CODES))
    shop.await_packing = AwaitPacking(shop.orders, shop.uow, shop.workflow)
    shop.await_collection = AwaitCollection(shop.orders, shop.uow, shop.workflow)
    shop.remind = RemindCollection(shop.orders, shop.uow, shop.clock)
    return shop


class _Registry:
    def __init__(self, provider):
        self.provider = provider

    def named(self, name):
        return self.provider


def placed(shop, lines=None, key="pickup-00000001", **overrides):
    body = {"delivery": PICKUP, "shipping_address": JEDDAH, **overrides}
    return shop.checkout.place_order(key, request(lines or {"MUG-CLASSIC": 2}, **body))


def ready(shop, key="pickup-00000001"):
    """Placed, reserved at the store, parked in WaitForPacking, then marked ready: (order id, shipment id, code)."""
    order_id = placed(shop, key=key).order_id
    (planned,) = shop.reserve(order_id).shipments
    assert shop.ship(order_id, planned.shipment_id).outcome == "preparing"
    shop.await_packing(order_id, planned.shipment_id, f"tok-pack-{key}")
    shop.pickups.mark_ready(STORE, order_id, planned.shipment_id, f"ready-{key}")
    shipment = shop.orders.get(order_id).shipment(planned.shipment_id)
    return order_id, planned.shipment_id, shipment.pickup.code


# --- checkout ---------------------------------------------------------------------------------------------------
def test_a_pickup_order_costs_no_shipping_and_is_reserved_at_its_store_only(shop):
    delivered = shop.checkout.place_order("deliver-0000001", request({"MUG-CLASSIC": 2}, shipping_address=JEDDAH))
    order = placed(shop)
    assert order.shipping_method == "pickup" and order.pickup_location == "jeddah-store"
    assert order.totals.shipping.amount == 0 and delivered.totals.shipping.amount == 2500
    assert order.totals.total.amount < delivered.totals.total.amount
    (planned,) = shop.reserve(order.order_id).shipments
    assert planned.location_id == "jeddah-store"  # riyadh-dc has more mugs and a better priority: not chosen
    shipment = shop.orders.get(order.order_id).shipment(planned.shipment_id)
    assert shipment.pickup is not None and shipment.pickup.store_name == "Jeddah store"
    assert shipment.prepare_by is not None and shipment.pickup.code is None


def test_pickup_is_refused_where_the_store_has_no_desk_or_is_abroad_or_for_cash_on_delivery(shop):
    with pytest.raises(PickupNotOffered) as no_desk:
        placed(shop, delivery={"method": "pickup", "location_id": "riyadh-dc"})
    assert no_desk.value.field == "delivery.location_id"
    with pytest.raises(PickupNotOffered):
        placed(shop, delivery={"method": "pickup", "location_id": "nowhere"})
    with pytest.raises(PickupNotOffered):
        placed(shop, shipping_address={**JEDDAH, "city": "Dubai", "country": "AE"})
    assert shop.payments.ledger == [] and shop.world.headers == {}  # nothing authorised, nothing written


def test_a_store_short_of_the_order_refuses_it_like_any_shortage(shop):
    shop.world.set_stock("MUG-CLASSIC", "jeddah-store", 1)  # riyadh-dc still has plenty
    with pytest.raises(ShortOfStock):
        placed(shop)
    assert shop.payments.ledger == []


def test_an_ordinary_order_keeps_nothing_of_pickup(shop):
    order_id = shop.place({"MUG-CLASSIC": 2})
    (planned,) = shop.reserve(order_id).shipments
    order = shop.orders.get(order_id)
    assert order.pickup_location is None and order.shipment(planned.shipment_id).pickup is None
    assert shop.ship(order_id, planned.shipment_id).outcome == "shipped"


# --- ready ------------------------------------------------------------------------------------------------------
def test_the_shipment_waits_for_the_store_then_marked_ready_gets_a_code_and_the_customer_is_told(desk):
    order_id = placed(desk).order_id
    (planned,) = desk.reserve(order_id).shipments
    shipped = desk.ship(order_id, planned.shipment_id)
    assert shipped.outcome == "preparing" and [op for op, *_ in desk.payments.ledger] == ["authorize"]
    desk.await_packing(order_id, planned.shipment_id, "tok-pack")
    desk.pickups.mark_ready(STORE, order_id, planned.shipment_id, "ready-00000001")
    assert desk.workflow.resumed == {"tok-pack": {"packed": True}}
    order = desk.orders.get(order_id)
    shipment = order.shipment(planned.shipment_id)
    assert shipment.status == ShipmentStatus.READY_FOR_PICKUP and not shipment.has_shipped
    assert len(shipment.pickup.code) == 8 and shipment.pickup.collect_by > shipment.pickup.ready_at
    again = desk.pickups.mark_ready(STORE, order_id, planned.shipment_id, "ready-00000002")  # a second click
    assert again.audit.after["moved"] is False and again.order.shipment(planned.shipment_id).pickup.code == \
        shipment.pickup.code
    # Resumed, ShipShipment books no carrier: it waits for collection, until the reminder is due (3 days).
    after = desk.ship(order_id, planned.shipment_id)
    assert (after.outcome, after.collect_timeout_s) == ("awaiting_collection", 3 * 86400)
    assert shipment.tracking_number is None and order.payment.captured.amount == 0
    [event] = [e for e in desk.orders.timeline(order_id) if e.kind == TimelineKind.PICKUP_READY]
    for language in ("en", "ar"):
        order.contact = order.contact.model_copy(update={"language": language})
        message = render(order, event, Letterhead("Dawra", "help@example.com", "https://example.com/o"))
        assert spoken(shipment.pickup.code) in message.html and spoken(shipment.pickup.code) in message.text
        assert "Jeddah store" in message.text and "<table" in message.html  # the QR, as a table
    assert "10:00-22:00" in message.text and 'dir="rtl"' in message.html


def test_the_store_name_in_the_message_is_escaped(desk):
    order_id, shipment_id, _ = ready(desk)
    order = desk.orders.get(order_id)
    order.shipment(shipment_id).pickup.store_name = "<script>x</script>"
    [event] = [e for e in desk.orders.timeline(order_id) if e.kind == TimelineKind.PICKUP_READY]
    html = render(order, event, Letterhead("Dawra", "help@example.com", "https://example.com/o")).html
    assert "<script>x" not in html and "&lt;script&gt;" in html


def test_only_store_staff_and_managers_serve_pickups(desk):
    order_id = placed(desk).order_id
    (planned,) = desk.reserve(order_id).shipments
    with pytest.raises(Forbidden):
        desk.pickups.mark_ready(WAREHOUSE, order_id, planned.shipment_id, "ready-00000001")
    with pytest.raises(Forbidden):
        desk.pickups.desk(WAREHOUSE, "jeddah-store")
    listed = desk.pickups.desk(STORE, "jeddah-store")
    assert [item.order.order_id for item in listed.to_prepare] == [order_id] and listed.ready == []


# --- handover ---------------------------------------------------------------------------------------------------
def test_a_wrong_code_is_refused_and_counted_the_right_one_collects_captures_and_completes(desk):
    order_id, shipment_id, code = ready(desk)
    desk.await_collection(order_id, shipment_id, "tok-collect")
    with pytest.raises(PickupCodeRefused):
        desk.pickups.hand_over(STORE, order_id, shipment_id, "AAAA-AAAA", "hand-00000001")
    order = desk.orders.get(order_id)
    assert order.shipment(shipment_id).status == ShipmentStatus.READY_FOR_PICKUP
    assert order.shipment(shipment_id).pickup.failed_attempts == 1 and order.payment.captured.amount == 0
    assert "tok-collect" not in desk.workflow.resumed
    units = desk.stock("MUG-CLASSIC", "jeddah-store")
    held_before = units.reserved
    done = desk.pickups.hand_over(STORE, order_id, shipment_id, spoken(code).lower(), "hand-00000002")
    shipment = done.order.shipment(shipment_id)
    assert shipment.status == ShipmentStatus.COLLECTED and shipment.is_delivered and shipment.delivered_at
    # Its only parcel collected: the order completes in the handover's own commit.
    assert done.order.payment.captured == shipment.amount and done.order.status == OrderStatus.COMPLETED
    assert desk.stock("MUG-CLASSIC", "jeddah-store").reserved == held_before - 2  # consumed
    assert desk.workflow.resumed["tok-collect"] == {"collected": True}
    assert "code" not in done.audit.after and code not in str(done.audit.model_dump())  # never audited
    replay = desk.pickups.hand_over(STORE, order_id, shipment_id, spoken(code), "hand-00000002")
    assert replay.replayed and [op for op, *_ in desk.payments.ledger].count("capture") == 1
    assert desk.world.timeline_kinds(order_id).count("order_completed") == 1


def test_too_many_wrong_codes_lock_the_desk_for_a_while(desk):
    order_id, shipment_id, code = ready(desk)
    for n in range(MAX_ATTEMPTS):
        with pytest.raises(PickupCodeRefused):
            desk.pickups.hand_over(STORE, order_id, shipment_id, "WRONG-CODE", f"wrong-{n:08d}")
    with pytest.raises(PickupLocked):  # even the right code, while locked
        desk.pickups.hand_over(STORE, order_id, shipment_id, code, "right-00000001")
    desk.clock.advance(minutes=16)
    done = desk.pickups.hand_over(STORE, order_id, shipment_id, code, "right-00000002")
    assert done.order.shipment(shipment_id).status == ShipmentStatus.COLLECTED


def test_the_code_is_read_out_forgivingly():
    assert normalise(" k7qx-m4tb ") == "K7QXM4TB" and normalise("OIL") == "011"


# --- not collected ----------------------------------------------------------------------------------------------
def test_reminded_once_then_cancelled_released_at_the_store_and_voided(desk):
    order_id, shipment_id, code = ready(desk)
    desk.await_collection(order_id, shipment_id, "tok-collect-1")
    reserved = desk.stock("MUG-CLASSIC", "jeddah-store").reserved
    desk.clock.advance(days=3, seconds=1)
    waited = desk.remind(order_id, shipment_id)
    assert 0 < waited.collect_timeout_s <= 4 * 86400  # on until the collect-by date (7 days after ready)
    again = desk.remind(order_id, shipment_id)  # a retried task reminds no second time
    kinds = [e.kind for e in desk.orders.timeline(order_id)]
    assert kinds.count(TimelineKind.PICKUP_REMINDER) == 1 and again.collect_timeout_s <= waited.collect_timeout_s
    desk.clock.advance(days=4)
    with pytest.raises(NotCollected):
        desk.remind(order_id, shipment_id)
    with pytest.raises(NotCollected):  # a retry: the same answer, recorded once
        desk.remind(order_id, shipment_id)
    order = desk.orders.get(order_id)
    assert order.cancellation_as == "NotCollected" and type(order.cancellation_stop()).__name__ == "NotCollected"
    with pytest.raises(IllegalTransition):  # the customer turns up too late: refused, nothing captured
        desk.pickups.hand_over(STORE, order_id, shipment_id, code, "late-00000001")
    desk.await_collection(order_id, shipment_id, "tok-collect-2")
    assert desk.workflow.failed["tok-collect-2"][0] == "NotCollected"
    # The Map's Catch: ReleaseStock, then CancelOrder with the failure's name.
    assert desk.release(order_id).parcels_shipped == 0
    desk.cancel(order_id, "NotCollected")
    order = desk.orders.get(order_id)
    assert order.status == OrderStatus.CANCELLED and order.cancellation_reason == "NotCollected"
    assert order.payment.voided and order.payment.captured.amount == 0
    assert desk.stock("MUG-CLASSIC", "jeddah-store").reserved == reserved - 2  # back at the store
    [cancelled] = [e for e in desk.orders.timeline(order_id) if e.kind == TimelineKind.ORDER_CANCELLED]
    message = render(order, cancelled, Letterhead("Dawra", "help@example.com", "https://example.com/o"))
    assert "not collected at the store in time" in message.text


def test_collected_before_the_reminder_fires_the_wait_answers_at_once(desk):
    order_id, shipment_id, code = ready(desk)
    desk.pickups.hand_over(STORE, order_id, shipment_id, code, "hand-00000001")
    assert desk.await_collection(order_id, shipment_id, "tok-late-park") == {"waiting": False}
    assert desk.workflow.resumed["tok-late-park"] == {"collected": True}
    assert desk.remind(order_id, shipment_id).collect_timeout_s == 1  # nothing to remind


def test_the_merchant_may_set_every_desks_times_and_the_customer_view_shows_the_code_once_ready(desk):
    from dawra.contracts.customer import customer_view
    from dawra.domain.pickup import Durations

    assert Durations.parse("") == Durations()
    with pytest.raises(ValueError):
        Durations.parse("remind=soon")
    desk.pickups.durations = Durations.parse("remind=1,collect=2")
    order_id = placed(desk).order_id
    (planned,) = desk.reserve(order_id).shipments
    waiting = customer_view(desk.orders.get(order_id), [], [], "ar")
    before = waiting.shipments[0].pickup
    assert before is not None and before.code is None and "السبت" in before.hours
    assert waiting.stage == "preparing"  # not on the desk yet
    desk.pickups.mark_ready(STORE, order_id, planned.shipment_id, "ready-00000009")
    order = desk.orders.get(order_id)
    pickup = order.shipment(planned.shipment_id).pickup
    assert (pickup.remind_at, pickup.collect_by) == ("2026-11-23T10:00:00.000Z", "2026-11-23T11:00:00.000Z")
    ready = customer_view(order, [], [], "en")
    assert ready.stage == "ready_to_collect"  # the page's banner says so, not "being prepared"
    shown = ready.shipments[0]
    assert shown.status == "ready_for_pickup" and shown.pickup.code == spoken(pickup.code)
    assert shown.pickup.store_name == "Jeddah store" and shown.pickup.collect_by == pickup.collect_by


def test_the_confirmation_of_a_pickup_order_names_the_store_not_a_delivery(desk):
    order_id = placed(desk).order_id
    desk.reserve(order_id)
    order = desk.orders.get(order_id)
    [reserved] = [e for e in desk.orders.timeline(order_id) if e.kind == TimelineKind.STOCK_RESERVED]
    from dawra.domain.notifications import message_event

    message = render(order, message_event(reserved), Letterhead("Dawra", "help@example.com", "https://example.com/o"))
    assert "ready to collect at Jeddah store" in message.text and "deliver" not in message.text
