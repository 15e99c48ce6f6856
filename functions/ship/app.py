"""State machine tasks ReserveAndShip (ReserveStock, then ShipTheOnlyParcel, in one call: decision 124),
ShipTheOnlyParcel (an order in one parcel, outside the Map: decision 122), ShipShipment, WaitWhileOnHold,
WaitForPacking, WaitForCollection, DeliveryReportedFirst and WaitForLateDelivery (each parks the workflow on the
shipment; WaitForDelivery and WaitForItsDelivery park without a function: decision 117), PackingLate,
CollectionReminder, DeliveryLate and SettleClaim (a late, lost or returned parcel). No task completes the order: the
change that finishes its last parcel does (decision 111); CompleteOrder is answered only for executions started
before that, whose definition still has it."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from dawra.bootstrap import build_ship
from dawra.contracts import metrics as M
from dawra.contracts.env import settings
from dawra.contracts.task_base import parse_task
from dawra.contracts.tasks import (
    AwaitCollectionInput,
    AwaitDeliveryInput,
    AwaitPackingInput,
    AwaitReleaseInput,
    CollectionReminderInput,
    CompleteOrderInput,
    DeliveryLateInput,
    HoldExpiredInput,
    PackingLateInput,
    ReserveAndShipInput,
    SettleClaimInput,
    ShipShipmentInput,
    ShipTask,
    ShipTheOnlyParcelInput,
)
from dawra.domain.errors import OutOfStock
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
tasks = build_ship(settings())
WAITS = {"await_release": tasks.await_release, "await_packing": tasks.await_packing,  # each parks on the shipment
         "await_collection": tasks.await_collection, "await_delivery": tasks.await_delivery}
LATE = {"packing_late": tasks.packing_late, "collection_reminder": tasks.collection_reminder,  # each answers a wait
        "delivery_late": tasks.delivery_late}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    task = parse_task(event, ShipTask)
    logger.info(task.action, extra={"order_id": task.order_id})
    if isinstance(task, ReserveAndShipInput):  # an ordinary order's reservation and parcel in one call (decision 124)
        try:
            reserved = tasks.reserve_and_ship(task.order_id)
        except OutOfStock:  # (a backorder or preorder waiting for its stock raises AwaitingStock: WhenIsStockDue)
            metrics.add_metric(name=M.STOCK_RESERVATIONS_FAILED, unit=MetricUnit.Count, value=1)
            raise
        metrics.add_metric(name=M.SHIPMENTS_PLANNED, unit=MetricUnit.Count, value=len(reserved.shipments))
        metrics.add_metric(name=M.SHIPMENTS_SHIPPED, unit=MetricUnit.Count, value=int(reserved.parcel.shipped_now))
        return reserved.model_dump()
    if isinstance(task, ShipShipmentInput | ShipTheOnlyParcelInput):  # ShipTheOnlyParcel: decision 122
        shipped = (tasks.ship_shipment(task.order_id, task.shipment_id) if isinstance(task, ShipShipmentInput)
                   else tasks.ship_the_only_parcel(task.order_id, task.shipments))
        # counted once: not again for a retry, nor for the Map's second look at a parcel that shipped
        metrics.add_metric(name=M.SHIPMENTS_SHIPPED, unit=MetricUnit.Count, value=int(shipped.shipped_now))
        return shipped.model_dump()
    if isinstance(task, AwaitReleaseInput | AwaitPackingInput | AwaitCollectionInput | AwaitDeliveryInput):
        return WAITS[task.action](task.order_id, task.shipment_id, task.task_token)
    if isinstance(task, PackingLateInput | CollectionReminderInput | DeliveryLateInput):
        return LATE[task.action](task.order_id, task.shipment_id).model_dump()
    if isinstance(task, HoldExpiredInput):
        return tasks.hold_expired(task.order_id).model_dump()
    if isinstance(task, SettleClaimInput):
        settled = tasks.settle_claim(task.order_id, task.shipment_id)
        logger.info("parcel settled", extra={"order_id": task.order_id, "outcome": settled.outcome})
        return settled.model_dump()
    if isinstance(task, CompleteOrderInput):
        return tasks.complete_order(task.order_id)
    raise TypeError(f"no ship task {task.action!r}")  # every member of ShipTask is answered above
