"""Fulfilment: the state machine's tasks. Each is idempotent, because Step Functions retries and Lambda can run a
task twice: a task that finds its work already done returns what it returned the first time.

Logic layer: orchestrates pure allocation/pricing and the adapters it is given."""

from __future__ import annotations

import hashlib

from dawra.adapters.dynamo import ConditionFailed
from dawra.adapters.inventory import InventoryStore
from dawra.adapters.lifecycle import Lifecycle
from dawra.adapters.orders import OrdersStore
from dawra.allocation import group_by_location, plan_allocation
from dawra.carriers import carrier_named
from dawra.errors import InvalidTaskInput, OrderNotFound, OutOfStock
from dawra.models import (
    Money,
    Order,
    OrderStatus,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    TimelineEvent,
    TimelineKind,
    iso_utc,
    timeline_event_id,
    utc_now,
)
from dawra.payments import PROVIDERS
from dawra.pricing import split_amount

MAX_TRANSACTION_ITEMS = 100
RESERVE_ATTEMPTS = 3  # stock read -> plan -> conditional write, repeated when stock moved underneath us


def shipment_id_for(order_id: str, location_id: str) -> str:
    return "shp_" + hashlib.sha256(f"{order_id}|{location_id}".encode()).hexdigest()[:20]


class Fulfilment:
    def __init__(self, orders: OrdersStore, inventory: InventoryStore | None = None,
                 lifecycle: Lifecycle | None = None, clock=utc_now):
        self.orders = orders
        self.inventory = inventory
        self.lifecycle = lifecycle
        self.clock = clock

    def _order(self, order_id: str) -> Order:
        order = self.orders.get_order(order_id)
        if order is None:
            raise OrderNotFound(f"order {order_id} does not exist")
        return order

    def _event(self, kind: TimelineKind, order_id: str, *id_parts: str, shipment_id: str | None = None,
               detail: dict[str, str] | None = None) -> TimelineEvent:
        return TimelineEvent(event_id=timeline_event_id(kind, order_id, *id_parts), order_id=order_id, kind=kind,
                             at=iso_utc(self.clock()), shipment_id=shipment_id, detail=detail or {})

    # --- ReserveStock ---------------------------------------------------------------------------------------------
    def reserve_stock(self, order_id: str) -> dict:
        for _ in range(RESERVE_ATTEMPTS):
            done = self._existing_allocation(order_id)
            if done is not None:
                return done
            order = self._order(order_id)
            if order.status != OrderStatus.CONFIRMED:
                raise InvalidTaskInput(f"order {order_id} is {order.status}, not CONFIRMED")
            wanted = {line.sku: line.quantity for line in order.lines}
            locations = self.inventory.locations()
            available = self.inventory.available(list(wanted), [loc.location_id for loc in locations])
            picks = plan_allocation(wanted, available, locations)
            if picks is None:
                raise OutOfStock(f"order {order_id} cannot be reserved from current stock")
            try:
                self.orders.transact(self._reservation_items(order, group_by_location(picks)))
            except ConditionFailed:
                continue  # stock moved, or a concurrent attempt reserved first: look again
            return self._existing_allocation(order_id)
        raise OutOfStock(f"order {order_id}: stock kept changing while reserving")

    def _reservation_items(self, order: Order, groups: dict) -> list[dict]:
        line_value = {line.sku: line.line_total.amount for line in order.lines}
        quantity = {line.sku: line.quantity for line in order.lines}
        location_ids = sorted(groups)
        weights = [sum(line_value[p.sku] * p.quantity // quantity[p.sku] for p in groups[loc]) for loc in location_ids]
        shares = split_amount(order.totals.total.amount, weights)
        items: list[dict] = []
        for location_id, share in zip(location_ids, shares, strict=True):
            shipment_id = shipment_id_for(order.order_id, location_id)
            for pick in groups[location_id]:
                items += self.inventory.hold(order.order_id, shipment_id, pick.sku, location_id, pick.quantity)
            items.append(self.orders.put_shipment(Shipment(
                shipment_id=shipment_id, order_id=order.order_id, location_id=location_id,
                lines=[ShipmentLine(sku=p.sku, quantity=p.quantity) for p in groups[location_id]],
                amount=Money(amount=share, currency=order.totals.total.currency))))
        items.append(self.orders.update_order(order.order_id, {"status": OrderStatus.ALLOCATED.value},
                                              expect_status=[OrderStatus.CONFIRMED.value]))
        items.append(self.orders.put_event(self._event(
            TimelineKind.STOCK_RESERVED, order.order_id, detail={"shipments": str(len(location_ids))})))
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise InvalidTaskInput(f"order {order.order_id} needs {len(items)} writes; one transaction holds 100")
        return items

    def _existing_allocation(self, order_id: str) -> dict | None:
        reservations = self.inventory.reservations(order_id)
        if not reservations:
            return None
        shipments = sorted({(r["shipment_id"], r["location_id"]) for r in reservations})
        return {"shipments": [{"shipment_id": sid, "location_id": loc} for sid, loc in shipments]}

    # --- ReleaseStock (compensation) ------------------------------------------------------------------------------
    def release_stock(self, order_id: str) -> dict:
        held = [r for r in self.inventory.reservations(order_id) if r["state"] == "held"]
        released = 0
        for start in range(0, len(held), MAX_TRANSACTION_ITEMS // 2):
            chunk = held[start:start + MAX_TRANSACTION_ITEMS // 2]
            items = [item for reservation in chunk for item in self.inventory.release(reservation)]
            try:
                self.orders.transact(items)
                released += sum(r["quantity"] for r in chunk)
            except ConditionFailed:
                # Another attempt released (or a shipment consumed) some of these meanwhile: do them one by one.
                for reservation in chunk:
                    try:
                        self.orders.transact(self.inventory.release(reservation))
                        released += reservation["quantity"]
                    except ConditionFailed:
                        pass
        return {"released_units": released}

    # --- ShipShipment ---------------------------------------------------------------------------------------------
    def ship_shipment(self, order_id: str, shipment_id: str) -> dict:
        found = self.orders.get_shipment(order_id, shipment_id)
        if found is None:
            raise InvalidTaskInput(f"shipment {shipment_id} of order {order_id} does not exist")
        shipment, _ = found
        if shipment.status != ShipmentStatus.ALLOCATED:
            return {"tracking_number": shipment.tracking_number}
        order = self._order(order_id)
        weight = 0  # the sandbox carrier prices by parcel, not weight; real carriers get catalog weights here
        booking = carrier_named("sandbox").book(shipment_id, order.shipping_address.country, weight)
        provider = PROVIDERS[order.payment.provider]
        provider.capture(order.payment.authorization_id, shipment.amount, reference=shipment_id)
        reservations = [r for r in self.inventory.reservations(order_id)
                        if r["shipment_id"] == shipment_id and r["state"] == "held"]
        items = [
            self.orders.update_shipment(
                order_id, shipment_id,
                {"status": ShipmentStatus.LABEL_CREATED.value, "carrier": "sandbox",
                 "tracking_number": booking.tracking_number, "label_url": booking.label_url},
                condition="#status = :allocated", condition_values={"allocated": ShipmentStatus.ALLOCATED.value}),
            self._capture_item(order_id, shipment.amount.amount),
            self.orders.put_event(self._event(
                TimelineKind.SHIPMENT_SHIPPED, order_id, shipment_id, shipment_id=shipment_id,
                detail={"carrier": "sandbox", "tracking_number": booking.tracking_number,
                        "label_url": booking.label_url})),
        ]
        for reservation in reservations:
            items += self.inventory.consume(reservation)
        try:
            self.orders.transact(items)
        except ConditionFailed:
            current, _ = self.orders.get_shipment(order_id, shipment_id)
            if current.status == ShipmentStatus.ALLOCATED:
                raise
        return {"tracking_number": booking.tracking_number}

    def _capture_item(self, order_id: str, amount: int) -> dict:
        item = self.orders.update_order(order_id, {"status": OrderStatus.SHIPPED.value},
                                        expect_status=[OrderStatus.ALLOCATED.value, OrderStatus.SHIPPED.value])
        update = item["Update"]
        update["UpdateExpression"] += ", payment.captured.amount = payment.captured.amount + :captured"
        update["ExpressionAttributeValues"][":captured"] = {"N": str(amount)}
        return item

    # --- WaitForDelivery ------------------------------------------------------------------------------------------
    def await_delivery(self, order_id: str, shipment_id: str, task_token: str) -> dict:
        if not task_token:
            raise InvalidTaskInput("await_delivery needs the task token")
        shipment = self.orders.store_task_token(order_id, shipment_id, task_token)
        if shipment.status == ShipmentStatus.DELIVERED:
            # The carrier reported delivery before the token was stored: nothing else will resume us.
            self.lifecycle.resume(task_token, {"shipment_id": shipment_id, "delivered_at": shipment.delivered_at})
        return {"waiting": shipment.status != ShipmentStatus.DELIVERED}

    # --- CompleteOrder --------------------------------------------------------------------------------------------
    def complete_order(self, order_id: str) -> dict:
        try:
            self.orders.transact([
                self.orders.update_order(order_id, {"status": OrderStatus.COMPLETED.value},
                                         expect_status=[OrderStatus.SHIPPED.value]),
                self.orders.put_event(self._event(TimelineKind.ORDER_COMPLETED, order_id)),
            ])
        except ConditionFailed:
            if self._order(order_id).status != OrderStatus.COMPLETED:
                raise
        return {"status": OrderStatus.COMPLETED.value}

    # --- CancelOrder (compensation) -------------------------------------------------------------------------------
    def cancel_order(self, order_id: str, reason: str) -> dict:
        order = self._order(order_id)
        if order.status == OrderStatus.CANCELLED:
            return {"status": order.status.value}
        payment = order.payment
        provider = PROVIDERS[payment.provider]
        to_refund = payment.captured.amount - payment.refunded.amount
        if to_refund > 0:
            provider.refund(payment.authorization_id, payment.captured.model_copy(update={"amount": to_refund}),
                            reference=f"{order_id}:cancel")
        if not payment.voided:
            provider.void(payment.authorization_id, reference=f"{order_id}:cancel")
        settled = payment.model_copy(update={"voided": True, "refunded": payment.captured})
        try:
            self.orders.transact([
                self.orders.update_order(
                    order_id,
                    {"status": OrderStatus.CANCELLED.value, "cancellation_reason": reason,
                     "payment": settled.model_dump(mode="json")},
                    expect_status=[OrderStatus.CONFIRMED.value, OrderStatus.ALLOCATED.value,
                                   OrderStatus.SHIPPED.value]),
                self.orders.put_event(self._event(TimelineKind.ORDER_CANCELLED, order_id,
                                                  detail={"reason": reason})),
            ])
        except ConditionFailed:
            if self._order(order_id).status != OrderStatus.CANCELLED:
                raise
        return {"status": OrderStatus.CANCELLED.value}
