"""The Later adapter against botocore's Stubber: the exact CreateSchedule request (one-time, UTC, no window, deleted
after it fires, the job as the queue message), a name already scheduled as done, throttling and 5xx as transient,
and nothing sent for a name or job EventBridge Scheduler would refuse."""

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from dawra.adapters.later import EventBridgeLater
from dawra.domain.errors import TransientError

NOW = datetime(2026, 11, 23, 9, 0, 0, 250_000, tzinfo=UTC)
GROUP, ROLE = "dawra-later", "arn:aws:iam::123456789012:role/dawra-later-scheduler"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:dawra-later-jobs"
JOB = {"kind": "ask_for_feedback", "order_id": "ord_" + "a" * 32}
BODY = '{"kind":"ask_for_feedback","order_id":"ord_' + "a" * 32 + '"}'


class Clock:
    def now(self) -> datetime:
        return NOW


def scheduler():
    return boto3.client("scheduler", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def request(name: str, expression: str) -> dict:
    return {"Name": name, "GroupName": GROUP, "ScheduleExpression": expression, "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"}, "ActionAfterCompletion": "DELETE",
            "Target": {"Arn": QUEUE, "RoleArn": ROLE, "Input": BODY}}


def later(client) -> EventBridgeLater:
    return EventBridgeLater(GROUP, ROLE, QUEUE, Clock(), client=client)


def test_a_job_becomes_one_one_time_schedule_that_sends_it_to_the_queue():
    client = scheduler()
    with Stubber(client) as stub:
        stub.add_response("create_schedule", {"ScheduleArn": f"arn:aws:scheduler:us-east-1:1:schedule/{GROUP}/f"},
                          request("feedback-ord_1", "at(2026-11-26T09:00:01)"))
        later(client).at("feedback-ord_1", NOW + timedelta(days=3), JOB)  # rounded up to the second
        stub.assert_no_pending_responses()


@pytest.mark.parametrize("when", [NOW - timedelta(days=1), NOW, NOW + timedelta(seconds=30)])
def test_a_time_past_or_under_a_minute_away_is_scheduled_a_minute_from_now(when):
    client = scheduler()
    with Stubber(client) as stub:
        stub.add_response("create_schedule", {"ScheduleArn": "arn:aws:scheduler:us-east-1:1:schedule/g/n"},
                          request("sms-release-1", "at(2026-11-23T09:01:01)"))
        later(client).at("sms-release-1", when, JOB)
        stub.assert_no_pending_responses()


def test_a_name_already_scheduled_is_done_whatever_the_time():
    client = scheduler()
    with Stubber(client) as stub:
        stub.add_client_error("create_schedule", service_error_code="ConflictException",
                              service_message="Schedule feedback-ord_1 already exists.", http_status_code=409)
        later(client).at("feedback-ord_1", NOW + timedelta(days=9), JOB)
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 429), ("InternalServerException", 500),
                                              ("ServiceUnavailable", 503)])
def test_throttling_and_server_errors_are_transient(code, status):
    client = scheduler()
    with Stubber(client) as stub:
        stub.add_client_error("create_schedule", service_error_code=code, service_message="slow down",
                              http_status_code=status)
        with pytest.raises(TransientError, match="CreateSchedule"):
            later(client).at("feedback-ord_1", NOW + timedelta(days=3), JOB)


@pytest.mark.parametrize(("code", "status"), [("ValidationException", 400), ("ResourceNotFoundException", 404),
                                              ("ServiceQuotaExceededException", 402)])
def test_other_refusals_are_not_hidden(code, status):
    client = scheduler()
    with Stubber(client) as stub:
        stub.add_client_error("create_schedule", service_error_code=code, service_message="no",
                              http_status_code=status)
        with pytest.raises(ClientError):
            later(client).at("feedback-ord_1", NOW + timedelta(days=3), JOB)


@pytest.mark.parametrize(("name", "job"), [("feedback ord_1", JOB), ("x" * 65, JOB),
                                           ("feedback-ord_1", {"order_id": "ord_1"})])
def test_what_the_scheduler_would_refuse_is_refused_before_any_call(name, job):
    client = scheduler()
    with Stubber(client) as stub:
        with pytest.raises(ValueError, match=r"schedule name|kind"):
            later(client).at(name, NOW + timedelta(days=3), job)
        stub.assert_no_pending_responses()


def test_without_a_configured_group_nothing_is_scheduled():
    with pytest.raises(ValueError, match="no schedule group"):
        EventBridgeLater(None, None, None, Clock(), client=scheduler()).at("feedback-ord_1", NOW, JOB)


OPS_QUEUE = "arn:aws:sqs:us-east-1:123456789012:dawra-ops-jobs"
RENEWAL = {"kind": "renew_authorization", "order_id": "ord_" + "a" * 32}


def test_a_job_that_may_alert_operations_is_sent_to_the_ops_jobs_queue():
    """The later-jobs function may publish to no SNS topic (decision 93): the kind chooses the queue."""
    client = scheduler()
    with Stubber(client) as stub:
        stub.add_response("create_schedule", {"ScheduleArn": f"arn:aws:scheduler:us-east-1:1:schedule/{GROUP}/r"}, {
            **request("reauth-ord_1", "at(2026-11-29T09:00:01)"),
            "Target": {"Arn": OPS_QUEUE, "RoleArn": ROLE, "Input": '{"kind":"renew_authorization","order_id":"ord_'
                       + "a" * 32 + '"}'}})
        stub.add_response("create_schedule", {"ScheduleArn": f"arn:aws:scheduler:us-east-1:1:schedule/{GROUP}/f"},
                          request("feedback-ord_1", "at(2026-11-26T09:00:01)"))
        ops = EventBridgeLater(GROUP, ROLE, QUEUE, Clock(), client=client, ops_target_arn=OPS_QUEUE)
        ops.at("reauth-ord_1", NOW + timedelta(days=6), RENEWAL)
        ops.at("feedback-ord_1", NOW + timedelta(days=3), JOB)  # any other kind: the later-jobs queue
        stub.assert_no_pending_responses()


def test_without_the_ops_jobs_queue_a_job_of_operations_is_not_scheduled_to_the_other():
    client = scheduler()
    with Stubber(client) as stub:
        with pytest.raises(ValueError, match="renew_authorization"):
            later(client).at("reauth-ord_1", NOW + timedelta(days=6), RENEWAL)
        stub.assert_no_pending_responses()
