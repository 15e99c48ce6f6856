"""State machine tasks ReserveStock and ReleaseStock."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from dawra.adapters.inventory import InventoryStore
from dawra.adapters.orders import OrdersStore
from dawra.errors import OutOfStock
from dawra.fulfilment import Fulfilment
from dawra.models import OpaqueId
from dawra.settings import settings
from dawra.tasks import parse_task

logger = Logger()
tracer = Tracer()
metrics = Metrics()
config = settings()
fulfilment = Fulfilment(orders=OrdersStore(config.orders_table), inventory=InventoryStore(config.inventory_table))


class ReserveStock(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["reserve_stock"]
    order_id: OpaqueId


class ReleaseStock(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["release_stock"]
    order_id: OpaqueId


AllocateTask = TypeAdapter(Annotated[ReserveStock | ReleaseStock, Field(discriminator="action")])


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    task = parse_task(event, AllocateTask)
    if isinstance(task, ReserveStock):
        try:
            result = fulfilment.reserve_stock(task.order_id)
        except OutOfStock:
            metrics.add_metric(name="StockReservationsFailed", unit=MetricUnit.Count, value=1)
            raise
        metrics.add_metric(name="ShipmentsPlanned", unit=MetricUnit.Count, value=len(result["shipments"]))
    else:
        result = fulfilment.release_stock(task.order_id)
        metrics.add_metric(name="UnitsReleased", unit=MetricUnit.Count, value=result["released_units"])
    logger.info(task.action, extra={"order_id": task.order_id})
    return result
