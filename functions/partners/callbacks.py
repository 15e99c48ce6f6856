"""Partner callbacks consumer: SQS batches of stored partner callbacks -> verified, applied once, in any order.

Partial batch failures: a record that fails to process (an order not found yet, a throttled write) is retried by SQS
alone, then lands in the DLQ; one that can never be processed (forged, unknown partner, malformed) is rejected:
logged with its reason and dropped."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from dawra.bootstrap import build_partner_callbacks
from dawra.contracts.env import settings
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
callbacks = build_partner_callbacks(settings())


@tracer.capture_method
def apply_callback(record: SQSRecord) -> None:
    outcome = callbacks.handle_stored(record.body)
    logger.info("partner callback", extra={"outcome": outcome, "message_id": record.message_id})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    return process_partial_response(event=event, record_handler=apply_callback, processor=processor, context=context)
