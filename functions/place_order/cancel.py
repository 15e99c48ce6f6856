"""State machine task CancelOrder (compensation): void/refund, mark cancelled, tell the customer (via the timeline)."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from dawra.adapters.orders import OrdersStore
from dawra.fulfilment import Fulfilment
from dawra.models import OpaqueId
from dawra.settings import settings
from dawra.tasks import parse_task

logger = Logger()
tracer = Tracer()
metrics = Metrics()
fulfilment = Fulfilment(orders=OrdersStore(settings().orders_table))


class CancelOrderTask(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["cancel_order"]
    order_id: OpaqueId
    reason: str = Field(min_length=1, max_length=100)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    task = parse_task(event, CancelOrderTask)
    result = fulfilment.cancel_order(task.order_id, task.reason)
    metrics.add_metric(name="OrdersCancelled", unit=MetricUnit.Count, value=1)
    logger.info("order cancelled", extra={"order_id": task.order_id, "reason": task.reason})
    return result
