"""State machine tasks ReserveStock and ReleaseStock; WhenIsStockDue and WaitForStock (backorders, preorders)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from dawra.bootstrap import build_allocate
from dawra.contracts import metrics as M
from dawra.contracts.env import settings
from dawra.contracts.task_base import parse_task
from dawra.contracts.tasks import AllocateTask, AwaitStockInput, ReserveStockInput, StockDueInput
from dawra.domain.errors import OutOfStock
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
tasks = build_allocate(settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    task = parse_task(event, AllocateTask)
    logger.info(task.action, extra={"order_id": task.order_id})
    if isinstance(task, ReserveStockInput):
        try:
            allocation = tasks.reserve_stock(task.order_id)
        except OutOfStock:  # (a backorder or preorder waiting for its stock raises AwaitingStock: WhenIsStockDue)
            metrics.add_metric(name=M.STOCK_RESERVATIONS_FAILED, unit=MetricUnit.Count, value=1)
            raise
        metrics.add_metric(name=M.SHIPMENTS_PLANNED, unit=MetricUnit.Count, value=len(allocation.shipments))
        return allocation.model_dump()
    if isinstance(task, StockDueInput):
        return tasks.stock_due(task.order_id).model_dump()
    if isinstance(task, AwaitStockInput):
        return tasks.await_stock(task.order_id, task.task_token)
    released = tasks.release_stock(task.order_id)
    metrics.add_metric(name=M.UNITS_RELEASED, unit=MetricUnit.Count, value=released.released_units)
    return released.model_dump()
