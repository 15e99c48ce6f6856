"""Later: one-off jobs at a later time, outside an order's workflow (asking for feedback days after delivery,
releasing SMS held overnight).

A function that schedules a job (dawra.ports.Later, dawra/adapters/later.py) creates a one-time EventBridge Scheduler
schedule in the ``dawra-later`` group; when it fires, the scheduler assumes the group's role and sends the job to the
later-jobs queue, which the later-jobs function consumes. A scheduling function is given :data:`SCHEDULE_LATER_ENV`
and the :data:`SCHEDULE_LATER` grants: creating schedules in this group only, and passing this group's role only.
"""

from __future__ import annotations

from dawra.contracts import env as E

from .data import ORDERS_TABLE, READ_ORDERS, WRITE_ORDERS
from .model import Arn, Function, Grant, NamedArn, Queue, QueueEventSource, Ref, ScheduleGroup
from .operations import POWERTOOLS_ENV

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

_GROUP = Ref(kind="schedule_group", id="later", attr="name")
_ROLE = Ref(kind="schedule_group", id="later", attr="role_arn")
SCHEDULE_LATER_ENV: dict[str, Ref | str] = {
    E.LATER_SCHEDULE_GROUP: _GROUP,
    E.LATER_ROLE_ARN: _ROLE,
    E.LATER_TARGET_ARN: Ref(kind="queue", id="later-jobs", attr="arn"),
}
SCHEDULE_LATER = (
    # arn:<partition>:scheduler:<region>:<account>:schedule/dawra-later/*: a schedule of this group, any name.
    Grant(actions=("scheduler:CreateSchedule",),
          resources=(NamedArn(service="scheduler", resource_type="schedule", name=_GROUP, suffix="/*"),)),
    # CreateSchedule names the role the schedule runs with; only the group's role may be handed to the scheduler.
    Grant(actions=("iam:PassRole",), resources=(Arn(ref=_ROLE),)),
)

FUNCTIONS = (
    Function(
        id="later-jobs",
        name="dawra-later-jobs",
        code="functions/later",
        handler="app.handler",
        memory_mb=256,
        timeout_s=10,
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE},
        # Reading the later-jobs queue is the SQS event source mapping's own grant.
        grants=(READ_ORDERS, WRITE_ORDERS),
        purpose="Consumes jobs for later from SQS (e.g. ask for feedback after the last delivery), each by its kind.",
    ),
)

QUEUE_EVENT_SOURCES = (QueueEventSource(queue="later-jobs", function="later-jobs", batch_size=10),)
