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
