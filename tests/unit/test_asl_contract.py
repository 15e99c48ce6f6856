"""The state machine passes each task exactly its contract's fields, reads only what tasks return, never waits
without a timeout, and gives every compensating task its own Retry and Catch."""

import json
import re
from pathlib import Path
from typing import get_args

import pytest
from pydantic import ValidationError

from dawra.contracts.tasks import TASKS, AllocateTask, CompensateTask, Shipped, ShipTask
from dawra.domain.shipment import NOT_LEFT

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads((ROOT / "statemachines" / "order_lifecycle.asl.json").read_text())


def states(machine: dict):
    for name, state in machine["States"].items():
        yield name, state
        if state["Type"] == "Map":
            yield from states(state["ItemProcessor"])


TASK_STATES = {name: state for name, state in states(ASL) if state["Type"] == "Task"}
CHOICES = {name: state for name, state in states(ASL) if state["Type"] == "Choice"}
FUNCTION_TASKS = {name: state for name, state in TASK_STATES.items() if ":lambda:invoke" in state["Resource"]}
COMPENSATION = ["ReleaseStock", "CancelOrder", "AskAPerson"]


def test_the_only_tasks_without_a_function_are_the_delivery_waits():
    """They write their token themselves (decision 117; the write against the adapter's item:
    tests/adapters/test_delivery_wait_dynamo.py); refused, DidItShip says why, and a shipped parcel whose report came
    first goes to the function's wait. The only parcel's wait outside the Map (decision 122): below."""
    assert set(TASK_STATES) - set(FUNCTION_TASKS) == {"WaitForDelivery", "WaitForItsDelivery"}
    first = TASK_STATES["WaitForDelivery"]["Catch"][0]
    assert first["ErrorEquals"] == ["DynamoDb.ConditionalCheckFailedException"]
    assert first["Next"] == "DidItShip" and first["ResultPath"] is None  # the shipping outcome is kept for it
    # Decision 123: a write that fails otherwise goes there too, after the catches of the errors the wait's token is
    # answered with (States.TaskFailed matches every error but the timeout, so it must come last).
    *answered, last = TASK_STATES["WaitForDelivery"]["Catch"]
    assert last == {"ErrorEquals": ["States.TaskFailed"], "ResultPath": None, "Next": "DidItShip"}
    assert {"States.Timeout", "ReturnedToSender"} <= {error for c in answered for error in c["ErrorEquals"]}
    assert CHOICES["DidItShip"]["Default"] == "DeliveryReportedFirst"
    assert TASK_STATES["DeliveryReportedFirst"]["Parameters"]["Payload"]["action"] == "await_delivery"


def test_a_shipped_parcel_goes_straight_to_its_delivery_wait_and_every_other_outcome_has_its_own():
    """Decision 119: ShipShipment -> WaitForDelivery, no Choice on an ordinary order's path. What keeps that right:
    every outcome but `shipped` leaves the shipment in a status the wait's write refuses (it has not left:
    dawra.domain.shipment.NOT_LEFT), and DidItShip routes each of them to its own wait, none to a delivery state."""
    assert TASK_STATES["ShipShipment"]["Next"] == "WaitForDelivery"
    routed = {rule["StringEquals"]: rule["Next"] for rule in CHOICES["DidItShip"]["Choices"]
              if rule["Variable"] == "$.shipping.outcome"}
    outcomes = set(get_args(Shipped.model_fields["outcome"].annotation))
    assert set(routed) == outcomes - {"shipped"}
    assert not {"WaitForDelivery", "DeliveryReportedFirst"} & set(routed.values())
    write = TASK_STATES["WaitForDelivery"]["Parameters"]
    moving = {value["S"] for name, value in write["ExpressionAttributeValues"].items()
              if name in write["ConditionExpression"]}
    assert moving and not moving & {status.value for status in NOT_LEFT}
    # and its wait is long enough that the refusal, not the timeout, decides what follows
    assert all(Shipped(outcome=outcome).delivery_timeout_s >= 3600 for outcome in outcomes - {"shipped"})


def test_an_order_in_one_parcel_ships_and_waits_outside_the_map_and_everything_else_goes_through_it():
    """Decision 122: after its stock is reserved (at once or when it arrived) an order ships its only parcel and parks
    on it outside the Map (two states in all since decision 124: ReserveAndShip, WaitForItsDelivery). Every other way out of those two states leads into
    ShipEachShipment, where the branch decides again, except a failure of the shipping itself, which goes where the
    Map's does. The fast wait makes exactly the Map's write, on the shipment ShipTheOnlyParcel names, which refuses
    any shipment that has not left (so an order in several parcels, whose first shipment is named, is refused)."""
    top = ASL["States"]
    # Decision 124: the reservation and the only parcel in one task; ShipTheOnlyParcel after a reservation made apart
    assert ASL["StartAt"] == "ReserveAndShip" and top["ReserveAndShip"]["Next"] == "WaitForItsDelivery"
    assert top["ReserveStock"]["Next"] == top["WaitForStock"]["Next"] == "ShipTheOnlyParcel"
    ship, wait = top["ShipTheOnlyParcel"], top["WaitForItsDelivery"]
    assert ship["Next"] == "WaitForItsDelivery" and wait.get("End") is True
    both = top["ReserveAndShip"]
    assert both["ResultPath"] == "$.allocation" and ship["ResultPath"] == "$.allocation.parcel"
    assert both["ResultSelector"] == {"shipments.$": "$.Payload.shipments", "parcel.$": "$.Payload.parcel"}
    # ReserveStock's catches, plus a ship-order function without this task (a rollback) sent to ReserveStock itself
    assert [c for c in both["Catch"] if c["Next"] != "ReserveStock"] == top["ReserveStock"]["Catch"]
    assert {"ErrorEquals": ["InvalidTaskInput"], "ResultPath": None, "Next": "ReserveStock"} in both["Catch"]
    assert both["Catch"][-1]["ErrorEquals"] == ["States.ALL"] and both["Retry"] == top["ReserveStock"]["Retry"]
    # Several parcels and a parcel that did not leave are answered, not failed (the refused write hands them over);
    # only a ship-order function that does not know this task (code rolled back under an execution started on this
    # definition) fails it, and is handed over too: ShipShipment is the task every version has.
    assert ship["Catch"][0] == {"ErrorEquals": ["InvalidTaskInput"], "ResultPath": None, "Next": "ShipEachShipment"}
    assert ship["Catch"][1] == top["ShipEachShipment"]["Catch"][-1]  # States.ALL -> ReleaseStock, as the Map's
    assert ship["Retry"] == TASK_STATES["ShipShipment"]["Retry"]
    (caught,) = wait["Catch"]  # every way the fast wait can end but a delivery: back to the Map, input kept
    assert caught["Next"] == "ShipEachShipment" and caught["ResultPath"] is None
    assert {"DynamoDb.ConditionalCheckFailedException", "States.Timeout", "States.TaskFailed"} <= set(
        caught["ErrorEquals"])
    mapped = TASK_STATES["WaitForDelivery"]
    assert wait["Resource"] == mapped["Resource"] and wait["Retry"] == mapped["Retry"]
    assert wait["TimeoutSecondsPath"] == "$.allocation.parcel.delivery_timeout_s"
    fast = json.dumps(wait["Parameters"]).replace("$.allocation.parcel.shipment_id", "$.shipment_id")
    assert fast == json.dumps(mapped["Parameters"])
    assert set(ship["ResultSelector"]) == {"shipment_id.$", "delivery_timeout_s.$"}


@pytest.mark.parametrize("name", sorted(FUNCTION_TASKS))
def test_each_task_passes_exactly_its_contract_fields(name):
    payload = TASK_STATES[name]["Parameters"]["Payload"]
    task_input, output = TASKS[payload["action"]]
    assert {key.removesuffix(".$") for key in payload} == set(task_input.model_fields)
    for path in TASK_STATES[name].get("ResultSelector", {}).values():
        field = re.fullmatch(r"\$\.Payload\.(\w+)", path)
        assert field and output is not None and field.group(1) in output.model_fields, path


# Which function's task union answers the actions sent to each function the ASL names (functions/*/app.py parse with
# these): a task sent to a function that does not know it fails at run time, which no other contract shows.
TASK_UNIONS = {"${AllocateStockFunctionArn}": AllocateTask, "${ShipOrderFunctionArn}": ShipTask,
               "${CompensateOrderFunctionArn}": CompensateTask}


@pytest.mark.parametrize("name", sorted(FUNCTION_TASKS))
def test_each_task_goes_to_the_function_that_answers_its_action(name):
    parameters = TASK_STATES[name]["Parameters"]
    union = TASK_UNIONS[parameters["FunctionName"]]
    action = parameters["Payload"]["action"]
    assert answers(union, action), f"{name} sends {action} to {parameters['FunctionName']}"


def answers(union, action: str) -> bool:
    """Does the task union know `action`? (Only the other fields are missing from this payload.)"""
    try:
        union.validate_python({"action": action})
    except ValidationError as error:
        return all(problem["type"] != "union_tag_invalid" for problem in error.errors())
    return True


def test_a_task_sent_to_the_wrong_function_is_told_apart():
    assert answers(ShipTask, "reserve_and_ship") and not answers(AllocateTask, "reserve_and_ship")
    assert answers(AllocateTask, "reserve_stock") and not answers(ShipTask, "reserve_stock")


def test_every_wait_has_a_timeout_and_a_next_step():
    waits = [state for state in TASK_STATES.values() if state["Resource"].endswith(".waitForTaskToken")]
    assert waits
    for state in waits:
        assert "TimeoutSeconds" in state or "TimeoutSecondsPath" in state
        assert any("States.Timeout" in c["ErrorEquals"] for c in state["Catch"])


@pytest.mark.parametrize("name", COMPENSATION)
def test_compensating_tasks_retry_everything_and_catch_what_is_left(name):
    state = TASK_STATES[name]
    assert any("States.ALL" in r["ErrorEquals"] for r in state["Retry"])
    assert any("States.ALL" in c["ErrorEquals"] for c in state["Catch"])


def test_every_task_retries_transient_errors():
    for name, state in FUNCTION_TASKS.items():
        assert any({"TransientError", "States.ALL"} & set(r["ErrorEquals"]) for r in state["Retry"]), name
    retried = {error for r in TASK_STATES["WaitForDelivery"]["Retry"] for error in r["ErrorEquals"]}
    assert {"DynamoDb.ThrottlingException", "DynamoDb.ProvisionedThroughputExceededException",
            "DynamoDb.InternalServerErrorException"} <= retried


def test_shipped_parcels_lead_to_a_person_not_to_cancellation():
    choice = ASL["States"]["HasAParcelLeft"]
    assert choice["Choices"][0]["Next"] == "AskAPerson" and choice["Default"] == "CancelOrder"
    assert ASL["States"]["ReleaseStock"]["Next"] == "HasAParcelLeft"
