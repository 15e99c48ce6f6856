"""The embedded cloud's wake-up call: a waiter checks again when something changed, and gives up at its timeout."""

import threading

from dawra.local import activity


def test_a_waiter_sees_what_changed_after_it_last_looked():
    state: dict[str, str] = {}
    checks: list[str | None] = []

    def check() -> str | None:
        checks.append(state.get("status"))
        return state.get("status")

    def later() -> None:
        state["status"] = "SUCCEEDED"
        activity.changed()

    timer = threading.Timer(0.05, later)
    timer.start()
    try:
        assert activity.wait_for(check, timeout_s=30, longest_sleep_s=30) == "SUCCEEDED"
    finally:
        timer.cancel()
    assert checks[0] is None and checks[-1] == "SUCCEEDED"
    assert len(checks) <= 3  # checked when it started and when woken, not in a loop


def test_a_waiter_gives_up_at_its_timeout_with_none():
    assert activity.wait_for(lambda: None, timeout_s=0.05, longest_sleep_s=0.01) is None


def test_a_change_between_the_check_and_the_sleep_is_not_missed():
    calls = [0]

    def check() -> str | None:
        calls[0] += 1
        if calls[0] == 1:
            activity.changed()  # it happens right after this look, before the waiter sleeps
            return None
        return "seen"

    assert activity.wait_for(check, timeout_s=30, longest_sleep_s=30) == "seen"


def test_a_waiter_on_a_key_is_not_checked_for_other_changes_and_is_woken_by_its_own():
    checks: list[str | None] = []
    state: dict[str, str] = {}

    def check() -> str | None:
        checks.append(state.get("status"))
        return state.get("status")

    def later() -> None:
        for _ in range(20):
            activity.changed("another-function")  # others' invocations: not what this waiter waits on
        activity.changed()
        state["status"] = "SUCCEEDED"
        activity.changed("arn:execution:mine")

    timer = threading.Timer(0.05, later)
    timer.start()
    try:
        assert activity.wait_for(check, timeout_s=30, longest_sleep_s=30, on=("arn:execution:mine",)) == "SUCCEEDED"
    finally:
        timer.cancel()
    assert checks == [None, "SUCCEEDED"]  # once at the start, once when its own key changed
    assert "arn:execution:mine" not in activity._watchers  # nothing is kept for a key nobody waits on any more
