"""Carrier tracking consumer: SQS batches of stored webhooks -> verified, normalised, applied once.

Partial batch failures: a record that fails to process is retried by SQS alone (then lands in the DLQ); the rest are
done. A webhook that can never be processed (forged, unknown carrier, malformed, too large) is rejected: recorded
with its reason, counted by reason, and dropped, so junk never reaches the DLQ or its alarm."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from dawra.bootstrap import build_tracking
from dawra.contracts import metrics as M
from dawra.contracts.env import settings
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
# Every record reported on its own, even when all fail (Lambda then retries each, as it would the batch).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
tracking = build_tracking(settings())


@tracer.capture_method
def apply_webhook(record: SQSRecord) -> None:
    outcomes = tracking.handle_stored(record.body, record.message_id)
    for outcome in outcomes:
        if outcome.startswith("rejected: "):
            reason = outcome.removeprefix("rejected: ")
            metrics.add_metric(name=M.WEBHOOKS_REJECTED, unit=MetricUnit.Count, value=1)
            metrics.add_metric(name=M.WEBHOOKS_REJECTED_BY_REASON[reason], unit=MetricUnit.Count, value=1)
            logger.info("carrier webhook rejected", extra={"reason": reason, "message_id": record.message_id})
            return
    metrics.add_metric(name=M.TRACKING_EVENTS_PROCESSED, unit=MetricUnit.Count, value=len(outcomes))
    delivered = sum(1 for outcome in outcomes if outcome == "moved to delivered")
    if delivered:
        metrics.add_metric(name=M.SHIPMENTS_DELIVERED, unit=MetricUnit.Count, value=delivered)
    logger.info("carrier webhook applied", extra={"outcomes": outcomes, "message_id": record.message_id})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return process_partial_response(event=event, record_handler=apply_webhook, processor=processor, context=context)
