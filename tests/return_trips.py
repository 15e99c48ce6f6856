"""What the integration tests of returns share: a delivered order on the local stack, the returns use cases as the
customer's page and the console call them (dawra.bootstrap.build_returns, against the embedded cloud), the return
read back from DynamoDB, the carrier reporting on a return parcel, and the return's execution."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from parcels import carrier, place_order, shipped_tracking, wait_until

from dawra.domain.access import Actor, Role
from dawra.domain.returns import RefundMethod, Return, ReturnMethod, ReturnReason, ReturnRequest

AGENT = Actor(user_id="u-agent", username="agent@dawra.example", roles=frozenset({Role.AGENT}))
WAREHOUSE = Actor(user_id="u-wh", username="warehouse@dawra.example", roles=frozenset({Role.WAREHOUSE}))


def returns_of(stack: Any) -> Any:
    """The returns use cases as a deployed function builds them, starting returns on the stack's state machine."""
    from dawra.bootstrap import build_returns
    from dawra.contracts.env import settings

    arn = stack.cloud.resolve_ref("state_machine", "return-lifecycle", "arn")
    return build_returns(settings().model_copy(update={"return_lifecycle_arn": arn}))


def delivered_order(stack: Any, email: str, lines: dict[str, int]) -> str:
    order_id = place_order(stack, email, lines)
    carrier(stack).deliver(shipped_tracking(stack, order_id))
    wait_until(stack, order_id, lambda o: o["status"] == "COMPLETED", what="not delivered")
    return order_id


def asking(lines: dict[str, tuple[int, ReturnReason]], method: ReturnMethod = ReturnMethod.LABEL,
           refund: RefundMethod = RefundMethod.ORIGINAL_PAYMENT, location: str = "riyadh-dc") -> ReturnRequest:
    return ReturnRequest(lines=[(sku, quantity, reason, "") for sku, (quantity, reason) in lines.items()],
                         method=method, refund_method=refund, location_id=location)


def the_return(stack: Any, order_id: str, return_id: str) -> Return:
    from dawra.adapters.dynamo.orders import DynamoOrders

    order = DynamoOrders(stack.cloud.resolve_ref("table", "orders", "name")).get(order_id)
    assert order is not None
    return order.return_of(return_id)


def return_when(stack: Any, order_id: str, return_id: str, ready: Callable[[Return], bool], what: str,
                timeout_s: float = 60) -> Return:
    deadline = time.monotonic() + timeout_s
    while True:
        ret = the_return(stack, order_id, return_id)
        if ready(ret):
            return ret
        if time.monotonic() > deadline:
            raise TimeoutError(f"return {return_id}: {what}: {ret.status}")
        time.sleep(0.05)


def status_is(*statuses: str) -> Callable[[Return], bool]:
    return lambda ret: ret.status.value in statuses


def parked(status: str) -> Callable[[Return], bool]:
    """In `status` with the workflow's task token kept on it (its wait has parked)."""
    return lambda ret: ret.status.value == status and ret.resume_token is not None


def report_return(stack: Any, tracking: str, status: str, **extra: Any) -> None:
    result = carrier(stack).post(tracking, status, event_id=f"ret-{tracking}-{status}", **extra)
    assert result.status == 202, result.body


def execution(stack: Any, return_id: str, timeout_s: float = 30) -> dict[str, Any]:
    """The return's execution once it is no longer running (its status, and the states it went through)."""
    arn = stack.cloud.resolve_ref("state_machine", "return-lifecycle", "arn").replace(
        ":stateMachine:", ":execution:") + f":{return_id}"
    sfn = stack.cloud.client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    return {"status": sfn.describe_execution(executionArn=arn)["status"], "states": entered}
