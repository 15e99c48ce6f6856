"""Later: one-off jobs at a later time, outside an order's workflow (asking for feedback days after delivery,
releasing SMS held overnight).

A function that schedules a job (dawra.ports.Later, dawra/adapters/later.py) creates a one-time EventBridge Scheduler
schedule in the ``dawra-later`` group; when it fires, the scheduler assumes the group's role and sends the job to the
later-jobs queue, which the later-jobs function consumes. A scheduling function is given SCHEDULE_LATER_ENV and
the SCHEDULE_LATER grants (dawra/topology/schedules.py): creating schedules in this group only, and passing this
group's role only.
"""

from __future__ import annotations

from .data import ORDERS_TABLE, READ_ORDERS, WRITE_ORDERS
from .model import Function, Queue, QueueEventSource, ScheduleGroup
from .notify import SENDING, SENDING_ENV
from .operations import POWERTOOLS_ENV
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
)

SCHEDULE_GROUPS = (
    ScheduleGroup(
        id="later",
        name="dawra-later",
        queue="later-jobs",
        purpose="One-time schedules of jobs for later; each sends its job to the later-jobs queue, then deletes "
                "itself.",
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
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **SENDING_ENV, **SCHEDULE_LATER_ENV},
        # Reading the later-jobs queue is the SQS event source mapping's own grant.
        grants=(READ_ORDERS, WRITE_ORDERS, *SENDING, *SCHEDULE_LATER),
        purpose="Consumes jobs for later from SQS (ask for feedback after the last delivery, send an SMS held "
                "through the quiet hours, tell parcels shipped together in one message), each by its kind.",
    ),
)

QUEUE_EVENT_SOURCES = (QueueEventSource(queue="later-jobs", function="later-jobs", batch_size=10),)
