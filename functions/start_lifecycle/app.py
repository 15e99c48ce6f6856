"""Start-lifecycle: the Orders table's stream -> the order's lifecycle started (decision 114).

Checkout commits an order with its `order_confirmed` event; this function starts the order's execution from that
record, off checkout's request path. In order, stopping at the first failure (InOrderStreamProcessor): a start that
fails (Step Functions throttled or down) is reported with every record after it, untouched, and the batch is retried
from it; starting an order again is a no-op (the execution is named after the order), so a redelivered record
changes nothing. A record that names no order (not an event Dawra wrote) is logged and skipped: retried, it would
hold back every order behind it."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from pydantic import ValidationError

from dawra.adapters.dynamo.stream import timeline_event
from dawra.bootstrap import build_start_lifecycle
from dawra.contracts.env import settings
from dawra.domain.timeline import TimelineKind
from dawra.streams import InOrderStreamProcessor
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
processor = InOrderStreamProcessor()
start_lifecycle = build_start_lifecycle(settings())


@tracer.capture_method
def start_record(record: DynamoDBRecord) -> None:
    try:
        event = timeline_event(record)
    except ValidationError as error:
        logger.error("not an order's event; skipped", extra={"event_id": record.event_id,
                                                              "fields": [e["loc"] for e in error.errors()]})
        return
    if event is None or event.kind != TimelineKind.ORDER_CONFIRMED:  # the filter lets nothing else through
        return
    start_lifecycle(event.order_id)
    logger.info("lifecycle started", extra={"order_id": event.order_id})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return process_partial_response(event=event, record_handler=start_record, processor=processor, context=context)
