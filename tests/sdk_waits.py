"""Waits that park their task token with Step Functions' own DynamoDB write (the order's WaitForDelivery: decision
117; a return's WaitForParcel and WaitForInspection: 121), as the adapter tier checks them on the embedded cloud:
states of an ASL file run alone, the write made by hand as the ASL names it, and the item read back raw."""

from __future__ import annotations

import json
import time
from typing import Any

from dawra.adapters.dynamo.codec import from_item, to_item

TABLE_PLACEHOLDER = "${OrdersTableName}"


def with_table(state: dict[str, Any], table: str) -> dict[str, Any]:
    """`state` with the Orders table's name where the ASL file has its placeholder."""
    resolved: dict[str, Any] = json.loads(json.dumps(state).replace(TABLE_PLACEHOLDER, table))
    return resolved


def the_write(state: dict[str, Any], table: str, key: dict[str, str], token: str) -> dict[str, Any]:
    """The UpdateItem a wait `state` makes, with its key (the item's pk and sk) and its task token resolved."""
    parameters = with_table(state, table)["Parameters"]
    parameters["Key"] = {"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}}
    parameters["ExpressionAttributeValues"][":token"] = {"S": token}
    return parameters


def raw(client: Any, table: str, key: dict[str, str]) -> dict[str, Any]:
    """The item as stored (plain attributes as they are, the packed body still packed)."""
    found: dict[str, Any] = from_item(client.get_item(TableName=table, Key=to_item(key), ConsistentRead=True)["Item"])
    return found


def alone(stack: Any, machine_id: str, name: str, states: dict[str, dict[str, Any]]) -> str:
    """A state machine of `states` alone (the first starts it; the Orders table resolved), run with the role of the
    machine `machine_id`; every state they lead to that is not among them is a Succeed of the same name, so which one
    an execution ends in says where the real machine would have gone."""
    table = stack.cloud.resolve_ref("table", "orders", "name")
    resolved = {state_name: with_table(state, table) for state_name, state in states.items()}
    nexts = set()
    for state in resolved.values():
        nexts |= {state.get("Next"), state.get("Default")} | {c["Next"] for c in state.get("Catch", [])}
        nexts |= {rule["Next"] for rule in state.get("Choices", [])}
    stubs = {n: {"Type": "Succeed"} for n in nexts - {None} - set(resolved)}
    sfn = stack.cloud.client("stepfunctions")
    role = sfn.describe_state_machine(
        stateMachineArn=stack.cloud.resolve_ref("state_machine", machine_id, "arn"))["roleArn"]
    definition = {"StartAt": next(iter(resolved)), "States": {**stubs, **resolved}}
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)["stateMachineArn"]


def entered(stack: Any, execution_arn: str, until: str = "SUCCEEDED") -> list[str]:
    """The states an execution entered, once it has reached `until` (within 30 s)."""
    sfn = stack.cloud.client("stepfunctions")
    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=execution_arn)["status"] != until and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sfn.describe_execution(executionArn=execution_arn)["status"] == until
    history = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in history
            if e["type"].endswith("StateEntered")]
