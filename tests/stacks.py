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
