"""Something happened in the embedded cloud: a wake-up call for whoever waits on it, instead of a polling loop.

The in-process Lambda runtime calls `changed()` when an invocation ends, and Step Functions' interpreter when an
execution ends (dawra/local/cloud.py patches both), so a driver waiting for an order to move on (the benchmark, a
demo) checks its condition only when something it could be waiting for has happened, and sleeps otherwise. The
check itself is the caller's (a read of the order, DescribeExecution): a wake-up says only "look again"."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_condition = threading.Condition()
_changes = [0]  # how many changes so far: a waiter that checked before a change sees the count moved on


def changed() -> None:
    with _condition:
        _changes[0] += 1
        _condition.notify_all()


def wait_for(check: Callable[[], T | None], timeout_s: float, longest_sleep_s: float = 1.0) -> T | None:
    """`check()` now, then again after each change in the cloud, until it answers something other than None (that
    answer) or `timeout_s` passes (None). A sleep never lasts longer than `longest_sleep_s` (what the cloud does
    without a Lambda or an execution ending, such as a poller's write, is seen at the latest then)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with _condition:
            seen = _changes[0]
        answer = check()
        if answer is not None:
            return answer
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        with _condition:
            if _changes[0] == seen:
                _condition.wait(min(remaining, longest_sleep_s))
