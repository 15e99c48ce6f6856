"""Jobs for later that may alert operations run in a function of their own (decision 93): the later-jobs function
sends SMS, so it is denied sns:Publish on every SNS ARN, the ops-alerts topic too, and an alert published from it
would be refused on AWS (an explicit Deny wins over any Allow). Each kind is routed by the same rule in the adapter
and the fake (dawra.contracts.jobs.for_operations); the topology refuses a function whose Allow its own Deny
overrides."""

from __future__ import annotations

import json
from typing import get_args

import pytest
from fakes import FakeLater, FixedClock
from pydantic import ValidationError

from dawra.app.later_jobs import SENT_ON, SendOn, sent_on_name
from dawra.contracts import env as E
from dawra.contracts.jobs import (
    ANY_JOB,
    LATER_JOB,
    OPS_JOB,
    OPS_KINDS,
    AnyJob,
    LaterJob,
    OpsJob,
    for_operations,
)
from dawra.topology import TOPOLOGY
from dawra.topology.model import Function, Ref
from dawra.topology.notify import SEND_EMAIL, SEND_SMS, SENDING, SMS_ONLY
from dawra.topology.operations import PUBLISH_OPS_ALERT
from dawra.topology.schedules import SCHEDULE_LATER_ENV

ORDER, SHIPMENT = "ord_" + "a" * 32, "shp_" + "b" * 32


def kinds(union: object) -> set[str]:
    return {get_args(model.model_fields["kind"].annotation)[0] for model in get_args(union)}


def test_each_kind_runs_in_exactly_one_function_and_those_that_alert_in_the_ops_jobs_one():
    assert kinds(OpsJob) == OPS_KINDS == {"check_cod_remittance", "renew_authorization"}
    assert kinds(LaterJob) | kinds(OpsJob) == kinds(AnyJob) and not kinds(LaterJob) & kinds(OpsJob)
    assert [kind for kind in sorted(kinds(AnyJob)) if for_operations(kind)] == sorted(OPS_KINDS)
    remittance = json.dumps({"kind": "check_cod_remittance", "order_id": ORDER, "shipment_id": SHIPMENT})
    assert OPS_JOB.validate_json(remittance) == ANY_JOB.validate_json(remittance)
    with pytest.raises(ValidationError):
        LATER_JOB.validate_json(remittance)  # the later-jobs function runs it not (it sends it on)
    with pytest.raises(ValidationError):
        OPS_JOB.validate_json(json.dumps({"kind": "ask_for_feedback", "order_id": ORDER}))


def test_the_function_that_sends_sms_publishes_to_no_topic_and_the_one_that_alerts_sends_no_message():
    later, ops = TOPOLOGY.function("later-jobs"), TOPOLOGY.function("ops-jobs")
    assert SEND_SMS in later.grants and SMS_ONLY in later.grants and PUBLISH_OPS_ALERT not in later.grants
    assert E.OPS_ALERTS_TOPIC_ARN not in later.environment
    assert PUBLISH_OPS_ALERT in ops.grants and not set(SENDING) & set(ops.grants)
    assert ops.environment[E.OPS_ALERTS_TOPIC_ARN] == Ref(kind="topic", id="ops-alerts", attr="arn")
    assert E.COD_REMITTANCE_DAYS in ops.environment and E.SENDER_EMAIL not in ops.environment
    # The renewal schedules its next round from there: through the same group, its role only.
    assert ops.environment[E.LATER_OPS_TARGET_ARN] == Ref(kind="queue", id="ops-jobs", attr="arn")
    for function in TOPOLOGY.functions:
        assert not (SMS_ONLY in function.grants and PUBLISH_OPS_ALERT in function.grants), function.id


def test_a_function_allowed_a_topic_its_own_deny_refuses_is_no_topology():
    spec = TOPOLOGY.function("later-jobs").model_dump()
    with pytest.raises(ValidationError, match=r"\['sns:Publish'\] allowed on an ARN its own Deny refuses"):
        Function(**{**spec, "grants": (*SENDING, PUBLISH_OPS_ALERT)})
    # The Allow on "*" the Deny narrows is what the Deny is for; other actions are untouched.
    assert Function(**{**spec, "grants": (SEND_SMS, SMS_ONLY, SEND_EMAIL)}).grants[1] == SMS_ONLY


def test_the_group_sends_to_both_queues_each_consumed_by_its_function_with_a_dead_letter_queue():
    (group,) = TOPOLOGY.schedule_groups
    assert group.queues == ("later-jobs", "ops-jobs")
    (grant,) = group.grants
    assert grant.actions == ("sqs:SendMessage",)
    assert [r.ref for r in grant.resources] == [Ref(kind="queue", id=q, attr="arn") for q in group.queues]
    consumers = {source.queue: source.function for source in TOPOLOGY.queue_event_sources}
    assert consumers["later-jobs"] == "later-jobs" and consumers["ops-jobs"] == "ops-jobs"
    assert TOPOLOGY.queue("ops-jobs").dead_letter_queue == "ops-jobs-dlq"
    assert TOPOLOGY.queue("ops-jobs").max_receive_count == TOPOLOGY.queue("later-jobs").max_receive_count
    assert SCHEDULE_LATER_ENV[E.LATER_TARGET_ARN] == Ref(kind="queue", id="later-jobs", attr="arn")
    assert SCHEDULE_LATER_ENV[E.LATER_OPS_TARGET_ARN] == Ref(kind="queue", id="ops-jobs", attr="arn")


def test_a_job_of_operations_the_later_jobs_queue_received_is_sent_on_once_as_soon_as_possible():
    later, clock = FakeLater(), FixedClock()
    job = {"kind": "renew_authorization", "order_id": ORDER}
    send_on = SendOn(later, clock)
    assert send_on("0b6f7c1e-4b59-4f0e-9d67-2f3f1c1e9a10", job) == SENT_ON
    assert send_on("0b6f7c1e-4b59-4f0e-9d67-2f3f1c1e9a10", job) == SENT_ON  # the same message, redelivered
    assert list(later.pending) == [sent_on_name("0b6f7c1e-4b59-4f0e-9d67-2f3f1c1e9a10")]
    assert later.take_due(clock.now(), queue="later-jobs") == []
    assert later.take_due(clock.now(), queue="ops-jobs") == [job]
