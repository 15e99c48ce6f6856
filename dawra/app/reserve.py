"""ReserveStock: hold every line at the locations the merchant's routing chooses (dawra.domain.routing: by default
the fewest locations, then location priority, nearest, cheapest), all or nothing, once; each shipment gets its
delivery promise from its location, and the route's reason goes on the stock reservation's timeline event.

Each hold is watched against its stock item's reorder point in the same conditional write (HoldCase): a hold that
takes available below it flags the item low, and the ops alert goes out after the commit (no request of its own
for an ordinary order: the levels come from the one read that gives available)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dawra.app.common import load, now_iso, retry_on_race
from dawra.app.replenishment import tell_low
from dawra.contracts.tasks import Allocation, PlannedShipment
from dawra.domain.availability import AwaitingStock, released, waiting_entries
from dawra.domain.errors import DomainError, IllegalTransition, OutOfStock
from dawra.domain.inventory import Reservation, StockMove, hold
from dawra.domain.order import Order, OrderEvent
from dawra.domain.promise import promises_for
from dawra.domain.routing import RoutingPolicy, plan_route, routing_policy
from dawra.ports import Clock, InventoryRepository, OpsAlerts, OrderRepository, StockWaiters, UnitOfWork


def shipment_id_for(order_id: str, location_id: str) -> str:
    return "shp_" + hashlib.sha256(f"{order_id}|{location_id}".encode()).hexdigest()[:20]


def allocation_of(order: Order) -> Allocation:
    return Allocation(shipments=[PlannedShipment(shipment_id=s.shipment_id, location_id=s.location_id)
                                 for s in sorted(order.shipments, key=lambda s: s.shipment_id)])


@dataclass(frozen=True)
class JustReserved:
    """What a reservation's commit stored: the order as that commit left it (its versions advanced) and the
    reservations it holds. Shipping next (ReserveAndShip) starts from them instead of reading both again."""

    order: Order
    reservations: tuple[Reservation, ...]


class ReserveStock:
    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork, clock: Clock,
                 alerts: OpsAlerts | None = None, routing: RoutingPolicy | None = None,
                 waiters: StockWaiters | None = None):
        """alerts: where low-stock alerts go (None: nowhere; the low flag is still kept); routing: the merchant's
        (None: dawra/domain/routing.json); waiters: the waiting lists a backordered or preordered order joins when
        its stock is not there yet (dawra.app.backorders; None: it still waits, woken only by its timer)."""
        self.orders, self.inventory, self.uow, self.clock, self.alerts = orders, inventory, uow, clock, alerts
        self.waiters = waiters
        self.routing = routing or routing_policy()

    def __call__(self, order_id: str) -> Allocation:
        return self.holding(order_id)[0]

    def holding(self, order_id: str) -> tuple[Allocation, JustReserved | None]:
        """As a call, and what this call committed (None when an earlier attempt had reserved the order)."""
        return self._reserve(order_id, join=True)

    def if_it_fits(self, order_id: str) -> Allocation | None:
        """A waiting order reserved now if the stock covers it (and a preorder's day has come); None: it keeps
        waiting where it is in the lists (or it no longer waits: cancelled meanwhile)."""
        try:
            return self._reserve(order_id, join=False)[0]
        except DomainError:
            return None

    def _reserve(self, order_id: str, *, join: bool) -> tuple[Allocation, JustReserved | None]:
        allocation, moves, just = retry_on_race(lambda: self._attempt(order_id, join), f"reserving stock for {order_id}")
        if self.alerts is not None:
            tell_low(self.alerts, [(m.reservation.sku, m.reservation.location_id, m.watch.left, m.watch.reorder_point)
                                   for m in moves if m.watch and m.watch.alerts and m.watch.reorder_point is not None])
        return allocation, just

    def _attempt(self, order_id: str, join: bool = True) -> tuple[Allocation, list[StockMove], JustReserved | None]:
        order = load(self.orders, order_id)
        if order.shipments:
            return allocation_of(order), [], None  # reserved by an earlier attempt: same answer
        if not order.can(OrderEvent.RESERVE_STOCK):
            raise IllegalTransition(order_id, order.status.value, OrderEvent.RESERVE_STOCK.value)
        if order.awaiting is not None and not released(order.awaiting, self.clock.now().date()):
            self._wait(order, join)  # a preorder before its release day: not even from stock on hand
        locations = self.inventory.locations()
        levels = self.inventory.levels(list(order.wanted), [loc.location_id for loc in locations])
        available = {key: level.available for key, level in levels.items()}
        address = order.shipping_address
        route = plan_route(order.wanted, available, locations, self.routing,
                           destination=self.routing.region_of(address.country, address.city, address.region),
                           only={order.pickup_location} if order.pickup_location else None)  # store pickup
        if route is None:
            if order.awaiting is not None:
                self._wait(order, join)
            raise OutOfStock(f"order {order_id} cannot be reserved from current stock")
        picks = route.picks
        chosen = {p.location_id for p in picks}
        used = [loc for loc in locations if loc.location_id in chosen]
        shipments = order.reserve(picks, shipment_id_for, now_iso(self.clock), promises_for(order, used),
                                  {loc.location_id: loc for loc in used},
                                  routing=route.timeline_detail({loc.location_id: loc.name for loc in used}))
        location_of = {s.location_id: s.shipment_id for s in shipments}
        moves = [hold(Reservation(order_id=order_id, shipment_id=location_of[p.location_id], sku=p.sku,
                                  location_id=p.location_id, quantity=p.quantity), levels[(p.sku, p.location_id)])
                 for p in picks]
        self.uow.commit(order=order, stock=moves)  # refused if stock moved meanwhile: re-read and re-plan
        return allocation_of(order), moves, JustReserved(order, tuple(move.reservation for move in moves))

    def _wait(self, order: Order, join: bool) -> None:
        """Into its SKUs' waiting lists (again: nothing changes), and the workflow waits for the stock."""
        awaited = order.awaiting
        if awaited is None:
            return
        if join and self.waiters is not None:
            self.waiters.join(waiting_entries(order.order_id, order.placed_at, order.wanted, awaited),
                              [loc.location_id for loc in self.inventory.locations()])
        raise AwaitingStock(f"order {order.order_id} waits for {', '.join(awaited.skus)} "
                            f"({awaited.kind}, due {awaited.due.isoformat()})")
