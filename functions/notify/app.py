"""Notifier: the Orders table's stream -> one email (SES) or SMS (SNS) per customer-visible timeline event.

Partial batch failures: a record whose send fails is retried from that record on; records already sent are not
resent (the MESSAGE# marker)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from dawra.adapters.messaging import Messenger
from dawra.adapters.orders import OrdersStore
from dawra.models import TimelineEvent
from dawra.notify_service import Notifier
from dawra.settings import settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
config = settings()
notifier = Notifier(orders=OrdersStore(config.orders_table),
                    messenger=Messenger(sender_email=config.sender_email or "", sms_sender_id=config.sms_sender_id))

TIMELINE_FIELDS = set(TimelineEvent.model_fields)


@tracer.capture_method
def notify_record(record: DynamoDBRecord) -> None:
    if record.event_name != DynamoDBRecordEventName.INSERT or record.dynamodb is None:
        return
    image = record.dynamodb.new_image or {}
    if image.get("entity") != "timeline":
        return
    event = TimelineEvent.model_validate({k: v for k, v in image.items() if k in TIMELINE_FIELDS})
    outcome = notifier.notify(event)
    if outcome.startswith("sent"):
        metrics.add_metric(name="NotificationsSent", unit=MetricUnit.Count, value=1)
    logger.info("timeline event", extra={"order_id": event.order_id, "kind": event.kind.value, "outcome": outcome})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return process_partial_response(event=event, record_handler=notify_record, processor=processor, context=context)
