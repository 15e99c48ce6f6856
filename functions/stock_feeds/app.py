"""The feeds bucket's notifications (S3 -> the stock-feeds queue): each object created is imported as a stock feed.

One message at a time; a failed import is retried by SQS alone, then lands in the DLQ (alarmed). S3's test event,
sent when the notification is configured, names no object and is done at once."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from dawra.bootstrap import build_bucket_feeds
from dawra.contracts.env import settings
from dawra.contracts.inventory import objects_created
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
import_feed = build_bucket_feeds(settings())


@tracer.capture_method
def import_objects(record: SQSRecord) -> None:
    for created in objects_created(record.body):
        outcome = import_feed(created.bucket, created.key, created.etag)
        logger.info("stock feed", extra={"size": created.size, "outcome": outcome})  # keys may name a partner


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return process_partial_response(event=event, record_handler=import_objects, processor=processor, context=context)
