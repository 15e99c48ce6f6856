"""The reservation's read of the locations and stock (DynamoInventory.locations_and_levels, decision 118): one
BatchGetItem while no location changed, and every change made through put_location seen by the next reservation
(decision 108 reverted a timer that let a location switched to pick and pack ship straight away for a minute)."""

from __future__ import annotations

from typing import Any

import pytest
from stacks import seeded_stack

from dawra.adapters.dynamo import inventory as inventory_module
from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.codec import to_item
from dawra.adapters.dynamo.inventory import DynamoInventory


@pytest.fixture(scope="module")
def stack():
    yield from seeded_stack()


class Calls:
    """The DynamoDB operations a client makes (botocore's before-call event)."""

    def __init__(self, client: Any):
        self.made: list[str] = []
        client.meta.events.register("before-call.dynamodb", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        self.made.append(model.name)

    def during(self, action) -> tuple[Any, list[str]]:
        start = len(self.made)
        result = action()
        return result, self.made[start:]


def fresh(stack) -> tuple[DynamoInventory, Calls]:
    client = stack.cloud.client("dynamodb")
    return DynamoInventory(stack.cloud.resolve_ref("table", "inventory", "name"), client), Calls(client)


def test_one_request_while_no_location_changed(stack):
    inventory, calls = fresh(stack)
    (locations, levels), first = calls.during(lambda: inventory.locations_and_levels(["MUG-CLASSIC"]))
    assert first == ["Query", "BatchGetItem"]  # the locations with their version, then the stock
    assert {loc.location_id for loc in locations} == {loc.location_id for loc in inventory.locations()}
    assert levels and {sku for sku, _ in levels} == {"MUG-CLASSIC"}
    assert {at for _, at in levels} <= {loc.location_id for loc in locations}

    (again, levels_again), second = calls.during(lambda: inventory.locations_and_levels(["MUG-CLASSIC"]))
    assert second == ["BatchGetItem"]  # the stock and the version, in one read
    assert again == locations and levels_again == levels


def test_a_location_changed_is_seen_by_the_next_reservation(stack):
    inventory, calls = fresh(stack)
    locations, _ = inventory.locations_and_levels(["MUG-CLASSIC"])
    riyadh = next(loc for loc in locations if loc.location_id == "riyadh-dc")
    assert riyadh.preparation != "pick_pack"

    DynamoInventory(inventory.table.name).put_location(riyadh.model_copy(update={"preparation": "pick_pack"}))
    try:
        (seen, _), made = calls.during(lambda: inventory.locations_and_levels(["MUG-CLASSIC"]))
        assert made == ["BatchGetItem", "Query"]  # the version moved on: read again (same locations: same stock)
        assert next(loc for loc in seen if loc.location_id == "riyadh-dc").preparation == "pick_pack"
    finally:
        DynamoInventory(inventory.table.name).put_location(riyadh)
    (back, _), _ = calls.during(lambda: inventory.locations_and_levels(["MUG-CLASSIC"]))
    assert next(loc for loc in back if loc.location_id == "riyadh-dc").preparation == riyadh.preparation


def test_a_location_changed_by_hand_is_seen_after_the_backstop(stack, monkeypatch):
    """Written without put_location (no version moved on): kept at most LOCATIONS_VERSIONED_MAX_AGE_S."""
    inventory, calls = fresh(stack)
    locations, _ = inventory.locations_and_levels(["MUG-CLASSIC"])
    jeddah = next(loc for loc in locations if loc.location_id != "riyadh-dc")
    client = inventory.table.client
    item = {**keys.location_key(jeddah.location_id), **jeddah.model_dump(mode="json"), "name": "Renamed by hand"}
    client.put_item(TableName=inventory.table.name, Item=to_item(item))
    try:
        (kept, _), made = calls.during(lambda: inventory.locations_and_levels(["MUG-CLASSIC"]))
        assert made == ["BatchGetItem"] and next(
            loc for loc in kept if loc.location_id == jeddah.location_id).name == jeddah.name

        monkeypatch.setattr(inventory_module, "LOCATIONS_VERSIONED_MAX_AGE_S", 0.0)
        (seen, _), made = calls.during(lambda: inventory.locations_and_levels(["MUG-CLASSIC"]))
        assert made == ["Query", "BatchGetItem"]
        assert next(loc for loc in seen if loc.location_id == jeddah.location_id).name == "Renamed by hand"
    finally:
        DynamoInventory(inventory.table.name).put_location(jeddah)


def test_the_version_is_not_a_location(stack):
    inventory, _ = fresh(stack)
    location = inventory.locations()[0]
    inventory.put_location(location)  # the version item exists from here on
    assert all(loc.location_id for loc in inventory.locations())
    assert len(inventory.locations()) == len({loc.location_id for loc in inventory.locations()})
