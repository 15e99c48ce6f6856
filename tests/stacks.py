"""The local stack a test module starts for itself: seeded with the catalog and stock, with the merchant's settings
(deploy parameters, by id) the module needs, stopped when the module is done."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def seeded_stack(**parameter_values: str) -> Iterator[Any]:
    """Use as a module fixture's body: `yield from seeded_stack(**{"feedback-after-hours": "0"})`."""
    from dawra.adapters.dynamo.inventory import DynamoInventory
    from dawra.local.seed import seed
    from dawra.local.stack import LocalStack

    stack = LocalStack(background_pollers=True)
    stack.cloud.parameter_values.update(parameter_values)
    stack.start()
    try:
        seed(DynamoInventory(stack.cloud.resolve_ref("table", "inventory", "name")))
        yield stack
    finally:
        stack.stop()


def operator(stack: Any, role: str) -> Any:
    """An operator of `role`, new to this call, signed in on `stack`'s back-office API (a dawra.local.actors.AdminApi)."""
    import uuid

    from dawra.local.actors import AdminApi
    from dawra.local.scenario import sign_in
    from dawra.local.seed import create_operator

    username = f"{role}-{uuid.uuid4().hex[:8]}"
    created = create_operator(stack.cloud, username, f"{username}@dawra.example", (role,))
    return AdminApi(stack.gateway.url, sign_in(stack, created))


def eventually(check: Any, timeout_s: float = 30, every_s: float = 0.1) -> Any:
    """What `check()` returns once it is truthy (asked every `every_s`), or its last answer after `timeout_s`."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every_s)
