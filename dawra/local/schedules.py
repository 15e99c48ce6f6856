"""Making time pass for jobs for later on the local stack: a pending schedule's time moved to now, as if it had come,
so the schedule poller (dawra/local/pollers.py) fires it. For the demo and tests: a split order's shipped digest is
due minutes after its parcels left, a held SMS the next morning."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from dawra.contracts.later import at_expression


def pending_jobs(cloud: Any, kind: str) -> list[dict[str, Any]]:
    """The pending schedules of the later group whose job is of `kind` (as GetSchedule answers them)."""
    scheduler = cloud.client("scheduler")
    group = cloud.resolve_ref("schedule_group", "later", "name")
    found = []
    for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group):
        for summary in page["Schedules"]:
            try:
                schedule = scheduler.get_schedule(GroupName=group, Name=summary["Name"])
            except scheduler.exceptions.ResourceNotFoundException:
                continue  # fired meanwhile
            if f'"kind":"{kind}"' in schedule["Target"]["Input"]:
                found.append(schedule)
    return found


def fire_now(cloud: Any, pollers: Any, kind: str, timeout_s: float = 60) -> int:
    """Move every pending job of `kind` to now and wait until the poller has fired them (and any they scheduled in
    turn for now); returns how many were moved. TimeoutError if some are still pending after `timeout_s`."""
    scheduler = cloud.client("scheduler")
    moved, deadline = 0, time.monotonic() + timeout_s
    while pending := pending_jobs(cloud, kind):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(pending)} {kind} jobs still pending")
        for schedule in pending:
            try:
                scheduler.update_schedule(
                    Name=schedule["Name"], GroupName=schedule["GroupName"],
                    ScheduleExpression=at_expression(datetime.now(UTC)), ScheduleExpressionTimezone="UTC",
                    FlexibleTimeWindow={"Mode": "OFF"}, Target=schedule["Target"], ActionAfterCompletion="DELETE")
                moved += 1
            except scheduler.exceptions.ResourceNotFoundException:
                continue  # fired meanwhile
        pollers.drain()
        time.sleep(0.5)
    pollers.drain()
    return moved
