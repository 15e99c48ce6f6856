"""Jobs for later on the embedded cloud: the adapter creates a schedule in the topology's group, the schedule poller
fires it when its time has passed (with the group's role, which may send to the later-jobs and ops-jobs queues), the
job reaches the queue once and then the later-jobs function once. A job that may alert operations goes to the
ops-jobs queue instead (decision 93), and one that reached the later-jobs queue all the same is sent on there. The
pollers run by hand here (no background polling), so each step can be seen."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dawra.adapters.later import EventBridgeLater
from dawra.app.common import SystemClock
from dawra.contracts.env import Settings
from dawra.contracts.later import at_expression, parse_at
from dawra.local.cloud import ROLE_PREFIX
from dawra.local.stack import LocalStack

FIRE_WITHIN_S = 15


@pytest.fixture(scope="module")
def stack():
    started = LocalStack(background_pollers=False, aws_port=None).start()
    yield started
    started.stop()


def adapter(stack) -> EventBridgeLater:
    """The adapter as bootstrap builds it, but without the minute's lead (tests/unit holds that rule), so the test
    need not wait a minute for the schedule to fire."""
    cloud = stack.cloud
    return EventBridgeLater(cloud.resolve_ref("schedule_group", "later", "name"),
                            cloud.resolve_ref("schedule_group", "later", "role_arn"),
                            cloud.resolve_ref("queue", "later-jobs", "arn"), SystemClock(), lead=timedelta(0),
                            ops_target_arn=cloud.resolve_ref("queue", "ops-jobs", "arn"))


def job() -> dict[str, str]:
    return {"kind": "ask_for_feedback", "order_id": f"ord_{uuid.uuid4().hex}"}  # no such order: nothing to ask


def pending(stack) -> dict[str, dict]:
    scheduler = stack.cloud.client("scheduler")
    group = stack.cloud.resolve_ref("schedule_group", "later", "name")
    return {s["Name"]: scheduler.get_schedule(GroupName=group, Name=s["Name"])
            for s in scheduler.list_schedules(GroupName=group)["Schedules"]}


def fire(stack, name: str) -> int:
    """Run the schedule poller until the schedule `name` has fired (and deleted itself)."""
    poller, fired = stack.pollers.schedules[0], 0
    deadline = time.monotonic() + FIRE_WITHIN_S
    while name in pending(stack):
        assert time.monotonic() < deadline, f"{name} did not fire within {FIRE_WITHIN_S} s"
        fired += poller.poll_once()
        time.sleep(0.1)
    return fired


def queued(stack, queue: str = "later-jobs") -> list[dict]:
    """The queue's messages, looked at and left visible."""
    sqs, url = stack.cloud.client("sqs"), stack.cloud.resolve_ref("queue", queue, "url")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def in_flight(stack, queue: str = "later-jobs") -> int:
    sqs, url = stack.cloud.client("sqs"), stack.cloud.resolve_ref("queue", queue, "url")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return sum(int(value) for value in attributes.values())


def test_a_job_one_second_ahead_reaches_the_queue_then_the_function_once(stack, unique):
    function = stack.cloud.topology.function("later-jobs").name
    name, asked = unique("feedback"), job()
    adapter(stack).at(name, datetime.now(UTC) + timedelta(seconds=1), asked)

    schedule = pending(stack)[name]
    assert schedule["ScheduleExpressionTimezone"] == "UTC" and schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["Target"]["Arn"] == stack.cloud.resolve_ref("queue", "later-jobs", "arn")
    assert schedule["Target"]["RoleArn"] == stack.cloud.resolve_ref("schedule_group", "later", "role_arn")

    assert fire(stack, name) == 1
    assert queued(stack) == [asked]
    assert stack.pollers.schedules[0].dropped == []

    invocations, errors = stack.cloud.lambdas.invocations[function], stack.cloud.lambdas.errors[function]
    stack.pollers.drain()
    assert stack.cloud.lambdas.invocations[function] == invocations + 1
    assert stack.cloud.lambdas.errors[function] == errors
    assert in_flight(stack) == 0  # the function took it: deleted from the queue, nothing to retry
    stack.pollers.drain()
    assert stack.cloud.lambdas.invocations[function] == invocations + 1  # and it never comes back


def test_scheduling_the_same_name_twice_delivers_the_first_job_once(stack, unique):
    later, function = adapter(stack), stack.cloud.topology.function("later-jobs").name
    name, first, second = unique("feedback"), job(), job()
    later.at(name, datetime.now(UTC) + timedelta(seconds=1), first)
    later.at(name, datetime.now(UTC) + timedelta(seconds=2), second)  # a retry with another time: a no-op
    not_yet, far = unique("feedback"), datetime.now(UTC) + timedelta(hours=1)
    later.at(not_yet, far, job())

    assert json.loads(pending(stack)[name]["Target"]["Input"]) == first
    fire(stack, name)
    assert queued(stack) == [first]
    assert stack.pollers.schedules[0].poll_once() == 0  # the other one's time has not come
    assert parse_at(pending(stack)[not_yet]["ScheduleExpression"]) >= far.replace(microsecond=0)

    invocations = stack.cloud.lambdas.invocations[function]
    stack.pollers.drain()
    assert stack.cloud.lambdas.invocations[function] == invocations + 1
    assert in_flight(stack) == 0
    stack.cloud.client("scheduler").delete_schedule(GroupName="dawra-later", Name=not_yet)


def test_bootstrap_schedules_through_the_local_group_a_minute_ahead_at_the_soonest(stack, unique):
    from dawra.bootstrap import later_from

    name, before = unique("release"), datetime.now(UTC)
    later_from(Settings.from_env()).at(name, before - timedelta(hours=1), job())  # overdue: as soon as possible
    at = parse_at(pending(stack)[name]["ScheduleExpression"])
    assert before + timedelta(minutes=1) <= at <= datetime.now(UTC) + timedelta(minutes=1, seconds=1)
    stack.cloud.client("scheduler").delete_schedule(GroupName="dawra-later", Name=name)


def test_a_schedule_whose_role_may_not_send_to_the_queue_is_dropped(stack, unique):
    """As the scheduler would: the role it assumes decides. A function's role has no sqs:SendMessage on the queue."""
    cloud, name = stack.cloud, unique("stray")
    cloud.client("scheduler").create_schedule(
        Name=name, GroupName="dawra-later", ScheduleExpression=at_expression(datetime.now(UTC)),
        FlexibleTimeWindow={"Mode": "OFF"}, ActionAfterCompletion="DELETE",
        Target={"Arn": cloud.resolve_ref("queue", "later-jobs", "arn"), "Input": json.dumps(job()),
                "RoleArn": cloud.client("iam").get_role(RoleName=ROLE_PREFIX + "later-jobs")["Role"]["Arn"]})
    fire(stack, name)
    assert stack.pollers.schedules[0].dropped == [name]
    assert in_flight(stack) == 0


def remittance_check() -> dict[str, str]:
    """A job that alerts operations when it finds something (no such order here: it is taken off the queue by hand)."""
    return {"kind": "check_cod_remittance", "order_id": f"ord_{uuid.uuid4().hex}", "shipment_id": "shp_0123456789"}


def test_a_job_that_may_alert_operations_reaches_the_ops_jobs_queue_not_the_later_jobs_one(stack, unique):
    name, asked = unique("cod-remit"), remittance_check()
    adapter(stack).at(name, datetime.now(UTC) + timedelta(seconds=1), asked)
    assert pending(stack)[name]["Target"]["Arn"] == stack.cloud.resolve_ref("queue", "ops-jobs", "arn")

    assert fire(stack, name) == 1
    assert name not in stack.pollers.schedules[0].dropped  # the group's role may send there too
    assert queued(stack, "ops-jobs") == [asked] and queued(stack) == []
    sqs, url = stack.cloud.client("sqs"), stack.cloud.resolve_ref("queue", "ops-jobs", "url")
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert in_flight(stack, "ops-jobs") == 0


def test_a_job_of_operations_that_reached_the_later_jobs_queue_is_sent_on_to_the_ops_jobs_queue(stack):
    """As a schedule made before the ops-jobs queue existed would deliver it: the later-jobs function, which may
    publish to no SNS topic, runs it not; it schedules it again, as soon as possible, to the ops-jobs queue."""
    from dawra.app.later_jobs import sent_on_name

    function = stack.cloud.topology.function("later-jobs").name
    invocations, errors = stack.cloud.lambdas.invocations[function], stack.cloud.lambdas.errors[function]
    asked = remittance_check()
    sent = stack.cloud.client("sqs").send_message(QueueUrl=stack.cloud.resolve_ref("queue", "later-jobs", "url"),
                                                   MessageBody=json.dumps(asked))
    stack.pollers.drain()
    assert stack.cloud.lambdas.invocations[function] == invocations + 1
    assert stack.cloud.lambdas.errors[function] == errors and in_flight(stack) == 0
    name = sent_on_name(sent["MessageId"])
    schedule = pending(stack)[name]
    assert schedule["Target"]["Arn"] == stack.cloud.resolve_ref("queue", "ops-jobs", "arn")
    assert json.loads(schedule["Target"]["Input"]) == asked
    stack.cloud.client("scheduler").delete_schedule(GroupName="dawra-later", Name=name)
