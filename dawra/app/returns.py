"""Returns, as the customer, the agents, the warehouse and the return's workflow live them. Each use case reads as
what happens: the customer sees what they may return and what they would get, and asks; an agent approves or
declines (or nobody does, and the request expires); the carrier books a label (or the customer brings it to a
store); the parcel travels and arrives; the warehouse inspects it line by line (sellable units back on hand where it
arrived, damaged or tampered ones quarantined, wrong or missing items rejected); the money goes back; an unused label
expires.

The decisions are dawra.domain.returns'; here each step loads the order, decides, and commits the order, the
return, any stock and the timeline events in one unit of work. Each step is safe to repeat: a request is one return
per request key (the same key with another request is refused); an operator's action is one audit entry per key; a
workflow step that finds its work done answers as it did; a refund is recorded first, then paid out under the
return's own reference, so a retry pays it out once.

An exchange (another size or variant of the same price instead of money) holds its replacement when it is approved
(in the approval's commit; none in stock: the request, or the agent's approval, is refused before anything is
written), sends it as a shipment of the same order that belongs to the return (ShipReplacement: nothing captured,
the order's status untouched) when the returned items arrive or, when the policy trusts the customer, at once; lets
it go if the return never comes; and is done once the returned items are inspected. A replacement that has left is
never undone automatically."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from dawra.app.changes import Change, ChangeOrder, Outcome
from dawra.app.common import load, now_iso, retry_on_race
from dawra.app.customer import CUSTOMER
from dawra.domain.access import Actor, Permission, authorize
from dawra.domain.allocation import Location, plan_allocation
from dawra.domain.customer import Address
from dawra.domain.errors import IdempotencyKeyReused, InvalidCustomerDetails
from dawra.domain.inventory import Reservation, ReservationState, StockMove, consume, hold, release, take_back
from dawra.domain.money import Money
from dawra.domain.order import Order
from dawra.domain.pricing import CatalogItem
from dawra.domain.promise import NoCalendar, promise_for
from dawra.domain.returns import (
    ExchangeItem,
    InspectionOutcome,
    PickupSlot,
    RefundBreakdown,
    RefundMethod,
    Return,
    Returnable,
    ReturnEvent,
    ReturnMethod,
    ReturnPolicies,
    ReturnRefused,
    ReturnRequest,
    ReturnStatus,
    ReturnWait,
    change_pickup,
    check_pickup,
    decide,
    default_policies,
    inspect,
    issue_label,
    open_return,
    pickup_change_refused,
    refund_methods,
    return_id_for,
    returnable,
    settle,
    step,
)
from dawra.domain.shipment import Shipment, ShipmentLine
from dawra.domain.time import iso
from dawra.ports import (
    AuditLog,
    Carriers,
    Clock,
    InventoryRepository,
    OrderRepository,
    PaymentProviders,
    ReturnBooking,
    UnitOfWork,
    Workflow,
)

ESTIMATE_ID = "ret_" + "0" * 20  # the return an estimate imagines (never stored)


class ReturnCarrier(Protocol):
    """What returns need of a carrier (dawra.ports.Carrier has it)."""

    def book_return(self, return_id: str, from_address: Address, to_location_id: str,
                    weight_g: int, pickup: PickupSlot | None = None) -> ReturnBooking: ...


class PickupDays(Protocol):
    """When a courier can collect a return (dawra.ports.Carrier has it)."""

    def pickup_days(self, country: str, from_day: date) -> list[PickupSlot]: ...


class PickupRebooking(PickupDays, Protocol):
    """What moving a booked courier needs of the carrier (dawra.ports.Carrier has it)."""

    def rebook_pickup(self, return_id: str, country: str, pickup: PickupSlot, reference: str) -> ReturnBooking: ...


def _pickup_days(pickups: PickupDays | None, order: Order, today: date,
                 method: ReturnMethod = ReturnMethod.PICKUP) -> tuple[PickupSlot, ...]:
    """The slots a courier pickup may be asked for now (none without a carrier that collects; asked only for a
    courier pickup)."""
    if pickups is None or method != ReturnMethod.PICKUP:
        return ()
    return tuple(pickups.pickup_days(order.shipping_address.country, today))


def _find(order: Order, return_id: str) -> Return:
    try:
        return order.return_of(return_id)
    except KeyError:
        raise ReturnRefused(f"order {order.order_id}", order.status.value, "return",
                            f"it has no return {return_id}") from None


def request_fingerprint(request: ReturnRequest) -> str:
    asked: dict[str, object] = {"lines": [list(line) for line in request.lines], "method": request.method.value,
                                "refund_method": request.refund_method.value, "location_id": request.location_id,
                                "bank_account": request.bank_account}
    if request.exchanges:  # only then: requests stored before exchanges keep their fingerprint
        asked["exchanges"] = dict(sorted(request.exchanges.items()))
    if request.pickup is not None:  # likewise
        asked["pickup"] = request.pickup.key
    canonical = json.dumps(asked, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


# --- exchanges: the replacement -------------------------------------------------------------------------------------
def replacement_id_for_return(return_id: str) -> str:
    """One exchange, one replacement shipment: a retried approval finds it."""
    return "shp_" + hashlib.sha256(f"{return_id}|exchange".encode()).hexdigest()[:20]


class OutOfStock(ReturnRefused):
    """The replacement an exchange asks for cannot be sent from one location now."""


class Replacements:
    """Where an exchange's replacement leaves from (one location holding every unit, as a reship), holding it, and
    letting it go. The catalog items an exchange is checked against."""

    def __init__(self, inventory: InventoryRepository, clock: Clock):
        self.inventory, self.clock = inventory, clock

    def catalog_for(self, order: Order, request: ReturnRequest) -> dict[str, CatalogItem]:
        if not request.exchanges:
            return {}
        return self.inventory.catalog(sorted({*request.exchanges, *request.exchanges.values()}))

    def options(self, skus: list[str]) -> dict[str, list[ExchangeItem]]:
        """Per sku, its other sizes or variants at its own price with a unit in stock somewhere (the order page's
        choices; the request checks them again)."""
        catalog = self.inventory.catalog(skus)
        others = sorted({o for item in catalog.values() for o in item.exchangeable_for})
        if not others:
            return {}
        theirs = self.inventory.catalog(others)
        stock = self.inventory.available(others, [loc.location_id for loc in self.inventory.locations()])
        found: dict[str, list[ExchangeItem]] = {}
        for sku, item in catalog.items():
            usable = [theirs[o] for o in item.exchangeable_for if o in theirs
                      and theirs[o].unit_price == item.unit_price
                      and any(n > 0 for (s, _), n in stock.items() if s == o)]
            if usable:
                found[sku] = [ExchangeItem(sku=o.sku, title=o.title, titles=dict(o.titles)) for o in usable]
        return found

    def _plan(self, ret: Return) -> tuple[Location, list[StockMove], str] | None:
        wanted = ret.exchange_units
        locations = self.inventory.locations()
        picks = plan_allocation(wanted, self.inventory.available(list(wanted), [loc.location_id for loc in
                                                                                 locations]), locations)
        if not picks or len({pick.location_id for pick in picks}) != 1:
            return None
        location = next(loc for loc in locations if loc.location_id == picks[0].location_id)
        shipment_id = replacement_id_for_return(ret.return_id)
        holds = [hold(Reservation(order_id=ret.order_id, shipment_id=shipment_id, sku=pick.sku,
                                  location_id=pick.location_id, quantity=pick.quantity, replacement=True))
                 for pick in picks]
        return location, holds, shipment_id

    def check(self, order: Order, ret: Return) -> None:
        """The replacement could be held now (or OutOfStock, saying which items)."""
        if self._plan(ret) is None:
            raise self._out_of_stock(order, ret)

    def hold(self, order: Order, ret: Return, at: str) -> list[StockMove]:
        """Hold the replacement (a new shipment of the order, belonging to the return): the stock moves to commit
        with the order. Held before: nothing more. None in stock: OutOfStock, nothing changed."""
        if ret.replacement_id is not None:
            return []
        planned = self._plan(ret)
        if planned is None:
            raise self._out_of_stock(order, ret)
        location, holds, shipment_id = planned
        shipment = Shipment(shipment_id=shipment_id, order_id=order.order_id, location_id=location.location_id,
                            lines=[ShipmentLine(sku=sku, quantity=n) for sku, n in sorted(ret.exchange_units.items())],
                            amount=Money.zero(order.currency), promised_by=self._promise(order, location).isoformat(),
                            for_return=ret.return_id)
        order.hold_replacement(ret, shipment, at)
        return list(holds)

    def let_go(self, order: Order, ret: Return, at: str) -> list[StockMove]:
        """The return ended without the goods: a replacement still here is let go, its reservation released."""
        if ret.replacement_id is None:
            return []
        shipment = order.shipment(ret.replacement_id)
        if shipment.cancelled or shipment.has_shipped:
            return []  # let go before; or it left, and a person decides
        order.drop_replacement(shipment.shipment_id, at)
        return [release(r) for r in self.inventory.reservations(order.order_id)
                if r.shipment_id == shipment.shipment_id and r.state == ReservationState.HELD]

    def _promise(self, order: Order, location: Location) -> date:
        now = self.clock.now()
        try:
            return promise_for(now, location, order.shipping_address.country, order.shipping_method)
        except NoCalendar:  # as long after today as the order was promised after it was placed
            placed = datetime.fromisoformat(order.placed_at).astimezone(UTC).date()
            return now.date() + (date.fromisoformat(order.promised_by) - placed)

    @staticmethod
    def _out_of_stock(order: Order, ret: Return) -> OutOfStock:
        items = ", ".join(f"{n} x {sku}" for sku, n in sorted(ret.exchange_units.items()))
        return OutOfStock(f"order {order.order_id}", order.status.value, "exchange",
                          f"the replacement ({items}) is out of stock: choose a refund or another size")


# --- the customer ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReturnChoices:
    """What the order page offers: per line, how many units may go back now (or why none), and how the customer may
    be paid back for the lines that can."""

    lines: list[Returnable]
    refund_methods: tuple[RefundMethod, ...]
    return_methods: tuple[ReturnMethod, ...] = tuple(ReturnMethod)
    exchanges: Mapping[str, list[ExchangeItem]] = field(default_factory=dict)  # sku -> sizes/variants in stock
    pickup_days: tuple[PickupSlot, ...] = ()  # a courier pickup: the days and windows the carrier offers


class ReturnableLines:
    """`inventory` (the catalog and stock) lets the page offer an exchange; without it, refunds only. `pickups` (the
    carrier) lets it offer a courier pickup on the days the carrier offers; without it (or with none), no pickup."""

    def __init__(self, orders: OrderRepository, clock: Clock, policies: ReturnPolicies | None = None, *,
                 inventory: InventoryRepository | None = None, pickups: PickupDays | None = None):
        self.orders, self.clock, self.policies = orders, clock, policies or default_policies()
        self.replacements = Replacements(inventory, clock) if inventory is not None else None
        self.pickups = pickups

    def __call__(self, order_id: str) -> ReturnChoices:
        order = load(self.orders, order_id)
        lines = returnable(order, self.policies, self.clock.now().date())
        open_ = [line.policy for line in lines if line.quantity]
        methods = refund_methods(order, open_) if open_ else ()
        exchanges: dict[str, list[ExchangeItem]] = {}
        if RefundMethod.EXCHANGE in methods and self.replacements is not None:
            exchanges = self.replacements.options([line.sku for line in lines if line.quantity])
        if not exchanges:
            methods = tuple(m for m in methods if m != RefundMethod.EXCHANGE)
        days = _pickup_days(self.pickups, order, self.clock.now().date()) if methods else ()
        ways = tuple(m for m in ReturnMethod if m != ReturnMethod.PICKUP or days)
        return ReturnChoices(lines, methods, return_methods=ways, exchanges=exchanges, pickup_days=days)


class EstimateReturn:
    """What the customer would get back, before they confirm: the request checked exactly as it would be."""

    def __init__(self, orders: OrderRepository, clock: Clock, policies: ReturnPolicies | None = None, *,
                 inventory: InventoryRepository | None = None, pickups: PickupDays | None = None):
        self.orders, self.clock, self.policies = orders, clock, policies or default_policies()
        self.replacements = Replacements(inventory, clock) if inventory is not None else None
        self.pickups = pickups

    def __call__(self, order_id: str, request: ReturnRequest) -> RefundBreakdown:
        order = load(self.orders, order_id)  # a copy of our own: nothing of it is committed
        today = self.clock.now().date()
        imagined = open_return(order, self.policies, request, return_id=ESTIMATE_ID, today=today,
                               at=now_iso(self.clock), fingerprint="estimate",
                               catalog=_catalog(self.replacements, order, request),
                               pickup_days=_pickup_days(self.pickups, order, today, request.method))
        if imagined.is_exchange and self.replacements is not None:
            self.replacements.check(order, imagined)
        return imagined.estimate


def _catalog(replacements: Replacements | None, order: Order, request: ReturnRequest) -> dict[str, CatalogItem]:
    if request.exchanges and replacements is None:
        raise ReturnRefused(f"order {order.order_id}", order.status.value, "exchange",
                            "exchanges are not offered here: choose a refund")
    return replacements.catalog_for(order, request) if replacements is not None else {}


class RequestReturn:
    """The customer asks to send items back. One request key is one return: asked again, the same return."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, clock: Clock,
                 policies: ReturnPolicies | None = None, *, inventory: InventoryRepository | None = None,
                 pickups: PickupDays | None = None):
        self.orders, self.uow, self.clock = orders, uow, clock
        self.policies = policies or default_policies()
        self.replacements = Replacements(inventory, clock) if inventory is not None else None
        self.pickups = pickups

    def __call__(self, order_id: str, request_key: str, request: ReturnRequest) -> Return:
        return_id, print_ = return_id_for(order_id, request_key), request_fingerprint(request)

        def attempt() -> Return:
            order = load(self.orders, order_id)
            earlier = next((r for r in order.returns if r.return_id == return_id), None)
            if earlier is not None:
                if earlier.fingerprint != print_:
                    raise IdempotencyKeyReused("this request key was used for another return")
                return earlier
            at, today = now_iso(self.clock), self.clock.now().date()
            # (a replay returned above: the days offered have moved on since, the request stands)
            ret = open_return(order, self.policies, request, return_id=return_id, today=today,
                              at=at, fingerprint=print_, catalog=_catalog(self.replacements, order, request),
                              pickup_days=_pickup_days(self.pickups, order, today, request.method))
            holds: list[StockMove] = []
            if ret.is_exchange and self.replacements is not None:  # (_catalog refused it without them)
                if ret.status == ReturnStatus.APPROVED:  # by the policy: the replacement is held now
                    holds = self.replacements.hold(order, ret, at)
                else:  # a person approves first (and holds it then): none in stock now is refused now
                    self.replacements.check(order, ret)
            self.uow.commit(order=order, stock=holds)  # stock moved meanwhile: decided again
            return ret

        return retry_on_race(attempt, f"a return of {order_id}")


# --- an agent ---------------------------------------------------------------------------------------------------------
class DecideReturn:
    """An agent approves or declines a request the policy sends to a person; the workflow waiting on it goes on."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, audit: AuditLog, workflow: Workflow, clock: Clock,
                 *, inventory: InventoryRepository | None = None):
        self.change, self.workflow, self.clock = ChangeOrder(orders, uow, audit, clock), workflow, clock
        self.replacements = Replacements(inventory, clock) if inventory is not None else None

    def approve(self, actor: Actor, order_id: str, return_id: str, key: str) -> Outcome:
        return self._decide(actor, order_id, return_id, key, approve=True, why=None)

    def decline(self, actor: Actor, order_id: str, return_id: str, key: str, why: str) -> Outcome:
        return self._decide(actor, order_id, return_id, key, approve=False, why=why)

    def _decide(self, actor: Actor, order_id: str, return_id: str, key: str, *, approve: bool,
                why: str | None) -> Outcome:
        authorize(actor, Permission.REFUND)

        def decision(order: Order, ref: str) -> Change:
            at = now_iso(self.clock)
            ret = decide(order, _find(order, return_id).return_id, approve=approve, by=actor.user_id, at=at,
                         why=why)
            holds: list[StockMove] = []
            if approve and ret.is_exchange:  # the replacement is held with the approval, or neither happens
                if self.replacements is None:
                    raise ReturnRefused(f"return {return_id}", ret.status.value, "exchange",
                                        "exchanges cannot be approved here")
                holds = self.replacements.hold(order, ret, at)
            detail: dict[str, object] = {"return_id": return_id, "return_status": ret.status.value}
            if ret.replacement_id:
                detail["replacement_id"] = ret.replacement_id
            return Change(stock=list(holds), detail=detail)

        action = "approve_return" if approve else "decline_return"
        outcome = self.change(actor, order_id, key, action, why, decision, {"return_id": return_id})
        _resume(self.workflow, outcome.order.return_of(return_id), {"approved": approve}, wait="approval")
        return outcome


def _resume(workflow: Workflow, ret: Return, output: dict[str, object], *, wait: ReturnWait) -> None:
    """Hand the news to the return's workflow if the token kept on the return is the one of `wait` (a task no longer
    waiting refuses it harmlessly): once the workflow has gone on, the token kept is a later wait's, which a replayed
    action must not end. A replay while the wait is still parked (the first resume was lost) ends it."""
    if ret.resume_token and ret.resume_for == wait:
        workflow.resume(ret.resume_token, {"return_id": ret.return_id, "status": ret.status.value, **output})


# --- the customer moves the courier -----------------------------------------------------------------------------
class ChangePickupDay:
    """The customer chooses another day for the courier (it did not come, or the day no longer suits): one of the
    slots the carrier offers today, while the label is issued and nothing has been picked up (else refused, saying
    why). The carrier moves its booking first (idempotent under the request's reference), then the return keeps the
    new day (its label kept valid until the day after it, if it would lapse first: dawra.domain.returns
    change_pickup), committed with the timeline event (the customer's confirmation) and an audit entry by the
    customer, once per form key: a replay answers the same outcome, the same key with another day is refused. A
    commit that fails after the carrier moved leaves its booking moved; the customer's retry (same key) asks it the
    same again. The workflow needs no news: its parcel wait looks at the label's date again when it times out."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, audit: AuditLog, carrier: PickupRebooking,
                 clock: Clock):
        self.orders, self.carrier, self.clock, self.actor = orders, carrier, clock, CUSTOMER
        self.change = ChangeOrder(orders, uow, audit, clock)

    def offered(self, order_id: str, return_id: str) -> tuple[PickupSlot, ...]:
        """The slots the courier may be moved to now (the one booked among them, if still offered); ReturnRefused,
        saying why, when it cannot be moved."""
        order = load(self.orders, order_id)
        ret = _find(order, return_id)
        if (refused := pickup_change_refused(ret)) is not None:
            raise refused
        return tuple(self.carrier.pickup_days(order.shipping_address.country, self.clock.now().date()))

    def __call__(self, order_id: str, return_id: str, key: str, slot: PickupSlot) -> Outcome:
        def decision(order: Order, ref: str) -> Change:
            ret = _find(order, return_id)
            if (refused := pickup_change_refused(ret)) is not None:
                raise refused
            if slot == ret.pickup:
                raise InvalidCustomerDetails("the courier is booked for that day and window already", field="pickup")
            country = order.shipping_address.country
            check_pickup(ReturnMethod.PICKUP, slot, self.carrier.pickup_days(country, self.clock.now().date()))
            booking = self.carrier.rebook_pickup(return_id, country, slot, reference=f"{return_id}:{ref}")
            moved = change_pickup(order, return_id, booking.pickup or slot, at=now_iso(self.clock),
                                  carrier_expires_at=booking.expires_at, occurrence=ref)
            return Change(detail={"return_id": return_id, "pickup": moved.pickup.key if moved.pickup else "",
                                  "label_expires_at": moved.label_expires_at or ""})

        return self.change(self.actor, order_id, key, "change_pickup", None, decision,
                           {"return_id": return_id, "pickup": slot.key})


# --- the return's workflow ------------------------------------------------------------------------------------------
class _Step:
    def __init__(self, orders: OrderRepository, uow: UnitOfWork, clock: Clock):
        self.orders, self.uow, self.clock = orders, uow, clock

    def _move(self, order_id: str, return_id: str, event: ReturnEvent) -> ReturnStatus:
        """Move the return by `event`, once: one it no longer allows (done, or decided otherwise) changes nothing."""

        def attempt() -> ReturnStatus:
            order = load(self.orders, order_id)
            ret = _find(order, return_id)
            if not ret.can(event):
                return ret.status
            step(order, return_id, event, now_iso(self.clock))
            ret.resume_token = ret.resume_for = None
            self.uow.commit(order=order)
            return ret.status

        return retry_on_race(attempt, f"{event.value} of {return_id}")


class WaitForReturn(_Step):
    """The workflow parks on a return (approval, the parcel, the inspection): its token is kept on the return."""

    def __call__(self, order_id: str, return_id: str, token: str,
                 waiting_for: ReturnWait) -> ReturnStatus:
        def attempt() -> ReturnStatus:
            order = load(self.orders, order_id)
            ret = _find(order, return_id)
            ret.resume_token, ret.resume_for = token, waiting_for
            order.touch_return(return_id)
            self.uow.commit(order=order)
            return ret.status

        return retry_on_race(attempt, f"waiting on {return_id}")


class ExpireReturnRequest(_Step):
    """Nobody approved the request in time: it expires (and the customer is told). Decided meanwhile: as decided."""

    def __call__(self, order_id: str, return_id: str) -> ReturnStatus:
        return self._move(order_id, return_id, ReturnEvent.EXPIRE)


class IssueReturnLabel(_Step):
    """Once approved: a label booked with the carrier (for a courier pickup, with the courier on the day and in the
    window the customer chose, or the carrier's next one in that window if that day has passed meanwhile), or, for a
    store drop-off, the store told and a date to bring it by (`drop_off_within`, as long as a label is valid).
    Booking the same return again returns the same booking, so a retry books once."""

    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork,
                 carrier: ReturnCarrier, clock: Clock, drop_off_within: timedelta = timedelta(days=14)):
        super().__init__(orders, uow, clock)
        self.inventory, self.carrier, self.drop_off_within = inventory, carrier, drop_off_within

    def __call__(self, order_id: str, return_id: str) -> Return:
        return retry_on_race(lambda: self._attempt(order_id, return_id), f"a label for {return_id}")

    def _attempt(self, order_id: str, return_id: str) -> Return:
        order = load(self.orders, order_id)
        ret = _find(order, return_id)
        if ret.status in (ReturnStatus.LABEL_ISSUED, ReturnStatus.AWAITING_DROP_OFF):
            return ret  # done before
        at = now_iso(self.clock)
        if ret.method == ReturnMethod.STORE:
            if ret.can(ReturnEvent.AWAIT_DROP_OFF):
                ret.label_expires_at = iso(self.clock.now() + self.drop_off_within)
            step(order, return_id, ReturnEvent.AWAIT_DROP_OFF, at,
                 {"location_id": ret.location_id, "expires_at": ret.label_expires_at or ""})
        else:
            if not ret.can(ReturnEvent.ISSUE_LABEL):
                raise ReturnRefused(f"return {return_id}", ret.status.value, ReturnEvent.ISSUE_LABEL.value)
            catalog = self.inventory.catalog([line.sku for line in ret.lines])
            weight = sum(catalog[line.sku].weight_g * line.quantity for line in ret.lines if line.sku in catalog)
            booking = self.carrier.book_return(return_id, order.shipping_address, ret.location_id, weight,
                                               pickup=ret.pickup)
            issue_label(order, return_id, carrier=booking.carrier, tracking_number=booking.tracking_number,
                        expires_at=booking.expires_at, at=at, pickup=booking.pickup)
        self.uow.commit(order=order)
        return ret


class ExpireReturnLabel(_Step):
    """The label's validity ended and the parcel never moved, or a store drop-off was not brought by its date: the
    return ends (and the customer is told). A parcel already on its way, or back, is not touched; asked too early,
    nothing happens. An exchange's replacement still held is let go in the same commit (its stock released); one
    that has left is not touched (the workflow hands it to a person)."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, clock: Clock, *,
                 inventory: InventoryRepository | None = None):
        super().__init__(orders, uow, clock)
        self.replacements = Replacements(inventory, clock) if inventory is not None else None

    def __call__(self, order_id: str, return_id: str) -> ReturnStatus:
        order = load(self.orders, order_id)
        ret = _find(order, return_id)
        if ret.label_expires_at and now_iso(self.clock) < ret.label_expires_at:
            return ret.status
        return retry_on_race(lambda: self._attempt(order_id, return_id), f"expiring the label of {return_id}")

    def _attempt(self, order_id: str, return_id: str) -> ReturnStatus:
        order = load(self.orders, order_id)
        ret = _find(order, return_id)
        if not ret.can(ReturnEvent.EXPIRE_LABEL):
            return ret.status
        at = now_iso(self.clock)
        step(order, return_id, ReturnEvent.EXPIRE_LABEL, at)
        ret.resume_token = ret.resume_for = None
        if ret.replacement_id is not None and self.replacements is None:
            raise RuntimeError("expiring an exchange's label needs the inventory to let its replacement go")
        moves = self.replacements.let_go(order, ret, at) if self.replacements is not None else []
        self.uow.commit(order=order, stock=moves)
        return ret.status


class ReturnOnItsWay(_Step):
    """The carrier scanned the return parcel (the tracking consumer finds the return by its tracking number)."""

    def __call__(self, order_id: str, return_id: str) -> ReturnStatus:
        return self._move(order_id, return_id, ReturnEvent.IN_TRANSIT)


class ReceiveReturn(_Step):
    """The parcel arrived at its location (the carrier delivered it, or the customer brought it to the store); the
    workflow waiting for it goes on to wait for the inspection. Received before: nothing changes."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, workflow: Workflow, clock: Clock):
        super().__init__(orders, uow, clock)
        self.workflow = workflow

    def __call__(self, order_id: str, return_id: str) -> Return:
        def attempt() -> Return:
            order = load(self.orders, order_id)
            ret = _find(order, return_id)
            if ret.can(ReturnEvent.RECEIVE):
                at = now_iso(self.clock)
                ret.received_at = at
                step(order, return_id, ReturnEvent.RECEIVE, at, {"location_id": ret.location_id})
                self.uow.commit(order=order)
            elif ret.received_at is None:
                raise ReturnRefused(f"return {return_id}", ret.status.value, ReturnEvent.RECEIVE.value)
            return ret

        ret = retry_on_race(attempt, f"receiving {return_id}")
        _resume(self.workflow, ret, {"received": True}, wait="parcel")  # received before: again, if still parked
        return ret


# --- the warehouse --------------------------------------------------------------------------------------------------
class InspectReturn:
    """A warehouse person's verdict per line: sellable units go back on hand at the location the return came to, in
    the same commit; damaged or tampered ones, with a note, are counted as quarantined there in the same commit (or
    written off: counted nowhere, recorded on the line and in the audit entry); wrong or missing items are rejected.
    One counter change per sku at that location, over the counters read (a race decides again)."""

    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork, audit: AuditLog,
                 workflow: Workflow, clock: Clock):
        self.inventory, self.workflow, self.clock = inventory, workflow, clock
        self.change = ChangeOrder(orders, uow, audit, clock)

    def __call__(self, actor: Actor, order_id: str, return_id: str, key: str,
                 outcomes: Mapping[str, tuple[InspectionOutcome, str | None]],
                 write_off: Collection[str] = ()) -> Outcome:
        authorize(actor, Permission.ADJUST_STOCK)

        def decision(order: Order, ref: str) -> Change:
            location = _find(order, return_id).location_id
            done = inspect(order, return_id, outcomes, now_iso(self.clock), write_off)
            changes = [take_back(self.inventory.stock(sku, location), sku, location, sellable=done.restock[sku],
                                 quarantined=done.quarantine[sku])
                       for sku in sorted(set(done.restock) | set(done.quarantine))]
            detail = {"return_id": return_id, "restocked": dict(done.restock), "location_id": location}
            if done.quarantine:
                detail["quarantined"] = dict(done.quarantine)
            if done.written_off:
                detail["written_off"] = dict(done.written_off)
            return Change(stock=list(changes), detail=detail)

        asked = {"return_id": return_id, "outcomes": {sku: [o.value, n] for sku, (o, n) in sorted(outcomes.items())},
                 **({"write_off": sorted(write_off)} if write_off else {})}
        outcome = self.change(actor, order_id, key, "inspect_return", None, decision, asked)
        _resume(self.workflow, outcome.order.return_of(return_id), {"inspected": True}, wait="inspection")
        return outcome


# --- the money ------------------------------------------------------------------------------------------------------
class ShipReplacement(_Step):
    """An exchange's replacement leaves: booked with the carrier as a shipment of the order that belongs to the
    return, its held stock consumed, nothing captured (the returned items paid for it); the order's status stays.
    The tracking pipeline follows it by its tracking number like any parcel. Shipped before: answered as it is."""

    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork, carriers: Carriers,
                 clock: Clock):
        super().__init__(orders, uow, clock)
        self.inventory, self.carriers = inventory, carriers

    def __call__(self, order_id: str, return_id: str) -> Shipment:
        return retry_on_race(lambda: self._attempt(order_id, return_id), f"sending the exchange of {return_id}")

    def _attempt(self, order_id: str, return_id: str) -> Shipment:
        order = load(self.orders, order_id)
        ret = _find(order, return_id)
        if ret.replacement_id is None:
            raise ReturnRefused(f"return {return_id}", ret.status.value, "ship_replacement",
                                "no replacement is held for it")
        shipment = order.shipment(ret.replacement_id)
        if shipment.has_shipped:
            return shipment
        catalog = self.inventory.catalog([line.sku for line in shipment.lines])
        weight = sum(catalog[line.sku].weight_g * line.quantity for line in shipment.lines if line.sku in catalog)
        carrier = self.carriers.named(self.carriers.default)
        booking = carrier.book(shipment.shipment_id, order.shipping_address.country, weight_g=weight)
        held = [r for r in self.inventory.reservations(order_id)
                if r.shipment_id == shipment.shipment_id and r.state == ReservationState.HELD]
        order.ship_replacement(shipment.shipment_id, carrier=carrier.name, tracking_number=booking.tracking_number,
                               label_url=booking.label_url, at=now_iso(self.clock))
        self.uow.commit(order=order, stock=[consume(r) for r in held])
        return order.shipment(shipment.shipment_id)


@dataclass(frozen=True)
class Refunded:
    status: ReturnStatus  # refunded, exchanged, rejected (nothing to give back), or inspected (a person decides)
    amount: Money  # given back: paid out, or given as store credit
    method: RefundMethod


class RefundReturn(_Step):
    """After inspection: the settlement computed and given back (through the payment provider, or as store credit),
    never more than the order can still give back. Recorded first, then paid out under the return's own reference:
    a retry finds it recorded and pays it out again, which the provider applies once."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, payments: PaymentProviders, clock: Clock,
                 policies: ReturnPolicies | None = None):
        super().__init__(orders, uow, clock)
        self.payments, self.policies = payments, policies or default_policies()

    def __call__(self, order_id: str, return_id: str) -> Refunded:
        order = retry_on_race(lambda: self._attempt(order_id, return_id), f"refunding {return_id}")
        ret = order.return_of(return_id)
        given = ret.refunded or Money.zero(order.currency)
        if ret.refund_method != RefundMethod.STORE_CREDIT and given.amount:
            self.payments.named(order.payment.provider).refund(order.payment.authorization_id, given,
                                                               reference=f"{return_id}:refund")
        return Refunded(ret.status, given, ret.refund_method)

    def _attempt(self, order_id: str, return_id: str) -> Order:
        order = load(self.orders, order_id)
        ret = _find(order, return_id)
        if ret.status in (ReturnStatus.REFUNDED, ReturnStatus.EXCHANGED, ReturnStatus.CLOSED, ReturnStatus.REJECTED):
            return order  # settled before
        settle(order, self.policies, return_id, now_iso(self.clock))
        if order.new_events:  # (an exchange that came back wrong or missing decides nothing: a person does)
            self.uow.commit(order=order)
        return order


class CloseReturn(_Step):
    """Refunded (or exchanged, its replacement delivered) and nothing left to do: the return is closed."""

    def __call__(self, order_id: str, return_id: str) -> ReturnStatus:
        return self._move(order_id, return_id, ReturnEvent.CLOSE)
