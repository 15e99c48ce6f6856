"""The return workflow's state machine passes each task exactly its contract's fields, reads only what tasks
return, never waits without a timeout that leads somewhere, retries transient errors everywhere, hands any other
failure to a person, and tells its story in the order a merchant would."""

import json
import re
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from dawra.app.return_workflow import WAITING_IN
from dawra.contracts.returns import RETURN_TASKS

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads((ROOT / "statemachines" / "return_lifecycle.asl.json").read_text())
STATES = ASL["States"]
TASK_STATES = {name: state for name, state in STATES.items() if state["Type"] == "Task"}
FUNCTION_TASKS = {name: state for name, state in TASK_STATES.items() if ":lambda:invoke" in state["Resource"]}
WAITS = {name: state for name, state in TASK_STATES.items() if state["Resource"].endswith(".waitForTaskToken")}
# The waits that park their token with Step Functions' own write (decision 121), and the function that waits in
# their place when that write is refused.
WRITTEN_WAITS = {"WaitForParcel": ("parcel", "ParcelNewsCameFirst"), "WaitForInspection": ("inspection", "InspectedFirst")}


@pytest.mark.parametrize("name", sorted(FUNCTION_TASKS))
def test_each_task_passes_exactly_its_contract_fields(name):
    payload = TASK_STATES[name]["Parameters"]["Payload"]
    task_input, output = RETURN_TASKS[payload["action"]]
    assert {key.removesuffix(".$") for key in payload} == set(task_input.model_fields)
    for key, value in payload.items():  # fixed values (the action, what a wait waits for) are valid ones
        if not key.endswith(".$"):
            TypeAdapter(task_input.model_fields[key].annotation).validate_python(value)
    for path in TASK_STATES[name].get("ResultSelector", {}).values():
        field = re.fullmatch(r"\$\.Payload\.(\w+)", path)
        assert field and output is not None and field.group(1) in output.model_fields, path


def test_every_wait_has_a_timeout_read_from_a_task_and_a_next_step():
    assert set(WAITS) == {"WaitForApproval", "WaitForParcel", "ParcelNewsCameFirst", "WaitForInspection",
                          "InspectedFirst", "WaitForReplacement", "WaitForClaimDecision"}
    for state in WAITS.values():
        assert state["TimeoutSecondsPath"] in ("$.request.approval_timeout_s", "$.parcel.wait_s",
                                               "$.request.inspection_alert_s", "$.request.replacement_wait_s")
        [timeout] = [c for c in state["Catch"] if "States.Timeout" in c["ErrorEquals"]]
        assert timeout["Next"] in STATES
    assert WAITS["WaitForApproval"]["Catch"][0]["Next"] == "RequestExpired"
    for name in ("WaitForParcel", "ParcelNewsCameFirst"):
        assert _on_timeout(WAITS[name]) == "LabelExpired"
    for name in ("WaitForInspection", "InspectedFirst"):
        assert _on_timeout(WAITS[name]) == "InspectionOverdue"
    assert STATES["InspectionOverdue"]["Next"] == "WaitForInspection"  # alert, then wait again
    assert WAITS["WaitForReplacement"]["Catch"][0]["Next"] == "ReplacementOverdue"
    assert STATES["ReplacementOverdue"]["Next"] == "ReturnNeedsAPerson"  # a replacement lost: a person
    # A claim nobody decided is never dropped: operations are alerted and it waits again.
    assert WAITS["WaitForClaimDecision"]["Catch"][0]["Next"] == "ClaimOverdue"
    assert STATES["ClaimOverdue"]["Next"] == "WaitForClaimDecision"


def _on_timeout(state: dict) -> str:
    [timeout] = [c["Next"] for c in state["Catch"] if "States.Timeout" in c["ErrorEquals"]]
    return timeout


@pytest.mark.parametrize("name", sorted(WRITTEN_WAITS))
def test_a_written_wait_parks_only_in_the_statuses_its_function_parks_in_and_else_hands_over_to_it(name):
    """Decision 121: Step Functions writes the token (and the wait it belongs to) onto the return itself, only in
    the statuses the function's wait parks in (WAITING_IN); refused, the function waits in its place, which ends the
    wait at once when what it waits for already happened. Both go on as the wait did before."""
    waiting_for, instead = WRITTEN_WAITS[name]
    wait, fallback = STATES[name], STATES[instead]
    assert wait["Resource"] == "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken"
    write = wait["Parameters"]
    assert write["UpdateExpression"] == "SET resume_token = :token, resume_for = :waiting_for, version = version + :one"
    values = write["ExpressionAttributeValues"]
    assert values[":token"] == {"S.$": "$$.Task.Token"} and values[":waiting_for"] == {"S": waiting_for}
    assert values[":one"] == {"N": "1"} and write["ExpressionAttributeNames"] == {"#status": "status"}
    named = re.fullmatch(r"#status IN \((.*)\)", write["ConditionExpression"]).group(1).split(", ")
    assert {values[placeholder]["S"] for placeholder in named} == {s.value for s in WAITING_IN[waiting_for]}
    # Refused, or failed otherwise (an execution started before a rollback, its role without the grant, or DynamoDB
    # still throttling after the retries): the function waits instead. States.TaskFailed is every error but
    # States.Timeout, which the next catch keeps for the wait's own timeout; nothing fails these waits' tokens.
    refused = wait["Catch"][0]
    assert refused == {"ErrorEquals": ["DynamoDb.ConditionalCheckFailedException", "States.TaskFailed"],
                       "ResultPath": None, "Next": instead}
    assert "States.Timeout" in wait["Catch"][1]["ErrorEquals"]
    assert fallback["Parameters"]["Payload"]["action"] == "wait_for_return"
    assert fallback["Parameters"]["Payload"]["waiting_for"] == waiting_for
    for key in ("TimeoutSecondsPath", "ResultPath", "Next"):
        assert fallback[key] == wait[key], key
    assert fallback["Catch"] == wait["Catch"][1:]
    retried = {error for r in wait["Retry"] for error in r["ErrorEquals"]}
    assert {"DynamoDb.ThrottlingException", "DynamoDb.ProvisionedThroughputExceededException",
            "DynamoDb.InternalServerErrorException"} <= retried


def test_every_task_retries_transient_errors_and_hands_the_rest_to_a_person():
    for name, state in FUNCTION_TASKS.items():
        assert any({"TransientError", "States.ALL"} & set(r["ErrorEquals"]) for r in state["Retry"]), name
    for name, state in TASK_STATES.items():
        assert any("States.ALL" in c["ErrorEquals"] for c in state["Catch"]), name
    person = STATES["AskAPersonAboutTheReturn"]
    assert person["Parameters"]["Payload"]["action"] == "alert_ops_about_return"
    assert person["Next"] == "ReturnNeedsAPerson" and STATES["ReturnNeedsAPerson"]["Type"] == "Fail"


def test_every_next_names_a_state_and_every_state_is_reachable():
    targets = {"ReturnRequested"}
    for state in STATES.values():
        targets |= {state.get("Next"), state.get("Default")} | {c["Next"] for c in state.get("Choices", [])}
        targets |= {c["Next"] for c in state.get("Catch", [])}
    targets.discard(None)
    assert targets == set(STATES)


def test_the_happy_path_reads_as_the_story_of_a_return():
    path, name = [], ASL["StartAt"]
    choose = {"NeedsApproval": "IssueLabelOrInstructions", "WasAnExchangeAsked": "WaitForInspection",
              "WasAnythingRefunded": "Close"}
    while name:
        path.append(name)
        state = STATES[name]
        name = choose.get(name) or state.get("Next")
    assert path == ["ReturnRequested", "NeedsApproval", "IssueLabelOrInstructions", "WaitForParcel",
                    "WasAnExchangeAsked", "WaitForInspection", "Refund", "WasAnythingRefunded", "Close", "Closed"]


def test_an_exchange_reads_as_its_story_and_a_refused_one_goes_to_a_person():
    def walk(choose):
        path, name = [], ASL["StartAt"]
        while name:
            path.append(name)
            name = choose.get(name) or STATES[name].get("Next")
        return path

    on_receipt = {"NeedsApproval": "IssueLabelOrInstructions", "WasAnExchangeAsked": "ShipTheExchange",
                  "WasAnythingRefunded": "WaitForReplacement"}
    assert walk(on_receipt) == [
        "ReturnRequested", "NeedsApproval", "IssueLabelOrInstructions", "WaitForParcel", "WasAnExchangeAsked",
        "ShipTheExchange", "WaitForInspection", "Refund", "WasAnythingRefunded", "WaitForReplacement", "Close",
        "Closed"]
    assert walk({**on_receipt, "NeedsApproval": "ShipTheExchangeFirst", "WasAnExchangeAsked": "WaitForInspection"}
                )[:4] == ["ReturnRequested", "NeedsApproval", "ShipTheExchangeFirst", "IssueLabelOrInstructions"]
    # The Choice rules that send an exchange elsewhere read the contract's words.
    first = [c for c in STATES["NeedsApproval"]["Choices"] if c["Next"] == "ShipTheExchangeFirst"]
    assert first and first[0]["And"][1] == {"Variable": "$.request.exchange", "StringEquals": "first"}
    person = {c["StringEquals"]: c["Next"] for c in STATES["WasAnythingRefunded"]["Choices"] if "StringEquals" in c}
    assert person["inspected"] == "ExchangeNeedsAPerson" and person["exchanged"] == "WaitForReplacement"
    assert STATES["ExchangeNeedsAPerson"]["Next"] == "ReturnNeedsAPerson"


def test_a_claim_reads_as_its_story_and_nothing_comes_back():
    def walk(choose):
        path, name = [], ASL["StartAt"]
        while name:
            path.append(name)
            name = choose.get(name) or STATES[name].get("Next")
        return path

    first = STATES["NeedsApproval"]["Choices"][0]
    assert first == {"Variable": "$.request.kind", "StringEquals": "claim", "Next": "WhereDoesTheClaimStand"}
    by_itself = {c["StringEquals"]: c["Next"] for c in STATES["WhereDoesTheClaimStand"]["Choices"]}
    assert by_itself == {"requested": "WaitForClaimDecision", "refunded": "Refund",
                         "reshipping": "ShipTheClaimReplacement"}
    decided = {c["StringEquals"]: c["Next"] for c in STATES["WhatWasDecided"]["Choices"]}
    assert decided == {"refunded": "Refund", "reshipping": "ShipTheClaimReplacement"}
    assert STATES["WhatWasDecided"]["Default"] == STATES["WhereDoesTheClaimStand"]["Default"] == "ClaimDeclined"
    reship = walk({"NeedsApproval": "WhereDoesTheClaimStand", "WhereDoesTheClaimStand": "WaitForClaimDecision",
                   "WhatWasDecided": "ShipTheClaimReplacement"})
    assert reship == ["ReturnRequested", "NeedsApproval", "WhereDoesTheClaimStand", "WaitForClaimDecision",
                      "WhatWasDecided", "ShipTheClaimReplacement", "WaitForReplacement", "Close", "Closed"]
    refund = walk({"NeedsApproval": "WhereDoesTheClaimStand", "WhereDoesTheClaimStand": "Refund",
                   "WasAnythingRefunded": "Close"})
    assert refund == ["ReturnRequested", "NeedsApproval", "WhereDoesTheClaimStand", "Refund", "WasAnythingRefunded",
                      "Close", "Closed"]
    # No label, parcel or inspection on either way.
    assert not {"IssueLabelOrInstructions", "WaitForParcel", "WaitForInspection"} & set(reship + refund)
