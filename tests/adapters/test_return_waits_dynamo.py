"""A return's WaitForParcel and WaitForInspection without a function (decision 121): Step Functions writes the task
token, and the wait it belongs to, onto the return item itself with the UpdateItem the ASL file names, only while the
return is in a status that wait parks in. What the adapter must keep true for that write: the return's status plain
(what the condition tests), the token and `resume_for` read back as the Return's, and the version moved on. Refused
(what it waits for happened first, or an item written before the status was plain), the function waits instead."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from return_trips import (
    WAREHOUSE,
    asking,
    delivered_order,
    execution,
    parked,
    report_return,
    return_when,
    returns_of,
    status_is,
)
from sdk_waits import alone, entered, raw, the_write
from stacks import seeded_stack

from dawra.adapters.dynamo import keys
from dawra.adapters.dynamo.base import Table
from dawra.adapters.dynamo.codec import packed
from dawra.adapters.dynamo.orders import RETURN_PLAIN, DynamoOrders, return_item
from dawra.adapters.dynamo.unit_of_work import DynamoUnitOfWork
from dawra.app.return_workflow import WAITING_IN
from dawra.domain.errors import ConcurrentChange
from dawra.domain.returns import InspectionOutcome, Return, ReturnReason, ReturnStatus, return_id_for

ASL = Path(__file__).resolve().parents[2] / "statemachines" / "return_lifecycle.asl.json"
WAITS = {"WaitForParcel": ("parcel", "ParcelNewsCameFirst"), "WaitForInspection": ("inspection", "InspectedFirst")}
# Statuses a wait does not park in: what it waits for happened already, or the return is elsewhere in its story.
MOVED_ON = {"parcel": (ReturnStatus.RECEIVED, ReturnStatus.REQUESTED, ReturnStatus.LABEL_EXPIRED),
            "inspection": (ReturnStatus.INSPECTED, ReturnStatus.IN_TRANSIT, ReturnStatus.REFUNDED)}


@pytest.fixture(scope="module")
def stack():
    for running in seeded_stack():
        from dawra.adapters.dynamo.inventory import DynamoInventory

        DynamoInventory(running.cloud.resolve_ref("table", "inventory", "name")).set_stock("PRAYER-MAT", "riyadh-dc", 20)
        yield running


def the_state(name: str) -> dict[str, Any]:
    return json.loads(ASL.read_text())["States"][name]


def raw_return(stack, order_id: str, return_id: str) -> dict[str, Any]:
    return raw(stack.cloud.client("dynamodb"), stack.cloud.resolve_ref("table", "orders", "name"),
               keys.return_key(order_id, return_id))


@pytest.mark.parametrize("name", sorted(WAITS))
def test_the_asl_writes_the_return_item_the_adapter_keeps(name):
    """The key the adapter stores a return under, its plain status and version, and the token and the wait it
    belongs to under the Return fields the resuming use cases read."""
    parameters = the_state(name)["Parameters"]
    assert parameters["TableName"] == "${OrdersTableName}"
    key = keys.return_key("@order", "@return")
    assert parameters["Key"] == {"pk": {"S.$": f"States.Format('{key['pk'].replace('@order', '{}')}', $.order_id)"},
                                 "sk": {"S.$": f"States.Format('{key['sk'].replace('@return', '{}')}', $.return_id)"}}
    assert parameters["ExpressionAttributeNames"] == {"#status": "status"}
    assert {"status", "version"} <= RETURN_PLAIN and {"resume_token", "resume_for"} <= set(Return.model_fields)
    assert parameters["UpdateExpression"] == ("SET resume_token = :token, resume_for = :waiting_for, "
                                              "version = version + :one")


def test_the_workflow_parks_its_parcel_and_inspection_waits_on_the_return_itself(stack):
    """The real return workflow: after the label, Step Functions parks WaitForParcel's token on the return (plain,
    beside the packed body, which the adapter reads back as the Return's); the carrier's arrival resumes it; then
    WaitForInspection parks the same way and the warehouse's inspection resumes it. No fallback state is entered."""
    returns, orders = returns_of(stack), DynamoOrders(stack.cloud.resolve_ref("table", "orders", "name"))
    order_id = delivered_order(stack, "return-waits@example.com", {"PRAYER-MAT": 1})
    ret = returns.start(order_id, "return-waits-key", asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}))

    labelled = return_when(stack, order_id, ret.return_id, parked("label_issued"), "no parcel wait parked")
    item = raw_return(stack, order_id, ret.return_id)
    assert (item["status"], item["resume_for"]) == ("label_issued", "parcel") and item["resume_token"]
    assert labelled.resume_token == item["resume_token"] and labelled.resume_for == "parcel"
    assert labelled.version == item["version"]

    report_return(stack, labelled.tracking_number, "PICKED_UP")
    report_return(stack, labelled.tracking_number, "DELIVERED")
    received = return_when(stack, order_id, ret.return_id,
                           lambda r: r.status == ReturnStatus.RECEIVED and r.resume_for == "inspection",
                           "no inspection wait parked")
    item = raw_return(stack, order_id, ret.return_id)
    assert item["resume_for"] == "inspection" and item["resume_token"] == received.resume_token
    assert received.resume_token != labelled.resume_token

    returns.inspect(WAREHOUSE, order_id, ret.return_id, "return-waits-inspect",
                    {"PRAYER-MAT": (InspectionOutcome.SELLABLE, None)})
    return_when(stack, order_id, ret.return_id, status_is("closed"), "not closed")
    run = execution(stack, ret.return_id)
    assert run["status"] == "SUCCEEDED"
    assert {"WaitForParcel", "WaitForInspection"} <= set(run["states"])
    assert not {"ParcelNewsCameFirst", "InspectedFirst"} & set(run["states"])
    assert orders.get(order_id).return_of(ret.return_id).resume_token is None


@pytest.mark.parametrize("name", sorted(WAITS))
def test_each_wait_parks_only_in_its_statuses_and_else_hands_over_to_the_function(stack, name):
    """The real wait state, run alone by the embedded cloud's Step Functions on returns written as the adapter
    writes them: in each status its function parks in, it parks the token and the wait's name on the return and
    answering that token ends it; in any other status, and on an item written before the status was plain, its
    write is refused and the execution goes on to the function that waits in its place. Refused, nothing changes."""
    waiting_for, instead = WAITS[name]
    table = stack.cloud.resolve_ref("table", "orders", "name")
    order_id = delivered_order(stack, f"{name.lower()}-alone@example.com", {"PRAYER-MAT": 1})
    template = returns_of(stack).request(order_id, f"{name}-alone-key",
                                         asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}))
    machine = alone(stack, "return-lifecycle", f"{name}-alone", {name: the_state(name)})
    sfn = stack.cloud.client("stepfunctions")

    def run(status: ReturnStatus, *, old_layout: bool = False) -> tuple[str, str]:
        ret = template.model_copy(update={  # a return id of the same pattern, one per status and layout
            "return_id": return_id_for(order_id, f"{name}-{status.value}-{old_layout}"), "status": status,
            "resume_token": None, "resume_for": None})
        item = return_item(ret)
        if old_layout:  # as written before decision 121: the status only in the packed body
            item = packed({**keys.return_key(order_id, ret.return_id), "entity": keys.ENTITY_RETURN,
                           **ret.model_dump(mode="json")}, RETURN_PLAIN - {"status"})
            assert "status" not in item
        Table(table).put(item)
        given = {"order_id": order_id, "return_id": ret.return_id, "parcel": {"wait_s": 60},
                 "request": {"inspection_alert_s": 60}}
        arn = sfn.start_execution(stateMachineArn=machine, name=ret.return_id, input=json.dumps(given))["executionArn"]
        return arn, ret.return_id

    for status in WAITING_IN[waiting_for]:
        arn, return_id = run(status)
        deadline = time.monotonic() + 30
        while "resume_token" not in (item := raw_return(stack, order_id, return_id)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert item["resume_for"] == waiting_for and item["version"] == template.version + 1, status
        sfn.send_task_success(taskToken=item["resume_token"], output=json.dumps({"return_id": return_id}))
        assert entered(stack, arn) == [name, the_state(name)["Next"]], status

    for status in MOVED_ON[waiting_for]:
        arn, return_id = run(status)
        assert entered(stack, arn) == [name, instead], status
        assert unchanged(raw_return(stack, order_id, return_id), template.version), status

    arn, return_id = run(sorted(WAITING_IN[waiting_for])[0], old_layout=True)
    assert entered(stack, arn) == [name, instead]
    assert unchanged(raw_return(stack, order_id, return_id), template.version)
    assert DynamoOrders(table).get(order_id) is not None  # every return written here loads with its order


def unchanged(item: dict[str, Any], version: int) -> bool:
    """A return item the refused write left as it was written: no token, no wait named, the version it had."""
    return "resume_token" not in item and "resume_for" not in item and item["version"] == version


def test_a_change_decided_before_the_token_was_stored_is_refused_and_the_next_write_packs_the_token(stack):
    """Read, then the wait parks before this reader commits: the commit is refused (the version moved on) and decided
    again with the token in view. That next write, a whole versioned put as every return write is, packs the token
    and the wait's name with the rest; only the status and the keys stay plain."""
    client, table = stack.cloud.client("dynamodb"), stack.cloud.resolve_ref("table", "orders", "name")
    orders = DynamoOrders(table)
    uow = DynamoUnitOfWork(table, stack.cloud.resolve_ref("table", "inventory", "name"))
    order_id = delivered_order(stack, "return-wait-race@example.com", {"PRAYER-MAT": 1})
    ret = returns_of(stack).request(order_id, "return-wait-race-key",  # stored, its workflow not started
                                    asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)}))
    assert ret.status in WAITING_IN["parcel"]

    before = orders.get(order_id)
    client.update_item(**the_write(the_state("WaitForParcel"), table, keys.return_key(order_id, ret.return_id),
                                   "the-parked-token"))
    before.touch_return(ret.return_id)
    with pytest.raises(ConcurrentChange):
        uow.commit(order=before)

    now = orders.get(order_id)
    parked_on = now.return_of(ret.return_id)
    assert (parked_on.resume_token, parked_on.resume_for) == ("the-parked-token", "parcel")
    now.touch_return(ret.return_id)
    uow.commit(order=now)
    item = raw_return(stack, order_id, ret.return_id)
    assert "resume_token" not in item and "resume_for" not in item and item["status"] == ret.status.value
    again = orders.get(order_id).return_of(ret.return_id)
    assert (again.resume_token, again.resume_for) == ("the-parked-token", "parcel")
