"""ReserveStock: hold every line at the fewest locations (then by location priority), all or nothing, once; each
shipment gets its delivery promise from its location.

Each hold is watched against its stock item's reorder point in the same conditional write (HoldCase): a hold that
takes available below it flags the item low, and the ops alert goes out after the commit (no request of its own
for an ordinary order: the levels come from the one read that gives available)."""

from __future__ import annotations

import hashlib

from dawra.app.common import load, now_iso, retry_on_race
from dawra.app.replenishment import tell_low
from dawra.contracts.tasks import Allocation, PlannedShipment
from dawra.domain.allocation import plan_allocation
from dawra.domain.errors import IllegalTransition, OutOfStock
from dawra.domain.inventory import Reservation, StockMove, hold
from dawra.domain.order import Order, OrderEvent
from dawra.domain.promise import promises_for
from dawra.ports import Clock, InventoryRepository, OpsAlerts, OrderRepository, UnitOfWork


def shipment_id_for(order_id: str, location_id: str) -> str:
    return "shp_" + hashlib.sha256(f"{order_id}|{location_id}".encode()).hexdigest()[:20]


def allocation_of(order: Order) -> Allocation:
    return Allocation(shipments=[PlannedShipment(shipment_id=s.shipment_id, location_id=s.location_id)
                                 for s in sorted(order.shipments, key=lambda s: s.shipment_id)])


class ReserveStock:
    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork, clock: Clock,
                 alerts: OpsAlerts | None = None):
        """alerts: where low-stock alerts go (None: nowhere; the low flag is still kept)."""
        self.orders, self.inventory, self.uow, self.clock, self.alerts = orders, inventory, uow, clock, alerts

    def __call__(self, order_id: str) -> Allocation:
        allocation, moves = retry_on_race(lambda: self._attempt(order_id), f"reserving stock for {order_id}")
        if self.alerts is not None:
            tell_low(self.alerts, [(m.reservation.sku, m.reservation.location_id, m.watch.left, m.watch.reorder_point)
                                   for m in moves if m.watch and m.watch.alerts and m.watch.reorder_point is not None])
        return allocation

    def _attempt(self, order_id: str) -> tuple[Allocation, list[StockMove]]:
        order = load(self.orders, order_id)
        if order.shipments:
            return allocation_of(order), []  # reserved by an earlier attempt: same answer
        if not order.can(OrderEvent.RESERVE_STOCK):
            raise IllegalTransition(order_id, order.status.value, OrderEvent.RESERVE_STOCK.value)
        locations = self.inventory.locations()
        levels = self.inventory.levels(list(order.wanted), [loc.location_id for loc in locations])
        available = {key: level.available for key, level in levels.items()}
        picks = plan_allocation(order.wanted, available, locations)
        if picks is None:
            raise OutOfStock(f"order {order_id} cannot be reserved from current stock")
        chosen = {p.location_id for p in picks}
        shipments = order.reserve(picks, shipment_id_for, now_iso(self.clock),
                                  promises_for(order, [loc for loc in locations if loc.location_id in chosen]))
        location_of = {s.location_id: s.shipment_id for s in shipments}
        moves = [hold(Reservation(order_id=order_id, shipment_id=location_of[p.location_id], sku=p.sku,
                                  location_id=p.location_id, quantity=p.quantity), levels[(p.sku, p.location_id)])
                 for p in picks]
        self.uow.commit(order=order, stock=moves)  # refused if stock moved meanwhile: re-read and re-plan
        return allocation_of(order), moves
