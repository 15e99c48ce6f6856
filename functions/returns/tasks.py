"""The return workflow's tasks (statemachines/return_lifecycle.asl.json): ReturnRequested, the waits for an approval,
the parcel and the inspection, ExpireReturnRequest, IssueLabelOrInstructions, LabelExpired, Refund, Close, an
exchange's replacement sent and waited for, and the alerts to operations."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

from dawra.bootstrap import build_return_tasks
from dawra.contracts.env import settings
from dawra.contracts.returns import (
    AlertOpsAboutReturnInput,
    ExpireReturnRequestInput,
    RefundReturnInput,
    ReplacementShipped,
    ReturnRefunded,
    ReturnStep,
    ReturnTaskInput,
    ShipReplacementInput,
    WaitForReplacementInput,
    WaitForReturnInput,
)
from dawra.contracts.task_base import parse_task
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
tasks = build_return_tasks(settings())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict | None:
    task = parse_task(event, ReturnTaskInput)
    logger.info(task.action, extra={"order_id": task.order_id, "return_id": task.return_id})
    ids = (task.order_id, task.return_id)
    if isinstance(task, WaitForReturnInput):
        return tasks.park(*ids, task.waiting_for, task.task_token)
    if isinstance(task, WaitForReplacementInput):
        return tasks.wait_for_replacement(*ids, task.task_token)
    if isinstance(task, ShipReplacementInput):
        sent = tasks.ship_replacement(*ids)
        return ReplacementShipped(shipment_id=sent.shipment_id, tracking_number=sent.tracking_number or "").model_dump()
    if isinstance(task, AlertOpsAboutReturnInput):
        tasks.alert_ops(*ids, task.reason)
        return None
    if isinstance(task, RefundReturnInput):
        refunded = tasks.refund(*ids)
        return ReturnRefunded(status=refunded.status.value, amount=refunded.amount.amount,
                              currency=refunded.amount.currency).model_dump()
    steps = {"return_requested": tasks.open, "issue_return_label": tasks.parcel.issue,
             "expire_return_label": tasks.parcel.expire}
    if task.action in steps:
        return steps[task.action](*ids).model_dump()
    moved = tasks.expire_request(*ids) if isinstance(task, ExpireReturnRequestInput) else tasks.close(*ids)
    return ReturnStep(status=moved.value).model_dump()
