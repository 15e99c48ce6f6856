"""Jobs for later (dawra.ports.Later): the rules a job's schedule name, time and body follow, once.

A job is a small JSON object of strings naming its ``kind`` (``{"kind": "ask_for_feedback", "order_id": "ord_..."}``).
It is scheduled under a deterministic name (``feedback-<order id>``) with EventBridge Scheduler, which sends the
body, as it is, to the later-jobs queue at the time asked for, where the later-jobs function reads it
(dawra/contracts/jobs.py: one model per kind). The adapter (dawra/adapters/later.py), the embedded cloud's
scheduler poller and the unit tier's fake all use these functions, so the three agree on what a name, a time and
a body are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

# EventBridge Scheduler's rule for a schedule name (CreateSchedule's Name: 1 to 64 of these characters).
NAME = re.compile(r"[0-9A-Za-z._-]{1,64}")
# A job is a handful of ids, not a document: far below SQS's 256 KiB message limit.
MAX_JOB_BYTES = 8 * 1024
# A job is never scheduled nearer than this: EventBridge Scheduler fires an at() schedule within the minute after
# its time (60-second precision), and a time that has already passed when the request reaches it is not promised to
# fire. So "now", a time already past, or one a few seconds ahead all mean "as soon as possible": a minute from now.
ASAP_LEAD = timedelta(minutes=1)
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")


def check_name(name: str) -> str:
    """The name, if EventBridge Scheduler accepts it as a schedule name; ValueError otherwise (a programming error:
    names are built from ids, e.g. ``feedback-<order id>``). The name is not quoted: it is the caller's to know."""
    if not NAME.fullmatch(name):
        raise ValueError(f"a schedule name is 1 to 64 letters, digits, '-', '_' or '.' ({len(name)} "
                         "characters given)")
    return name


def job_body(job: Mapping[str, str]) -> str:
    """The job as the JSON text the queue receives: an object of strings with a non-empty ``kind``, keys sorted."""
    if not all(isinstance(key, str) and isinstance(value, str) for key, value in job.items()):
        raise ValueError("a job is a JSON object of strings")
    if not job.get("kind"):
        raise ValueError("a job names its kind")
    body = json.dumps(dict(job), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if len(body.encode()) > MAX_JOB_BYTES:
        raise ValueError(f"a job is at most {MAX_JOB_BYTES} bytes of JSON")
    return body


def fire_time(when: datetime, now: datetime, lead: timedelta = ASAP_LEAD) -> datetime:
    """When the job is scheduled for, in UTC: `when`, but never nearer than `lead` from `now`, rounded up to the
    whole second (an at() expression has seconds; rounding up never fires a job early)."""
    if when.tzinfo is None or now.tzinfo is None:
        raise ValueError("times are timezone-aware (UTC)")
    moment = max(when.astimezone(UTC), now.astimezone(UTC) + lead)
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + timedelta(seconds=1)


def at_expression(moment: datetime) -> str:
    """EventBridge Scheduler's one-time expression for `moment`, evaluated in UTC: ``at(yyyy-mm-ddThh:mm:ss)``."""
    if moment.tzinfo is None:
        raise ValueError("times are timezone-aware (UTC)")
    return f"at({moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S})"


def parse_at(expression: str) -> datetime:
    """The UTC moment of an ``at(...)`` expression (ValueError for a rate or cron expression)."""
    matched = _AT.fullmatch(expression)
    if matched is None:
        raise ValueError("not a one-time at(yyyy-mm-ddThh:mm:ss) expression")
    return datetime.fromisoformat(matched.group(1)).replace(tzinfo=UTC)
