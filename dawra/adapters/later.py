"""Jobs for later through EventBridge Scheduler: one one-time schedule per job, in Dawra's schedule group.

Each job is a schedule named by the caller (``feedback-<order id>``) with an ``at(...)`` expression in UTC, no
flexible window, deleted by the scheduler once it has fired (ActionAfterCompletion DELETE), whose target is the
later-jobs queue, or the ops-jobs queue for a job that may alert operations (its kind says:
dawra.contracts.jobs.for_operations): the scheduler assumes the group's role (which may send to both) and sends the
job's JSON as the message body. A name that is already scheduled is refused by the scheduler (ConflictException),
which is what makes scheduling idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dawra.adapters import aws
from dawra.adapters.errors import error_code, transient_errors
from dawra.contracts.jobs import for_operations
from dawra.contracts.later import ASAP_LEAD, at_expression, check_name, fire_time, job_body
from dawra.ports import Clock


class EventBridgeLater:
    def __init__(self, group_name: str | None, role_arn: str | None, target_arn: str | None, clock: Clock,
                 client: Any = None, lead: timedelta = ASAP_LEAD, ops_target_arn: str | None = None):
        """group_name, role_arn, target_arn, ops_target_arn: the schedule group, the role the scheduler assumes,
        the later-jobs queue and the ops-jobs queue (Settings.later_*). lead: how near a job may be scheduled
        (dawra/contracts/later.py ASAP_LEAD; only a test of the local wiring shortens it, so that it need not wait a
        minute)."""
        self.group_name, self.role_arn, self.target_arn = group_name, role_arn, target_arn
        self.ops_target_arn = ops_target_arn
        self.clock = clock
        self.lead = lead
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws.client("scheduler")

    def at(self, name: str, when: datetime, job: Mapping[str, str]) -> None:
        check_name(name)
        body = job_body(job)
        moment = fire_time(when, self.clock.now(), self.lead)
        target = self.ops_target_arn if for_operations(job["kind"]) else self.target_arn
        if not (self.group_name and self.role_arn and target):
            raise ValueError(f"no schedule group or queue for later jobs of kind {job['kind']} is configured")
        try:
            with transient_errors("EventBridge Scheduler CreateSchedule"):
                self.client.create_schedule(
                    Name=name,
                    GroupName=self.group_name,
                    ScheduleExpression=at_expression(moment),
                    ScheduleExpressionTimezone="UTC",
                    FlexibleTimeWindow={"Mode": "OFF"},
                    ActionAfterCompletion="DELETE",
                    Target={"Arn": target, "RoleArn": self.role_arn, "Input": body},
                )
        except ClientError as error:
            if error_code(error) != "ConflictException":  # scheduled before (perhaps by us, the answer lost)
                raise
