"""State machine tasks ShipTheOnlyParcel (an order in one parcel, outside the Map: decision 122), ShipShipment,
WaitWhileOnHold, WaitForPacking, WaitForCollection, DeliveryReportedFirst and WaitForLateDelivery (each parks the
workflow on the shipment; WaitForDelivery and WaitForItsDelivery park without a function: decision 117), PackingLate, CollectionReminder, DeliveryLate and SettleClaim (a late, lost or returned parcel). No task
completes the order: the change that finishes its last parcel does (decision 111); CompleteOrder is answered only
for executions started before that, whose definition still has it."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from dawra.bootstrap import build_ship
from dawra.contracts import metrics as M
from dawra.contracts.env import settings
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
    SettleClaimInput,
    ShipShipmentInput,
    ShipTask,
    ShipTheOnlyParcelInput,
    parse_task,
)
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
tasks = build_ship(settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    task = parse_task(event, ShipTask)
    logger.info(task.action, extra={"order_id": task.order_id})
    if isinstance(task, ShipShipmentInput):
        shipped = tasks.ship_shipment(task.order_id, task.shipment_id)
        if shipped.shipped_now:  # not again for a retry, nor for the Map's second look after ShipTheOnlyParcel
            metrics.add_metric(name=M.SHIPMENTS_SHIPPED, unit=MetricUnit.Count, value=1)
        return shipped.model_dump()
    if isinstance(task, ShipTheOnlyParcelInput):  # an order in one parcel ships outside the Map (decision 122)
        parcel = tasks.ship_the_only_parcel(task.order_id, task.shipments)
        if parcel.shipped_now:
            metrics.add_metric(name=M.SHIPMENTS_SHIPPED, unit=MetricUnit.Count, value=1)
        return parcel.model_dump()
    if isinstance(task, AwaitReleaseInput):
        return tasks.await_release(task.order_id, task.shipment_id, task.task_token)
    if isinstance(task, AwaitPackingInput):
        return tasks.await_packing(task.order_id, task.shipment_id, task.task_token)
    if isinstance(task, PackingLateInput):
        return tasks.packing_late(task.order_id, task.shipment_id).model_dump()
    if isinstance(task, AwaitCollectionInput):
        return tasks.await_collection(task.order_id, task.shipment_id, task.task_token)
    if isinstance(task, CollectionReminderInput):
        return tasks.collection_reminder(task.order_id, task.shipment_id).model_dump()
    if isinstance(task, HoldExpiredInput):
        return tasks.hold_expired(task.order_id).model_dump()
    if isinstance(task, AwaitDeliveryInput):
        return tasks.await_delivery(task.order_id, task.shipment_id, task.task_token)
    if isinstance(task, DeliveryLateInput):
        return tasks.delivery_late(task.order_id, task.shipment_id).model_dump()
    if isinstance(task, SettleClaimInput):
        settled = tasks.settle_claim(task.order_id, task.shipment_id)
        logger.info("parcel settled", extra={"order_id": task.order_id, "outcome": settled.outcome})
        return settled.model_dump()
    if isinstance(task, CompleteOrderInput):
        return tasks.complete_order(task.order_id)
    raise TypeError(f"no ship task {task.action!r}")  # every member of ShipTask is answered above
