"""ReserveStock: hold every line at the fewest locations (then by location priority), all or nothing, once; each
shipment gets its delivery promise from its location."""

from __future__ import annotations

import hashlib

from dawra.app.common import load, now_iso, retry_on_race
from dawra.contracts.tasks import Allocation, PlannedShipment
from dawra.domain.allocation import plan_allocation
from dawra.domain.errors import IllegalTransition, OutOfStock
from dawra.domain.inventory import Reservation, hold
from dawra.domain.order import Order, OrderEvent
from dawra.domain.promise import promises_for
from dawra.ports import Clock, InventoryRepository, OrderRepository, UnitOfWork


def shipment_id_for(order_id: str, location_id: str) -> str:
    return "shp_" + hashlib.sha256(f"{order_id}|{location_id}".encode()).hexdigest()[:20]


def allocation_of(order: Order) -> Allocation:
    return Allocation(shipments=[PlannedShipment(shipment_id=s.shipment_id, location_id=s.location_id)
                                 for s in sorted(order.shipments, key=lambda s: s.shipment_id)])


class ReserveStock:
    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork, clock: Clock):
        self.orders, self.inventory, self.uow, self.clock = orders, inventory, uow, clock

    def __call__(self, order_id: str) -> Allocation:
        return retry_on_race(lambda: self._attempt(order_id), f"reserving stock for {order_id}")

    def _attempt(self, order_id: str) -> Allocation:
        order = load(self.orders, order_id)
        if order.shipments:
            return allocation_of(order)  # reserved by an earlier attempt: same answer
        if not order.can(OrderEvent.RESERVE_STOCK):
            raise IllegalTransition(order_id, order.status.value, OrderEvent.RESERVE_STOCK.value)
        locations = self.inventory.locations()
        available = self.inventory.available(list(order.wanted), [loc.location_id for loc in locations])
        picks = plan_allocation(order.wanted, available, locations)
        if picks is None:
            raise OutOfStock(f"order {order_id} cannot be reserved from current stock")
        chosen = {p.location_id for p in picks}
        shipments = order.reserve(picks, shipment_id_for, now_iso(self.clock),
                                  promises_for(order, [loc for loc in locations if loc.location_id in chosen]))
        location_of = {s.location_id: s.shipment_id for s in shipments}
        moves = [hold(Reservation(order_id=order_id, shipment_id=location_of[p.location_id], sku=p.sku,
                                  location_id=p.location_id, quantity=p.quantity)) for p in picks]
        self.uow.commit(order=order, stock=moves)  # refused if stock moved meanwhile: re-read and re-plan
        return allocation_of(order)
