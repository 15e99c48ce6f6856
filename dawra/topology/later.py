"""Later: one-off jobs at a later time, outside an order's workflow (asking for feedback days after delivery,
releasing SMS held overnight, checking a cash-on-delivery parcel was remitted, renewing a card authorisation).

A function that schedules a job (dawra.ports.Later, dawra/adapters/later.py) creates a one-time EventBridge Scheduler
schedule in the ``dawra-later`` group; when it fires, the scheduler assumes the group's role and sends the job to its
queue, whose function runs it. Two queues, by the job's kind (dawra.contracts.jobs.for_operations; decision 93):
- **later-jobs**: what the notifier held (an SMS overnight, parcels shipped together) and the feedback ask. Its
  function sends SMS, so like the notifier it is denied sns:Publish on every SNS ARN (SMS_ONLY): it can publish to
  phone numbers only, and to no topic;
- **ops-jobs**: the jobs that may alert operations (a parcel's cash not remitted in time, a card authorisation that
  could not be renewed). Its function publishes to the ops-alerts topic and sends no customer message.
A scheduling function is given SCHEDULE_LATER_ENV and the SCHEDULE_LATER grants (dawra/topology/schedules.py):
creating schedules in this group only, and passing this group's role only.
"""

from __future__ import annotations

from .data import ORDERS_TABLE, READ_ORDERS, WRITE_ORDERS
from .model import Function, Queue, QueueEventSource, ScheduleGroup
from .notify import SENDING, SENDING_ENV
from .operations import COD_REMITTANCE, OPS_ALERTS, POWERTOOLS_ENV, PUBLISH_OPS_ALERT
from .schedules import SCHEDULE_LATER, SCHEDULE_LATER_ENV

QUEUES = (
    Queue(
        id="later-jobs",
        name="dawra-later-jobs",
        visibility_timeout_s=60,  # 6x the consumer's timeout, as AWS recommends for event source mappings
        dead_letter_queue="later-jobs-dlq",
        max_receive_count=5,
        purpose="Jobs for later (e.g. ask for feedback), sent by EventBridge Scheduler when their time comes.",
    ),
    Queue(
        id="later-jobs-dlq",
        name="dawra-later-jobs-dlq",
        retention_s=14 * 24 * 3600,
        purpose="Jobs for later that failed processing max_receive_count times.",
    ),
    Queue(
        id="ops-jobs",
        name="dawra-ops-jobs",
        visibility_timeout_s=60,  # 6x the consumer's timeout, as for later-jobs
        dead_letter_queue="ops-jobs-dlq",
        max_receive_count=5,
        purpose="Jobs for later that may alert operations (a cash-on-delivery parcel not remitted in time, a card "
                "authorisation to renew), sent by EventBridge Scheduler when their time comes.",
    ),
    Queue(
        id="ops-jobs-dlq",
        name="dawra-ops-jobs-dlq",
        retention_s=14 * 24 * 3600,
        purpose="Jobs for later of operations that failed processing max_receive_count times.",
    ),
)

SCHEDULE_GROUPS = (
    ScheduleGroup(
        id="later",
        name="dawra-later",
        queues=("later-jobs", "ops-jobs"),
        purpose="One-time schedules of jobs for later; each sends its job to the later-jobs queue (or, if it may "
                "alert operations, the ops-jobs queue), then deletes itself.",
    ),
)

FUNCTIONS = (
    Function(
        id="later-jobs",
        name="dawra-later-jobs",
        code="functions/later",
        handler="app.handler",
        memory_mb=256,
        timeout_s=10,
        # It sends what the notifier held (an SMS overnight, parcels shipped together) as the notifier would, and
        # may hold a digest's SMS until the morning: the notifier's sending environment and grants, and scheduling.
        # SENDING's SMS_ONLY denies it every SNS topic: nothing it runs may alert operations (those jobs: ops-jobs).
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **SENDING_ENV, **SCHEDULE_LATER_ENV},
        # Reading the later-jobs queue is the SQS event source mapping's own grant.
        grants=(READ_ORDERS, WRITE_ORDERS, *SENDING, *SCHEDULE_LATER),
        purpose="Consumes jobs for later from SQS (ask for feedback after the last delivery, send an SMS held "
                "through the quiet hours, tell parcels shipped together in one message), each by its kind.",
    ),
    Function(
        id="ops-jobs",
        name="dawra-ops-jobs",
        code="functions/later",
        handler="ops.handler",
        memory_mb=256,
        timeout_s=10,
        # A renewed authorisation's next renewal is scheduled by the job itself (SCHEDULE_LATER); the sandbox
        # payment provider needs no secret. No sending environment: it tells customers nothing.
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **SCHEDULE_LATER_ENV, **OPS_ALERTS, **COD_REMITTANCE},
        # Reading the ops-jobs queue is the SQS event source mapping's own grant.
        grants=(READ_ORDERS, WRITE_ORDERS, *SCHEDULE_LATER, PUBLISH_OPS_ALERT),
        purpose="Consumes the jobs for later that may alert operations from SQS (flag a cash-on-delivery parcel "
                "not remitted in time, renew a card authorisation before it lapses), each by its kind.",
    ),
)

QUEUE_EVENT_SOURCES = (QueueEventSource(queue="later-jobs", function="later-jobs", batch_size=10),
                       QueueEventSource(queue="ops-jobs", function="ops-jobs", batch_size=10))
