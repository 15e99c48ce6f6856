"""Jobs for later that reached the wrong queue: a job that may alert operations runs in the ops-jobs function
(dawra.contracts.jobs.for_operations, decision 93); one the later-jobs queue received (scheduled to that queue
before the ops-jobs queue existed) is scheduled again, as soon as possible, and the Later adapter sends it there."""

from __future__ import annotations

from collections.abc import Mapping

from dawra.ports import Clock, Later

SENT_ON = "sent on to the ops-jobs queue"


def sent_on_name(message_id: str) -> str:
    """One schedule per message received: a redelivery of it schedules nothing twice (while it is pending)."""
    return f"ops-{message_id}"[:64]


class SendOn:
    def __init__(self, later: Later, clock: Clock):
        self.later, self.clock = later, clock

    def __call__(self, message_id: str, job: Mapping[str, str]) -> str:
        self.later.at(sent_on_name(message_id), self.clock.now(), job)
        return SENT_ON
