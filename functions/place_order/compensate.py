"""Compensation tasks CancelOrder (void the payment, mark the order cancelled, tell the customer) and AskAPerson
(the automation stops: the order waits for an operator, who is alerted)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from dawra.bootstrap import build_compensate
from dawra.contracts import metrics as M
from dawra.contracts.env import settings
from dawra.contracts.task_base import parse_task
from dawra.contracts.tasks import CancelOrderInput, CompensateTask
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
tasks = build_compensate(settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    task = parse_task(event, CompensateTask)
    logger.info(task.action, extra={"order_id": task.order_id, "reason": task.reason})
    if isinstance(task, CancelOrderInput):
        result = tasks.cancel_order(task.order_id, task.reason)
        metrics.add_metric(name=M.ORDERS_CANCELLED, unit=MetricUnit.Count, value=1)
        return result
    result = tasks.ask_a_person(task.order_id, task.reason)
    metrics.add_metric(name=M.ORDERS_NEEDING_ATTENTION, unit=MetricUnit.Count, value=1)
    return result
