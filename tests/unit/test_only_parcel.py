"""ShipTheOnlyParcel (decision 122): an order that leaves in one parcel ships it outside the Map; for an order in
several parcels, or a parcel that does not leave, it names a shipment that has not left, which WaitForItsDelivery's
write refuses, so ShipEachShipment takes the order over and its ShipShipment answers as it would have. It never
fails for those (a function error would page operations)."""

from __future__ import annotations

from typing import get_args

import pytest
from fakes import FakeAuditLog

from dawra.app.backoffice import OrderActions
from dawra.app.reserve import JustReserved
from dawra.app.ship import ReserveAndShip, ShipTheOnlyParcel
from dawra.contracts.tasks import (
    NOT_ON_ITS_WAY_WAIT_S,
    TASKS,
    OnlyParcel,
    PlannedShipment,
    Shipped,
    ShipTheOnlyParcelInput,
)
from dawra.domain.access import Actor, Role
from dawra.domain.availability import AwaitingStock
from dawra.domain.errors import (
    CancellationRequested,
    CancelledByCustomer,
    IllegalTransition,
    OutOfStock,
    TransientError,
)
from dawra.domain.inventory import ReservationState
from dawra.domain.order import OrderStatus
from dawra.domain.shipment import MOVING, NOT_LEFT

AGENT = Actor(user_id="u-agent", username="agent@dawra.example", roles=frozenset({Role.AGENT}))


@pytest.fixture
def only(shop):
    return ShipTheOnlyParcel(shop.ship)


def mugs(shop) -> tuple[int, int]:
    """The mugs in Riyadh: on hand, reserved."""
    level = shop.stock("MUG-CLASSIC", "riyadh-dc")
    return level.on_hand, level.reserved


def captures(shop):
    return [entry for entry in shop.payments.ledger if entry[0] == "capture"]


def test_the_only_parcel_ships_as_shipshipment_ships_it_and_the_branch_would_find_it_shipped(shop, only):
    order_id = shop.place({"MUG-CLASSIC": 1, "DATES-1KG": 2})
    planned = shop.reserve(order_id).shipments
    assert len(planned) == 1
    answer = only(order_id, planned)
    assert answer.shipment_id == planned[0].shipment_id and answer.delivery_timeout_s >= 1 and answer.shipped_now
    order = shop.orders.get(order_id)
    assert order.status == OrderStatus.SHIPPED
    assert order.shipment(answer.shipment_id).status in MOVING  # what WaitForItsDelivery's write asks for
    assert shop.carriers.bookings == [answer.shipment_id] and len(captures(shop)) == 1
    # The fallback (a refused write, a timeout) runs the branch's ShipShipment on the same parcel: it answers
    # "shipped" with the same parcel and the same wait, books and captures nothing more, and is not counted again.
    again = shop.ship(order_id, answer.shipment_id)
    assert (again.outcome, again.delivery_timeout_s, again.shipped_now) == ("shipped", answer.delivery_timeout_s, False)
    assert again.tracking_number == order.shipment(answer.shipment_id).tracking_number
    assert shop.carriers.bookings == [answer.shipment_id] and len(captures(shop)) == 1
    assert only(order_id, planned).shipped_now is False  # a retried ShipTheOnlyParcel: the same, not counted


def test_an_order_in_several_parcels_names_its_first_unshipped_shipment_without_reading_anything(shop, only):
    order_id = shop.place({"MUG-CLASSIC": 45})  # 40 in Riyadh and 5 in Jeddah
    planned = shop.reserve(order_id).shipments
    assert len(planned) == 2
    answer = only(order_id, planned)
    assert answer == OnlyParcel(shipment_id=planned[0].shipment_id, delivery_timeout_s=NOT_ON_ITS_WAY_WAIT_S)
    assert shop.orders.get(order_id).shipment(answer.shipment_id).status in NOT_LEFT  # so the write is refused
    # decided from the reservation alone: no order is even looked up
    assert only("ord_doesnotexist0000", planned) == answer
    assert shop.carriers.bookings == [] and captures(shop) == []
    assert shop.orders.get(order_id).status == OrderStatus.ALLOCATED
    assert {shop.ship(order_id, p.shipment_id).outcome for p in planned} == {"shipped"}  # each branch ships its own


def test_a_held_order_is_named_unshipped_and_the_branch_answers_on_hold_again(shop, only):
    actions = OrderActions(shop.orders, shop.inventory, shop.uow, FakeAuditLog(shop.world), shop.workflow,
                           shop.payments, shop.clock, release_stock=shop.release, cancel_order=shop.cancel)
    order_id = shop.place({"MUG-CLASSIC": 1})
    planned = shop.reserve(order_id).shipments
    actions.hold(AGENT, order_id, "hold-0001", "customer asked to wait")
    answer = only(order_id, planned)
    assert (answer.shipment_id, answer.delivery_timeout_s, answer.shipped_now) == (
        planned[0].shipment_id, NOT_ON_ITS_WAY_WAIT_S, False)
    assert shop.orders.get(order_id).shipment(answer.shipment_id).status in NOT_LEFT
    assert shop.carriers.bookings == [] and captures(shop) == []
    assert shop.orders.get(order_id).status == OrderStatus.ON_HOLD
    assert shop.ship(order_id, planned[0].shipment_id).outcome == "on_hold"  # what DidItShip then routes on


class Answers:
    """ShipShipment as the branch would run it, answering `outcome` (or raising `error`)."""

    def __init__(self, outcome: str = "shipped", error: Exception | None = None):
        self.outcome, self.error, self.calls = outcome, error, []

    def __call__(self, order_id: str, shipment_id: str, just: JustReserved | None = None) -> Shipped:
        self.calls.append((order_id, shipment_id))
        if self.error:
            raise self.error
        return Shipped(outcome=self.outcome)


ONE = [PlannedShipment(shipment_id="shp_0123456789abcdef", location_id="riyadh-dc")]


@pytest.mark.parametrize("outcome", sorted(set(get_args(Shipped.model_fields["outcome"].annotation)) - {"shipped"}))
def test_every_answer_but_shipped_waits_a_day_on_its_own_shipment(outcome):
    """Each such answer left the shipment in a status the write refuses (tests/unit/test_asl_contract.py), and a day's
    wait means the refusal, not a timeout, decides."""
    ship = Answers(outcome)
    answer = ShipTheOnlyParcel(ship)("ord_0123456789abcdef", ONE)  # type: ignore[arg-type]
    assert answer == OnlyParcel(shipment_id="shp_0123456789abcdef", delivery_timeout_s=NOT_ON_ITS_WAY_WAIT_S)
    assert ship.calls == [("ord_0123456789abcdef", "shp_0123456789abcdef")]


@pytest.mark.parametrize("error", [CancelledByCustomer("asked"), IllegalTransition("ord_0123456789abcdef", "CANCELLED", "ship")])
def test_a_shipping_that_fails_fails_the_task_unchanged(error):
    """What sends it where the Map's failures go (ReleaseStock), with the same error name."""
    with pytest.raises(type(error)):
        ShipTheOnlyParcel(Answers(error=error))("ord_0123456789abcdef", ONE)  # type: ignore[arg-type]


def test_its_task_takes_the_reservations_shipments_and_answers_what_the_fast_wait_reads():
    task_input, output = TASKS["ship_the_only_parcel"]
    assert task_input is ShipTheOnlyParcelInput and output is OnlyParcel
    parsed = ShipTheOnlyParcelInput.model_validate(
        {"action": "ship_the_only_parcel", "order_id": "ord_0123456789abcdef",
         "shipments": [{"shipment_id": "shp_0123456789abcdef", "location_id": "riyadh-dc"}]})
    assert parsed.shipments == ONE
    with pytest.raises(ValueError):  # a reservation always has a shipment: none is a bad input
        ShipTheOnlyParcelInput.model_validate(
            {"action": "ship_the_only_parcel", "order_id": "ord_0123456789abcdef", "shipments": []})


# --- ReserveAndShip (decision 124): the reservation and the only parcel in one call ---------------------------------
@pytest.fixture
def both(shop, only):
    return ReserveAndShip(shop.reserve, only)


def test_an_ordinary_order_is_reserved_and_its_parcel_shipped_in_one_call(shop, both):
    before = mugs(shop)
    order_id = shop.place({"MUG-CLASSIC": 1, "DATES-1KG": 2})
    reserved = both(order_id)
    [planned] = reserved.shipments
    assert reserved.parcel.shipment_id == planned.shipment_id and reserved.parcel.shipped_now
    order = shop.orders.get(order_id)
    assert order.status == OrderStatus.SHIPPED and order.shipment(planned.shipment_id).status in MOVING
    # a retry (the task's Retry after a lost answer) finds both done: the same reservation, nothing shipped again
    again = both(order_id)
    assert again.shipments == reserved.shipments and not again.parcel.shipped_now
    assert shop.carriers.bookings == [planned.shipment_id] and len(captures(shop)) == 1
    assert mugs(shop) == (before[0] - 1, before[1])  # reserved once, then left once


def test_an_order_in_several_parcels_is_reserved_and_handed_to_the_map_unshipped(shop, both):
    order_id = shop.place({"MUG-CLASSIC": 45})
    reserved = both(order_id)
    assert len(reserved.shipments) == 2 and reserved.parcel.shipment_id == reserved.shipments[0].shipment_id
    assert not reserved.parcel.shipped_now and reserved.parcel.delivery_timeout_s == NOT_ON_ITS_WAY_WAIT_S
    assert shop.orders.get(order_id).status == OrderStatus.ALLOCATED and shop.carriers.bookings == []


def test_an_order_short_of_stock_fails_before_anything_ships(shop, both):
    order_id = shop.place({"PRAYER-MAT": 2})
    shop.world.set_stock("PRAYER-MAT", "riyadh-dc", 0)  # sold elsewhere between checkout and the reservation
    with pytest.raises(OutOfStock):
        both(order_id)
    assert shop.carriers.bookings == [] and captures(shop) == []


def test_a_backordered_order_waits_for_its_stock_before_anything_ships(shop):
    """AwaitingStock is raised by the reservation, before the shipping half runs (the ASL's catch: WhenIsStockDue)."""
    from test_backorders_preorders import Backorders

    waiting = Backorders(shop)
    order_id = shop.place({"PRAYER-MAT": 3})
    with pytest.raises(AwaitingStock):
        ReserveAndShip(waiting.reserve, ShipTheOnlyParcel(shop.ship))(order_id)
    assert shop.carriers.bookings == [] and captures(shop) == []
    assert shop.orders.get(order_id).status == OrderStatus.CONFIRMED


class FailsOnce:
    """ShipShipment whose first call meets a carrier briefly unavailable (TransientError: the task's Retry)."""

    def __init__(self, ship):
        self.ship, self.failed = ship, False

    def __call__(self, order_id: str, shipment_id: str, just: JustReserved | None = None) -> Shipped:
        if not self.failed:
            self.failed = True
            raise TransientError("the carrier is briefly unavailable")
        return self.ship(order_id, shipment_id, just)


def test_a_retry_after_the_shipping_half_failed_reuses_the_reservation_and_ships_once(shop):
    both = ReserveAndShip(shop.reserve, ShipTheOnlyParcel(FailsOnce(shop.ship)))
    before = mugs(shop)
    order_id = shop.place({"MUG-CLASSIC": 1})
    with pytest.raises(TransientError):
        both(order_id)
    assert mugs(shop) == (before[0], before[1] + 1)  # held, not left
    retried = both(order_id)
    assert retried.parcel.shipped_now and shop.orders.get(order_id).status == OrderStatus.SHIPPED
    assert mugs(shop) == (before[0] - 1, before[1])  # one reservation, left once
    assert len(captures(shop)) == 1


def counted_reads(shop, monkeypatch) -> list[str]:
    """The order and reservation reads made from now on, by name."""
    reads: list[str] = []
    for repository, name in ((shop.orders, "get"), (shop.inventory, "reservations")):
        real = getattr(repository, name)
        monkeypatch.setattr(repository, name, lambda *args, _real=real, _name=name: reads.append(_name) or _real(*args))
    return reads


def test_the_shipping_half_starts_from_what_the_reservation_committed_and_reads_nothing_again(shop, both,
                                                                                              monkeypatch):
    """Decision 126: the reservation's read of the order is the call's only one; the shipping half works on the order
    as that commit left it and on the reservations it holds (one Query of the whole order and one of its reservations
    fewer per ordinary order), and what it stores is what a fresh read would have shipped."""
    before = mugs(shop)
    order_id = shop.place({"MUG-CLASSIC": 1, "DATES-1KG": 2})
    reads = counted_reads(shop, monkeypatch)
    reserved = both(order_id)
    assert reads == ["get"] and reserved.parcel.shipped_now
    order = shop.orders.get(order_id)
    shipment = order.shipment(reserved.parcel.shipment_id)
    assert order.status == OrderStatus.SHIPPED and shipment.status in MOVING and shipment.tracking_number
    assert mugs(shop) == (before[0] - 1, before[1])  # held, then consumed: the reservations it was handed
    assert [r.state for r in shop.inventory.reservations(order_id)] == [ReservationState.SHIPPED] * 2


def test_an_order_cancelled_between_the_reservation_and_its_parcel_fails_the_task_unshipped(shop, monkeypatch):
    """The customer's cancellation lands after the reservation's commit, while the shipping half works on the order as
    that commit left it: the half's own commit is refused (the header moved), its next attempt reads the order, finds
    who asked and stops with it (the ASL's States.ALL catch then releases the stock and compensates, as after the
    Map). Nothing ships; what was captured meanwhile is given back in full, as when a cancellation lands during
    ShipShipment's own carrier and payment calls."""
    before = mugs(shop)
    order_id = shop.place({"MUG-CLASSIC": 1})

    def cancelled_meanwhile(order_id: str, shipment_id: str, just: JustReserved | None = None) -> Shipped:
        assert just is not None  # handed what the reservation committed
        order = shop.orders.get(order_id)
        order.request_cancellation("changed my mind", shop.clock.now().isoformat(), "cancel-0001", by="customer")
        shop.uow.commit(order=order)
        return shop.ship(order_id, shipment_id, just)

    reads = counted_reads(shop, monkeypatch)
    with pytest.raises(CancellationRequested):
        ReserveAndShip(shop.reserve, ShipTheOnlyParcel(cancelled_meanwhile))(order_id)  # type: ignore[arg-type]
    assert reads.count("get") >= 3  # the reservation's, the cancellation's, the shipping half's after losing
    order = shop.orders.get(order_id)
    assert order.cancellation_requested == "changed my mind" and order.status != OrderStatus.SHIPPED
    assert not any(s.has_shipped for s in order.shipments)
    assert mugs(shop) == (before[0], before[1] + 1)  # still held: ReleaseStock gives it back
    assert len(shop.carriers.bookings) == 1  # booked on the order as the reservation left it, then not used
    [capture] = captures(shop)
    refunds = [entry for entry in shop.payments.ledger if entry[0] == "refund"]
    assert [entry[3] for entry in refunds] == [capture[3]] and refunds[0][2].endswith(":undo")
