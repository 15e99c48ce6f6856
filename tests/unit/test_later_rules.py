"""Jobs for later: the rules a schedule's name, time and body follow (dawra/contracts/later.py, used by the adapter,
the embedded cloud's schedule poller and the fake alike), and the fake's own semantics (tests/fakes.py FakeLater)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fakes import FakeLater

from dawra.contracts.later import (
    ASAP_LEAD,
    MAX_JOB_BYTES,
    at_expression,
    check_name,
    fire_time,
    job_body,
    parse_at,
)
from dawra.domain.errors import TransientError

NOW = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
JOB = {"kind": "ask_for_feedback", "order_id": "ord_" + "a" * 32}


@pytest.mark.parametrize("name", ["feedback-ord_" + "a" * 32, "a", "x" * 64, "quiet-hours.sms_1"])
def test_names_eventbridge_scheduler_accepts_pass(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 65, "feedback ord_1", "feedback/ord_1", "sms:ord_1", "طلب-1",
                                  "feedback-ord_1\n"])
def test_names_it_refuses_are_refused_without_quoting_them(name):
    with pytest.raises(ValueError, match="1 to 64 letters") as refused:
        check_name(name)
    assert not name or name not in str(refused.value)


def test_a_job_is_sent_as_compact_json_with_its_keys_sorted():
    body = job_body({"order_id": "ord_1", "kind": "ask_for_feedback", "note": "شكرا"})
    assert body == '{"kind":"ask_for_feedback","note":"شكرا","order_id":"ord_1"}'
    assert json.loads(body)["note"] == "شكرا"


@pytest.mark.parametrize("job", [{"order_id": "ord_1"}, {"kind": ""}, {"kind": "x", "n": 1}, {"kind": "x", 1: "y"}])
def test_a_job_is_an_object_of_strings_that_names_its_kind(job):
    with pytest.raises(ValueError, match="a job"):
        job_body(job)


def test_a_job_is_small():
    job_body({"kind": "x", "blob": "y" * (MAX_JOB_BYTES - 100)})
    with pytest.raises(ValueError, match="at most"):
        job_body({"kind": "x", "blob": "y" * MAX_JOB_BYTES})


def test_a_later_time_is_kept_and_rounded_up_to_the_second():
    assert fire_time(NOW + timedelta(days=3), NOW) == NOW + timedelta(days=3)
    assert fire_time(NOW + timedelta(days=3, microseconds=1), NOW) == NOW + timedelta(days=3, seconds=1)


@pytest.mark.parametrize("when", [NOW - timedelta(days=2), NOW, NOW + timedelta(seconds=59)])
def test_a_time_past_or_less_than_a_minute_ahead_means_a_minute_from_now(when):
    assert timedelta(minutes=1) == ASAP_LEAD
    assert fire_time(when, NOW) == NOW + ASAP_LEAD


def test_times_in_other_zones_are_taken_as_the_same_instant_and_naive_times_are_refused():
    riyadh = timezone(timedelta(hours=3))
    assert fire_time(datetime(2026, 11, 26, 12, 0, tzinfo=riyadh), NOW) == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        fire_time(datetime(2026, 11, 26, 12, 0), NOW)  # naive: refused


def test_the_at_expression_is_utc_and_reads_back():
    moment = datetime(2026, 11, 26, 12, 30, 5, tzinfo=timezone(timedelta(hours=3)))
    assert at_expression(moment) == "at(2026-11-26T09:30:05)"
    assert parse_at("at(2026-11-26T09:30:05)") == datetime(2026, 11, 26, 9, 30, 5, tzinfo=UTC)
    for other in ("rate(5 minutes)", "cron(0 9 * * ? *)", "at(2026-11-26 09:30:05)"):
        with pytest.raises(ValueError, match="at\\("):
            parse_at(other)


def test_the_fake_keeps_the_first_job_of_a_name_while_it_is_pending():
    later = FakeLater()
    later.at("feedback-ord_1", NOW + timedelta(days=3), JOB)
    later.at("feedback-ord_1", NOW + timedelta(days=9), {**JOB, "order_id": "ord_" + "b" * 32})
    assert later.take_due(NOW + timedelta(days=3) - timedelta(seconds=1)) == []
    assert later.take_due(NOW + timedelta(days=3)) == [JOB]
    assert later.take_due(NOW + timedelta(days=30)) == []  # delivered once


def test_the_fake_hands_out_due_jobs_oldest_first_and_frees_their_names():
    later = FakeLater()
    later.at("b", NOW + timedelta(hours=2), {"kind": "second"})
    later.at("a", NOW + timedelta(hours=1), {"kind": "first"})
    later.at("c", NOW - timedelta(hours=1), {"kind": "overdue"})  # a past time is due at once
    assert [job["kind"] for job in later.take_due(NOW + timedelta(hours=3))] == ["overdue", "first", "second"]
    later.at("a", NOW + timedelta(hours=5), {"kind": "again"})  # the name is free once its job was delivered
    assert later.pending["a"][1] == {"kind": "again"}


def test_the_fake_refuses_what_the_adapter_refuses_and_can_fail_like_aws():
    later = FakeLater()
    with pytest.raises(ValueError, match="1 to 64"):
        later.at("feedback ord_1", NOW, JOB)
    with pytest.raises(ValueError, match="kind"):
        later.at("feedback-ord_1", NOW, {"order_id": "ord_1"})
    with pytest.raises(ValueError, match="timezone-aware"):
        later.at("feedback-ord_1", datetime(2026, 11, 26, 12, 0), JOB)  # naive
    later.failures.append(TransientError("injected: CreateSchedule throttled"))
    with pytest.raises(TransientError):
        later.at("feedback-ord_1", NOW, JOB)
    assert later.pending == {}
