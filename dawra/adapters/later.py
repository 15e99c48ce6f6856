"""Jobs for later through EventBridge Scheduler: one one-time schedule per job, in Dawra's schedule group.

Each job is a schedule named by the caller (``feedback-<order id>``) with an ``at(...)`` expression in UTC, no
flexible window, deleted by the scheduler once it has fired (ActionAfterCompletion DELETE), whose target is the
later-jobs queue: the scheduler assumes the group's role and sends the job's JSON as the message body. A name that
is already scheduled is refused by the scheduler (ConflictException), which is what makes scheduling idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from dawra.adapters import aws
from dawra.adapters.errors import error_code, transient_errors
from dawra.contracts.later import ASAP_LEAD, at_expression, check_name, fire_time, job_body
from dawra.ports import Clock


class EventBridgeLater:
    def __init__(self, group_name: str | None, role_arn: str | None, target_arn: str | None, clock: Clock,
                 client: Any = None, lead: timedelta = ASAP_LEAD):
        """group_name, role_arn, target_arn: the schedule group, the role the scheduler assumes, the later-jobs
        queue (Settings.later_*). lead: how near a job may be scheduled (dawra/contracts/later.py ASAP_LEAD; only a
        test of the local wiring shortens it, so that it need not wait a minute)."""
        self.group_name, self.role_arn, self.target_arn = group_name, role_arn, target_arn
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
        if not (self.group_name and self.role_arn and self.target_arn):
            raise ValueError("no schedule group for later jobs is configured")
        try:
            with transient_errors("EventBridge Scheduler CreateSchedule"):
                self.client.create_schedule(
                    Name=name,
                    GroupName=self.group_name,
                    ScheduleExpression=at_expression(moment),
                    ScheduleExpressionTimezone="UTC",
                    FlexibleTimeWindow={"Mode": "OFF"},
                    ActionAfterCompletion="DELETE",
                    Target={"Arn": self.target_arn, "RoleArn": self.role_arn, "Input": body},
                )
        except ClientError as error:
            if error_code(error) != "ConflictException":  # scheduled before (perhaps by us, the answer lost)
                raise
