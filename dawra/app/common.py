"""What every use case shares: loading the aggregate, retrying a change that raced another, time as text, and the
waiting tasks' park-or-answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from dawra.domain.errors import ConcurrentChange, OrderNotFound, TransientError
from dawra.domain.time import iso

if TYPE_CHECKING:  # types only: a function that loads no order (start-lifecycle) imports none of the domain
    from dawra.domain.order import Order
    from dawra.ports import Clock, OrderRepository, UnitOfWork, Workflow

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


@dataclass(frozen=True)
class Resume:
    """A waiting task's answer at once: the workflow goes on with `output`."""

    output: dict[str, Any]


@dataclass(frozen=True)
class Fail:
    """A waiting task's answer at once: the task ends with `error` (the Step Functions error name) and `cause`."""

    error: str
    cause: str


def stopped(order: Order) -> Fail | None:
    """The order's cancellation was asked for: its workflow's task fails with who asked (Order.cancellation_stop)."""
    stop = order.cancellation_stop()
    return None if stop is None else Fail(type(stop).__name__, stop.message)


class TaskWait:
    """A waitForTaskToken task that parks its token on the order (WaitWhileOnHold, WaitForPacking, WaitForCollection,
    WaitForStock, DeliveryReportedFirst, WaitForLateDelivery; WaitForDelivery writes its own: decision 117): whatever
    ends the wait later answers the stored token. If it happened before the token was stored, nothing else would
    answer the workflow: the task itself does, at once."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, workflow: Workflow):
        self.orders, self.uow, self.workflow = orders, uow, workflow

    def park_or_answer(self, order_id: str, task_token: str, what: str, *, parks: Callable[[Order], bool],
                       park: Callable[[Order], object],
                       answer: Callable[[Order], Resume | Fail | None]) -> dict[str, bool]:
        """Load the order and, when `parks(order)` (still awaited, this token not stored yet), store the token
        (`park`) and commit, re-read and re-decided while the commit loses a race. Then `answer(order)` ends the task
        now (resumed or failed) or, None, leaves it waiting."""
        order = retry_on_race(lambda: self._parked(order_id, parks, park), what)
        answered = answer(order)
        if isinstance(answered, Resume):
            self.workflow.resume(task_token, answered.output)
        elif isinstance(answered, Fail):
            self.workflow.fail(task_token, answered.error, answered.cause)
        return {"waiting": answered is None}

    def _parked(self, order_id: str, parks: Callable[[Order], bool], park: Callable[[Order], object]) -> Order:
        order = load(self.orders, order_id)
        if parks(order):
            park(order)
            self.uow.commit(order=order)
        return order


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
