"""Notifier: the Orders table's stream -> one email (SES) or SMS (SNS) per customer-visible timeline event; and an
order completed (whichever change finished its last parcel) gets its feedback ask scheduled for later.

Partial batch failures: a record whose send fails is retried from that record on, and the records after it are left
untouched for that retry (InOrderStreamProcessor); records already sent are not resent (the send log)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from dawra.adapters.dynamo.stream import timeline_event
from dawra.bootstrap import build_feedback_schedule, build_notify
from dawra.contracts import metrics as M
from dawra.contracts.env import settings
from dawra.domain.timeline import TimelineKind
from dawra.streams import InOrderStreamProcessor
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
processor = InOrderStreamProcessor()
notify = build_notify(settings())
ask_for_feedback_later = build_feedback_schedule(settings())


@tracer.capture_method
def notify_record(record: DynamoDBRecord) -> None:
    event = timeline_event(record)
    if event is None:
        return
    if event.kind == TimelineKind.ORDER_COMPLETED:  # nothing to tell yet: how it went is asked later (idempotent)
        ask_for_feedback_later(event.order_id)
        metrics.add_metric(name=M.ORDERS_COMPLETED, unit=MetricUnit.Count, value=1)
        logger.info("order completed; feedback ask scheduled", extra={"order_id": event.order_id})
        return
    outcome = notify(event, sender=record.event_id or "")  # the same record retried is the same sender
    if outcome.startswith("sent"):
        metrics.add_metric(name=M.NOTIFICATIONS_SENT, unit=MetricUnit.Count, value=1)
    logger.info("timeline event", extra={"order_id": event.order_id, "kind": event.kind.value, "outcome": outcome})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return process_partial_response(event=event, record_handler=notify_record, processor=processor, context=context)
