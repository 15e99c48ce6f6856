"""Jobs for later that may alert operations, whose time has come (EventBridge Scheduler -> the ops-jobs queue): each
runs the use case its kind names. Apart from app.py (the later-jobs queue) because that function sends SMS and is
denied every SNS topic, the ops-alerts topic too (decision 93); this one publishes to that topic and sends no
customer message.

Partial batch failures: a job that fails is retried by SQS alone, then lands in the DLQ; a job that cannot be read
(an unknown kind, a bad order id) fails the same way, so an engineer sees it there rather than it vanishing."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from dawra.bootstrap import build_ops_jobs
from dawra.contracts.env import settings
from dawra.contracts.jobs import OPS_JOB, CheckRemittanceJob
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
jobs = build_ops_jobs(settings())


@tracer.capture_method
def run_job(record: SQSRecord) -> None:
    job = OPS_JOB.validate_json(record.body)
    if isinstance(job, CheckRemittanceJob):
        outcome = jobs.remittances.check(job.order_id, job.shipment_id)
    else:
        outcome = jobs.renew_authorization.when_due(job.order_id)
    logger.info("job done", extra={"kind": job.kind, "order_id": job.order_id, "outcome": outcome})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return process_partial_response(event=event, record_handler=run_job, processor=processor, context=context)
