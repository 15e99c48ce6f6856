"""State machine tasks ShipShipment, WaitForDelivery (stores the task token) and CompleteOrder."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from dawra.adapters.inventory import InventoryStore
from dawra.adapters.lifecycle import Lifecycle
from dawra.adapters.orders import OrdersStore
from dawra.fulfilment import Fulfilment
from dawra.models import OpaqueId
from dawra.settings import settings
from dawra.tasks import parse_task

logger = Logger()
tracer = Tracer()
metrics = Metrics()
config = settings()
fulfilment = Fulfilment(orders=OrdersStore(config.orders_table), inventory=InventoryStore(config.inventory_table),
                        lifecycle=Lifecycle(config.order_lifecycle_arn))


class ShipShipment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["ship_shipment"]
    order_id: OpaqueId
    shipment_id: OpaqueId


class AwaitDelivery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["await_delivery"]
    order_id: OpaqueId
    shipment_id: OpaqueId
    task_token: str = Field(min_length=1, max_length=4096)


class CompleteOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["complete_order"]
    order_id: OpaqueId


ShipTask = TypeAdapter(Annotated[ShipShipment | AwaitDelivery | CompleteOrder, Field(discriminator="action")])


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    task = parse_task(event, ShipTask)
    logger.info(task.action, extra={"order_id": task.order_id})
    if isinstance(task, ShipShipment):
        result = fulfilment.ship_shipment(task.order_id, task.shipment_id)
        metrics.add_metric(name="ShipmentsShipped", unit=MetricUnit.Count, value=1)
        return result
    if isinstance(task, AwaitDelivery):
        return fulfilment.await_delivery(task.order_id, task.shipment_id, task.task_token)
    result = fulfilment.complete_order(task.order_id)
    metrics.add_metric(name="OrdersCompleted", unit=MetricUnit.Count, value=1)
    return result
