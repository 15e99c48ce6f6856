"""Something happened in the embedded cloud: a wake-up call for whoever waits on it, instead of a polling loop.

The in-process Lambda runtime calls `changed(<function name>)` when an invocation ends (and, for an invocation about
one order, such as a workflow task's, `changed(about(<function name>, <order id>))` too), and Step Functions'
interpreter `changed(<execution ARN>)` when an execution ends (dawra/local/cloud.py patches both), so a driver
waiting for an order to move on (the benchmark, a demo) checks its condition only when something it could be waiting
for has happened, and sleeps otherwise. A waiter may name what it waits `on` (an execution's ARN, the function that
books a parcel): it is then checked only when one of those changed, not on every invocation in the cloud (with eight
orders in flight, that was each waiter reading its order about eighty times per order). The check itself is the
caller's (a read of the order, DescribeExecution): a wake-up says only "look again"."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Collection
from typing import TypeVar

T = TypeVar("T")

_condition = threading.Condition()
ANYTHING = ""  # the key every change counts under: what a waiter that names nothing waits on
_changes: Counter[str] = Counter()  # changes so far, by key, for the keys someone waits on (and ANYTHING)
_watchers: Counter[str] = Counter()  # how many waiters wait on each key


def about(function_name: str, order_id: str) -> str:
    """The key of an invocation of `function_name` about one order: what a driver waiting on that order's step names
    (eight orders in flight: a booking of another order no longer wakes this order's waiter to read it again)."""
    return f"{function_name}#{order_id}"


def changed(*keys: str) -> None:
    """Something changed (about `keys`: a function's name, an execution's ARN): wake the waiters to look again."""
    with _condition:
        _changes[ANYTHING] += 1
        for key in keys:
            if _watchers[key]:
                _changes[key] += 1
        _condition.notify_all()


def _seen(keys: Collection[str]) -> int:
    return sum(_changes[key] for key in keys)


def _moved_on(keys: tuple[str, ...], seen: int) -> Callable[[], bool]:
    return lambda: _seen(keys) != seen


def wait_for(check: Callable[[], T | None], timeout_s: float, longest_sleep_s: float = 1.0,
             on: Collection[str] = ()) -> T | None:
    """`check()` now, then again after each change in the cloud (with `on`: each change about one of those keys),
    until it answers something other than None (that answer) or `timeout_s` passes (None). A sleep never lasts longer
    than `longest_sleep_s` (what the cloud does without such a change, such as a poller's write, is seen at the
    latest then)."""
    keys = tuple(on) or (ANYTHING,)
    deadline = time.monotonic() + timeout_s
    with _condition:
        _watchers.update(keys)
    try:
        while True:
            with _condition:
                seen = _seen(keys)
            answer = check()
            if answer is not None:
                return answer
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with _condition:
                _condition.wait_for(_moved_on(keys, seen), min(remaining, longest_sleep_s))
    finally:
        with _condition:
            _watchers.subtract(keys)
            for key in keys:
                if key != ANYTHING and not _watchers[key]:
                    del _watchers[key]
                    _changes.pop(key, None)
