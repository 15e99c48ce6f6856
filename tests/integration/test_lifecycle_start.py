"""An order committed is an order whose lifecycle runs (decision 114): checkout commits the order with its
order_confirmed event and answers; dawra-start-lifecycle starts the execution, named after the order, from that
event's record on the Orders stream. Step Functions throttled: checkout still answers 201, the record is retried
until the start holds, and a record delivered again starts nothing twice."""

import json

from stacks import eventually

from dawra.local.actors import Storefront
from dawra.local.faults import FaultPlan


def body(unique) -> dict:
    return {"customer_id": unique("c"), "contact": {"email": f"{unique('start')}@example.com"},
            "shipping_address": {"name": "Huda", "line1": "7 Tahlia St", "city": "Riyadh", "country": "SA"},
            "lines": [{"sku": "DATES-1KG", "quantity": 1}], "payment_token": "tok_sandbox_approve"}


def executions_of(stack, order_id: str) -> list[dict]:
    sfn = stack.cloud.client("stepfunctions")
    arn = stack.cloud.resolve_ref("state_machine", "order-lifecycle", "arn")
    return [e for e in sfn.list_executions(stateMachineArn=arn)["executions"] if e["name"] == order_id]


def inserted(stack, image: dict, sequence: str) -> dict:
    """The stream record of an item inserted, as the event source mapping delivers it."""
    return {"eventID": sequence[-1], "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {"Keys": {"pk": image["pk"], "sk": image["sk"]}, "NewImage": image,
                         "SequenceNumber": sequence, "SizeBytes": 100, "StreamViewType": "NEW_IMAGE"},
            "eventSourceARN": stack.cloud.resolve_ref("table", "orders", "stream_arn")}


def confirmed_record(stack, order_id: str) -> dict:
    """The stream record the function is given for this order."""
    item = stack.cloud.client("dynamodb").get_item(
        TableName=stack.cloud.resolve_ref("table", "orders", "name"),
        Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": f"EVENT#order_confirmed:{order_id}"}})["Item"]
    return inserted(stack, item, "900000000000000000001")


def invoke(stack, event: dict) -> dict:
    response = stack.cloud.client("lambda").invoke(FunctionName="dawra-start-lifecycle",
                                                   Payload=json.dumps(event).encode())
    return json.loads(response["Payload"].read())


def test_the_order_placed_gets_one_execution_named_after_it_from_its_commit(local_stack, unique):
    placed = Storefront(local_stack.gateway.url).place_order(body(unique), unique("key"))
    assert placed.status == 201
    order_id = placed.body["order_id"]
    [execution] = eventually(lambda: executions_of(local_stack, order_id), timeout_s=15)
    assert execution["name"] == order_id

    again = invoke(local_stack, {"Records": [confirmed_record(local_stack, order_id)]})  # the record redelivered

    assert again == {"batchItemFailures": []}  # already started: nothing to retry
    assert len(executions_of(local_stack, order_id)) == 1


def test_step_functions_throttled_checkout_still_answers_and_the_start_is_retried_until_it_holds(local_stack,
                                                                                                 unique):
    store = Storefront(local_stack.gateway.url)
    local_stack.cloud.faults.set_plan(FaultPlan.from_dict({"stepfunctions:StartExecution": {"throttle": 1.0}}))
    try:
        placed = store.place_order(body(unique), unique("key"))
        assert placed.status == 201  # nothing on the request path calls Step Functions
        order_id = placed.body["order_id"]
        failed = invoke(local_stack, {"Records": [confirmed_record(local_stack, order_id)]})
        assert failed == {"batchItemFailures": [{"itemIdentifier": "900000000000000000001"}]}  # retried from it
        assert executions_of(local_stack, order_id) == []  # not started while throttled (the poller retries)
    finally:
        local_stack.cloud.faults.set_plan(None)

    [execution] = eventually(lambda: executions_of(local_stack, order_id), timeout_s=15)
    assert execution["name"] == order_id
    done = store.wait_for(order_id, {"SHIPPED", "COMPLETED"}, timeout_s=30)
    assert done["status"] in {"SHIPPED", "COMPLETED"}  # the lifecycle ran: reserved, paid, shipped


def test_a_record_naming_no_order_is_skipped_not_retried_and_starts_nothing(local_stack, unique):
    """Retried, it would hold back every order behind it in its shard until it left the stream."""
    order_id = "ord_" + "0" * 32
    malformed = {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": f"EVENT#order_confirmed:{order_id}"},
                 "entity": {"S": "timeline"}, "kind": {"S": "order_confirmed"}}  # no order id, event id or time
    record = inserted(local_stack, malformed, "900000000000000000002")

    assert invoke(local_stack, {"Records": [record]}) == {"batchItemFailures": []}
    assert executions_of(local_stack, order_id) == []
