"""Jobs whose time has come (EventBridge Scheduler -> the later-jobs queue): each runs the use case its kind names.
This function sends SMS and may publish to no SNS topic: a job that may alert operations runs in ops.py, from the
ops-jobs queue (decision 93). One scheduled to this queue before that queue existed is sent on to it, as soon as
possible, under a name of its own message (a redelivery schedules nothing twice).

Partial batch failures: a job that fails is retried by SQS alone, then lands in the DLQ; a job that cannot be read
(an unknown kind, a bad order id) fails the same way, so an engineer sees it there rather than it vanishing."""

from __future__ import annotations

import json

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from dawra.bootstrap import build_later_jobs
from dawra.contracts.env import settings
from dawra.contracts.jobs import ANY_JOB, SendHeldMessageJob, SendShippedDigestJob, for_operations
from dawra.tracing import function_tracer

logger = Logger()
tracer = function_tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
jobs = build_later_jobs(settings())


@tracer.capture_method
def run_job(record: SQSRecord) -> None:
    job = ANY_JOB.validate_json(record.body)
    sender = record.message_id  # a job redelivered is the same sender (its own claims); a duplicate job is another
    if for_operations(job.kind):
        outcome = jobs.send_on(record.message_id, json.loads(record.body))
    elif isinstance(job, SendHeldMessageJob):
        outcome = jobs.notify.send_held(job.order_id, job.event_id, job.channel, sender)
    elif isinstance(job, SendShippedDigestJob):
        outcome = jobs.notify.send_shipped_digest(job.order_id, sender, job.channel)
    else:
        outcome = jobs.ask_for_feedback(job.order_id)
    logger.info("job done", extra={"kind": job.kind, "order_id": job.order_id, "outcome": outcome})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context) -> dict:
    return process_partial_response(event=event, record_handler=run_job, processor=processor, context=context)
