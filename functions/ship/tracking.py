"""Carrier tracking consumer: SQS batches of stored webhooks -> verified, normalised, applied once.

Partial batch failures: a record that fails is retried by SQS alone (then lands in the DLQ); the rest are done."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from dawra.adapters import aws
from dawra.adapters.lifecycle import Lifecycle
from dawra.adapters.orders import OrdersStore
from dawra.errors import WebhookRejected
from dawra.models.webhook import CarrierWebhookEnvelope
from dawra.settings import settings
from dawra.tracking_updates import TrackingUpdates

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# Every record reported on its own, even when all fail (Lambda then retries each, as it would the batch).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
config = settings()
SECRET_NAMES = {"sandbox": config.sandbox_carrier_secret_name}
secrets = parameters.SecretsProvider(boto3_client=aws.client("secretsmanager"))


def secret_for(carrier: str) -> bytes:
    name = SECRET_NAMES.get(carrier)
    if not name:
        raise WebhookRejected(f"no webhook secret configured for carrier {carrier!r}")
    return secrets.get(name, max_age=300).encode()


updates = TrackingUpdates(orders=OrdersStore(config.orders_table), lifecycle=Lifecycle(None), secret_for=secret_for)


@tracer.capture_method
def apply_webhook(record: SQSRecord) -> None:
    envelope = CarrierWebhookEnvelope.model_validate_json(record.body)
    try:
        outcomes = updates.handle_webhook(envelope)
    except WebhookRejected as rejected:
        metrics.add_metric(name="WebhooksRejected", unit=MetricUnit.Count, value=1)
        logger.warning("carrier webhook rejected", extra={"carrier": envelope.carrier, "reason": rejected.message,
                                                          "message_id": record.message_id})
        raise
    metrics.add_metric(name="TrackingEventsProcessed", unit=MetricUnit.Count, value=len(outcomes))
    delivered = sum(1 for outcome in outcomes if outcome == "moved to delivered")
    if delivered:
        metrics.add_metric(name="ShipmentsDelivered", unit=MetricUnit.Count, value=delivered)
    logger.info("carrier webhook applied", extra={"carrier": envelope.carrier, "outcomes": outcomes})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return process_partial_response(event=event, record_handler=apply_webhook, processor=processor, context=context)
