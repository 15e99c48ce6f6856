"""What every use case shares: loading the aggregate, retrying a change that raced another, time as text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from dawra.domain.errors import ConcurrentChange, OrderNotFound, TransientError
from dawra.domain.order import Order
from dawra.domain.time import iso
from dawra.ports import Clock, OrderRepository

T = TypeVar("T")
ATTEMPTS = 5  # a change that raced another is re-read and re-decided this many times before giving up


def load(orders: OrderRepository, order_id: str) -> Order:
    order = orders.get(order_id)
    if order is None:
        raise OrderNotFound(f"order {order_id} does not exist")
    return order


def now_iso(clock: Clock) -> str:
    return iso(clock.now())


def retry_on_race(attempt: Callable[[], T], what: str, attempts: int = ATTEMPTS) -> T:
    """Run `attempt` (which reads, decides and commits) again while its commit loses a race. A race that keeps being
    lost is reported as transient: the caller's retry policy (the ASL's, a client's) takes it from there."""
    for _ in range(attempts):
        try:
            return attempt()
        except ConcurrentChange:
            continue
    raise TransientError(f"{what}: the order kept changing concurrently")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
