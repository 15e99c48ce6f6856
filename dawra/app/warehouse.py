"""The warehouse's side of pick and pack (dawra.domain.preparation): the picking list of a location, in waves, and
the three things staff confirm in the console: a work task done, a shipment picked, a shipment packed.

Each confirmation is an operator's change (dawra.app.changes): authorised, decided on the order as it is, committed
with its audit entry once per request key. Confirming again with a new key (a second scan) changes nothing. Packed,
the workflow's wait is answered (WaitForPacking: ShipShipment books the carrier); if the workflow had not parked yet,
its AwaitPacking finds the shipment packed and goes on by itself. What happens after the commit is derived from the
order's state, so a replayed request finishes what an interrupted one left undone."""

from __future__ import annotations

from dataclasses import dataclass

from dawra.app.changes import Change, ChangeOrder, Outcome
from dawra.app.common import now_iso
from dawra.domain.access import Actor, Permission, authorize
from dawra.domain.order import Order
from dawra.domain.preparation import PARTNER
from dawra.domain.shipment import Shipment, ShipmentStatus
from dawra.ports import AuditLog, Clock, OrderQuery, OrderRepository, OrderSearch, UnitOfWork, Workflow

WAVE_SIZE = 8  # shipments per wave: one trolley's worth, oldest due first
LIST_LIMIT = 100  # orders read for one location's list (its lookup index, newest first)


@dataclass(frozen=True)
class ToPrepare:
    order: Order
    shipment: Shipment

    @property
    def wave_key(self) -> str:
        return self.shipment.prepare_by or ""


@dataclass(frozen=True)
class Wave:
    number: int  # 1: the first to prepare
    due: str  # the earliest SLA in it (UTC ISO-8601)
    shipments: list[ToPrepare]


@dataclass(frozen=True)
class PickingList:
    location_id: str
    waves: list[Wave]

    def find(self, code: str) -> ToPrepare | None:
        """A scanned or typed code: the shipment id (as its packing slip's barcode carries it), or its order's."""
        code = code.strip()
        for wave in self.waves:
            for item in wave.shipments:
                if code in (item.shipment.shipment_id, item.order.order_id):
                    return item
        return None


def waiting_here(order: Order, location_id: str) -> list[Shipment]:
    """The order's shipments at the location that staff still prepare (a partner's are the partner's)."""
    if order.is_terminal or order.cancellation_stop() is not None:
        return []
    return [s for s in order.shipments if s.location_id == location_id and not s.cancelled
            and s.preparation != PARTNER and s.waits_for_packing
            and (s.pickup is None or s.preparation is not None)]  # a store pickup's is the store's desk


class Warehouse:
    def __init__(self, orders: OrderRepository, search: OrderSearch, uow: UnitOfWork, audit: AuditLog,
                 workflow: Workflow, clock: Clock, wave_size: int = WAVE_SIZE):
        self.orders, self.search, self.workflow, self.clock = orders, search, workflow, clock
        self.wave_size = wave_size
        self.change = ChangeOrder(orders, uow, audit, clock)

    def picking_list(self, actor: Actor, location_id: str) -> PickingList:
        """Shipments waiting to be prepared at the location, in waves of `wave_size`, the earliest due first."""
        authorize(actor, Permission.PREPARE_SHIPMENTS)
        page = self.search.search(OrderQuery(location=location_id), LIST_LIMIT, None)
        found: list[ToPrepare] = []
        for header in page.orders:
            if header.is_terminal:
                continue
            order = self.orders.get(header.order_id)
            if order is not None:
                found += [ToPrepare(order, s) for s in waiting_here(order, location_id)]
        found.sort(key=lambda item: (item.wave_key, item.shipment.shipment_id))
        waves = [found[i:i + self.wave_size] for i in range(0, len(found), self.wave_size)]
        return PickingList(location_id, [Wave(n + 1, wave[0].wave_key, wave) for n, wave in enumerate(waves)])

    def finish_work(self, actor: Actor, order_id: str, shipment_id: str, task_id: str, key: str) -> Outcome:
        authorize(actor, Permission.PREPARE_SHIPMENTS)

        def decide(order: Order, ref: str) -> Change:
            done = order.finish_work(shipment_id, task_id, now_iso(self.clock), actor.user_id)
            return Change(detail={"shipment_id": shipment_id, "task_id": task_id, "done_now": done})

        return self.change(actor, order_id, key, "finish_work", None, decide,
                           {"shipment_id": shipment_id, "task_id": task_id})

    def pick(self, actor: Actor, order_id: str, shipment_id: str, key: str) -> Outcome:
        authorize(actor, Permission.PREPARE_SHIPMENTS)

        def decide(order: Order, ref: str) -> Change:
            return _moved(order, shipment_id, order.pick(shipment_id, now_iso(self.clock)))

        return self.change(actor, order_id, key, "pick", None, decide, {"shipment_id": shipment_id})

    def pack(self, actor: Actor, order_id: str, shipment_id: str, key: str) -> Outcome:
        """Packed: the workflow's wait is answered (again, on a replay: answering twice is refused harmlessly)."""
        authorize(actor, Permission.PREPARE_SHIPMENTS)

        def decide(order: Order, ref: str) -> Change:
            return _moved(order, shipment_id, order.pack(shipment_id, now_iso(self.clock)))

        outcome = self.change(actor, order_id, key, "pack", None, decide, {"shipment_id": shipment_id})
        resume_packed(self.workflow, outcome.order.shipment(shipment_id))
        return outcome


def _moved(order: Order, shipment_id: str, moved: bool) -> Change:
    """The audit detail of a pick or a pack: the shipment, its status now, whether this call moved it."""
    return Change(detail={"shipment_id": shipment_id, "shipment_status": order.shipment(shipment_id).status,
                          "moved": moved})


def resume_packed(workflow: Workflow, shipment: Shipment) -> None:
    """Answer WaitForPacking, if it parked on the shipment: ShipShipment runs again and books the carrier."""
    if shipment.status == ShipmentStatus.PACKED and shipment.resume_token:
        workflow.resume(shipment.resume_token, {"packed": True})
