"""Fault injection in the embedded cloud: what is faulted, what callers see, and pollers that survive it."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from dawra.local.cloud import EmbeddedCloud
from dawra.local.faults import KINDS, FaultPlan, FaultRates, fault_scope
from dawra.local.pollers import TRIES_PER_POLL
from dawra.local.stack import LocalStack

pytestmark = pytest.mark.timeout(60)
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1})


@pytest.fixture(scope="module")
def stack():
    # time_scale 1/60: the pollers receive with a 1 s visibility timeout instead of the queue's 60 s
    stack = LocalStack(aws_port=None, background_pollers=False, time_scale=1 / 60).start()
    yield stack
    stack.stop()


@pytest.fixture
def faults(stack):
    yield stack.cloud.faults
    stack.cloud.faults.set_plan(None)
    stack.cloud.faults.on()


def plan(**rules) -> FaultPlan:
    seed = rules.pop("seed", 0)
    return FaultPlan({key.replace("__", ":"): value for key, value in rules.items()}, seed=seed)


def ddb():
    return boto3.client("dynamodb", region_name="us-east-1", config=ONE_ATTEMPT)


def inventory(stack) -> str:
    return stack.cloud.resolve_ref("table", "inventory", "name")  # no stream: nothing reaches the notifier


def item(pk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": "FAULT-TEST"}}


def stored(stack, pk: str) -> dict | None:
    return stack.cloud.client("dynamodb").get_item(TableName=inventory(stack), Key=item(pk)).get("Item")


def post(url: str, body: bytes, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def queue_depth(stack, queue_id: str) -> int:
    attributes = stack.cloud.client("sqs").get_queue_attributes(
        QueueUrl=stack.cloud.queue_url(queue_id),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return sum(int(value) for value in attributes.values())


def empty_queue(stack, queue_id: str) -> None:
    """The driver's own receive-and-delete (PurgeQueue may run once a minute)."""
    sqs, queue_url = stack.cloud.client("sqs"), stack.cloud.queue_url(queue_id)
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])


@contextmanager
def fake_function(stack, function_id: str, handler):
    """Run `handler(event)` in place of a function's real code, through the embedded cloud's Lambda path."""
    with fake_functions(stack, {function_id: handler}):
        yield


@contextmanager
def fake_functions(stack, handlers: dict):
    """`fake_function` for several functions at once (function id -> handler)."""
    lambdas, topology = stack.cloud.lambdas, stack.cloud.topology
    by_name = {topology.function(function_id).name: handler for function_id, handler in handlers.items()}
    real = lambdas.invoke

    def invoke(function_name, arn, event):
        if function_name not in by_name:
            return real(function_name, arn, event)
        if isinstance(event, (str, bytes)):
            event = json.loads(event)
        with fault_scope():  # as InProcessLambda.invoke does around a handler
            return json.dumps(by_name[function_name](event)), False, ""

    lambdas.invoke = invoke
    try:
        yield
    finally:
        del lambdas.invoke


# --- the plan -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "complaint"), [
    ('{"dynamodb": {"throttle": 1.5}}', "must be a number in [0, 1]"),
    ('{"sqs": {"ambiguous": -0.1}}', "must be a number in [0, 1]"),
    ('{"sqs": {"throttle": "0.2"}}', "must be a number in [0, 1]"),
    ('{"dynamodb": {"throttle": 0.7, "ambiguous": 0.5}}', "exceeds 1"),
    ('{"s3": {"throttle": 0.1}}', "unknown service 's3'"),
    ('{"sfn": {"throttle": 0.1}}', "unknown service 'sfn'"),
    ('{"dynamodb:PutItems": {"throttle": 0.1}}', "no operation 'PutItems'"),
    ('{"dynamodb": {"slow": 0.1}}', "unknown fault kind"),
    ('{"dynamodb": 0.1}', "expected an object"),
    ('{"seed": "seven"}', "seed must be an integer"),
    ('[1, 2]', "a fault plan is a JSON object"),
    ('{"dynamodb": ', "not valid JSON"),
])
def test_plan_parser_refuses_bad_input(text, complaint):
    with pytest.raises(ValueError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        FaultPlan.parse(text)


def test_plan_most_specific_key_wins_and_draws_repeat_with_the_seed(tmp_path):
    text = '{"dynamodb": {"throttle": 0.2, "ambiguous": 0.05}, "dynamodb:Query": {"throttle": 0}, "seed": 7}'
    parsed = FaultPlan.parse(text)
    assert parsed.rates_for("dynamodb", "PutItem").throttle == 0.2
    assert parsed.rates_for("dynamodb", "Query") == FaultRates(throttle=0, ambiguous=0)
    assert parsed.rates_for("sqs", "SendMessage").throttle == 0
    assert {parsed.draw("dynamodb", "Query") for _ in range(200)} == {None}

    (tmp_path / "plan.json").write_text(text)
    draws = [[p.draw("dynamodb", "PutItem") for _ in range(300)]
             for p in (FaultPlan.parse(text), FaultPlan.load(f"@{tmp_path / 'plan.json'}"))]
    assert draws[0] == draws[1]
    assert 30 < draws[0].count("throttle") < 95 and 3 < draws[0].count("ambiguous") < 35


def test_time_scale_is_checked_and_shortens_the_pollers_visibility_timeout(stack):
    # 1/60: a queue's 60 s become 1 s (the stock feeds' 720 s, 12 s), never under 1 s
    scaled = {poller.source.queue: poller.visibility_timeout for poller in stack.pollers.sqs}
    assert scaled and scaled == {queue.id: max(1, round(queue.visibility_timeout_s / 60))
                                 for queue in stack.cloud.topology.queues if queue.id in scaled}
    assert scaled["carrier-tracking"] == 1 and all(seconds < 60 for seconds in scaled.values())
    with pytest.raises(ValueError, match="time_scale"):
        EmbeddedCloud(time_scale=0)


# --- what callers in scope see ------------------------------------------------------------------------------


def test_throttled_put_item_is_not_applied(stack, faults):
    faults.set_plan(plan(dynamodb__PutItem={"throttle": 1.0}))
    before = faults.injected
    with fault_scope(), pytest.raises(ClientError) as raised:
        ddb().put_item(TableName=inventory(stack), Item=item("throttled"))
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert stored(stack, "throttled") is None
    assert (faults.injected - before) == {("dynamodb", "PutItem", "throttle"): 1}


def test_ambiguous_put_item_is_applied_and_answers_500(stack, faults):
    faults.set_plan(plan(dynamodb={"ambiguous": 1.0}))
    with fault_scope(), pytest.raises(ClientError) as raised:
        ddb().put_item(TableName=inventory(stack), Item=item("ambiguous"))
    assert raised.value.response["Error"]["Code"] == "InternalServerError"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert stored(stack, "ambiguous") == item("ambiguous")
    assert faults.injected[("dynamodb", "PutItem", "ambiguous")] >= 1
    assert "dynamodb:PutItem ambiguous" in faults.summary()


def test_throttled_transaction_is_cancelled_or_throttled_and_writes_nothing(stack, faults):
    faults.set_plan(plan(dynamodb__TransactWriteItems={"throttle": 1.0}, seed=3))
    codes, reasons = [], []
    for attempt in range(12):
        items = [{"Put": {"TableName": inventory(stack), "Item": item(f"tx-{attempt}-{i}")}}
                 for i in range(3)]
        with fault_scope(), pytest.raises(ClientError) as raised:
            ddb().transact_write_items(TransactItems=items)
        codes.append(raised.value.response["Error"]["Code"])
        if codes[-1] == "TransactionCanceledException":
            reasons.append([reason["Code"] for reason in raised.value.response["CancellationReasons"]])
        assert all(stored(stack, f"tx-{attempt}-{i}") is None for i in range(3))
    assert set(codes) == {"ThrottlingException", "TransactionCanceledException"}
    for codes_of_one in reasons:
        assert len(codes_of_one) == 3 and codes_of_one.count("None") == 2
        assert {"ThrottlingError", "TransactionConflict"} & set(codes_of_one)
    injected = faults.injected
    assert injected[("dynamodb", "TransactWriteItems", "cancelled")] == len(reasons)
    assert injected[("dynamodb", "TransactWriteItems", "throttle")] == len(codes) - len(reasons)


def test_sqs_and_step_functions_throttling_codes(stack, faults):
    faults.set_plan(plan(sqs={"throttle": 1.0}, stepfunctions={"throttle": 1.0}))
    queue_url = stack.cloud.queue_url("carrier-tracking")
    machine = stack.cloud.resolve_ref("state_machine", "order-lifecycle", "arn")
    with fault_scope():
        with pytest.raises(ClientError) as sqs_error:
            boto3.client("sqs", region_name="us-east-1", config=ONE_ATTEMPT).send_message(
                QueueUrl=queue_url, MessageBody="x")
        with pytest.raises(ClientError) as sfn_error:
            boto3.client("stepfunctions", region_name="us-east-1", config=ONE_ATTEMPT).start_execution(
                stateMachineArn=machine, name=f"fault-{uuid.uuid4().hex[:8]}", input="{}")
    assert sqs_error.value.response["Error"]["Code"] == "ThrottlingException"
    assert sfn_error.value.response["Error"]["Code"] == "ThrottlingException"
    assert queue_depth(stack, "carrier-tracking") == 0
    assert stack.cloud.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"] == []


def test_calls_outside_scope_are_never_faulted(stack, faults):
    faults.set_plan(plan(dynamodb={"throttle": 1.0}, sqs={"throttle": 1.0}, stepfunctions={"throttle": 1.0},
                         dynamodbstreams={"throttle": 1.0}))
    before = faults.injected
    for i in range(5):
        ddb().put_item(TableName=inventory(stack), Item=item(f"outside-{i}"))
    queue_url = stack.cloud.queue_url("carrier-tracking")
    stack.cloud.client("sqs").send_message(QueueUrl=queue_url, MessageBody="x")
    empty_queue(stack, "carrier-tracking")
    stack.cloud.client("stepfunctions").list_state_machines()

    def in_another_thread():  # a thread started inside a scope does not inherit it
        ddb().put_item(TableName=inventory(stack), Item=item("outside-thread"))

    with fault_scope():
        worker = threading.Thread(target=in_another_thread)
        worker.start()
        worker.join()
    assert stored(stack, "outside-thread") is not None
    assert faults.injected == before


def test_faults_can_be_switched_off(stack, faults):
    faults.set_plan(plan(dynamodb={"throttle": 1.0}))
    faults.off()
    assert not faults.active and "faults off" in faults.summary()
    with fault_scope():
        ddb().put_item(TableName=inventory(stack), Item=item("switched-off"))
    faults.on()
    with fault_scope(), pytest.raises(ClientError):
        ddb().put_item(TableName=inventory(stack), Item=item("switched-on"))
    assert stored(stack, "switched-off") is not None and stored(stack, "switched-on") is None


def test_a_handler_run_by_the_embedded_cloud_is_in_scope(stack, faults):
    """The handler's calls are faulted in whatever thread invokes it (Step Functions uses its own)."""
    faults.set_plan(plan(dynamodb__PutItem={"throttle": 1.0}))
    name = stack.cloud.topology.function("tracking-consumer").name
    handler_saw = []

    def handler(event, context):
        try:
            ddb().put_item(TableName=inventory(stack), Item=item("from-handler"))
            handler_saw.append("ok")
        except ClientError as error:
            handler_saw.append(error.response["Error"]["Code"])
        return {"batchItemFailures": []}

    runtime = stack.cloud.lambdas.by_name[name]

    @contextmanager
    def container():
        yield handler

    runtime.container = container
    try:
        lam = stack.cloud.client("lambda")
        worker = threading.Thread(target=lambda: lam.invoke(FunctionName=name, Payload=b"{}"))
        worker.start()
        worker.join(timeout=20)
    finally:
        del runtime.container
    assert handler_saw == ["ThrottlingException"]
    assert stored(stack, "from-handler") is None


# --- the gateway and the pollers ----------------------------------------------------------------------------


def test_webhook_route_answers_500_when_its_send_message_is_throttled(stack, faults):
    empty_queue(stack, "carrier-tracking")
    faults.set_plan(plan(sqs__SendMessage={"throttle": 1.0}))
    url = f"{stack.gateway.url}/webhooks/carriers/sandbox"
    headers = {"Content-Type": "application/json", "X-Carrier-Signature": "t=1,v1=00"}
    before = faults.injected
    status, body = post(url, b'{"event_id": "e1"}', headers)
    assert (status, body["code"]) == (500, "internal_error")
    assert faults.injected - before == {("sqs", "SendMessage", "throttle"): 1}  # one attempt, as API Gateway
    assert queue_depth(stack, "carrier-tracking") == 0

    faults.set_plan(None)
    status, body = post(url, b'{"event_id": "e1"}', headers)
    assert status == 202 and body["accepted"] is True
    empty_queue(stack, "carrier-tracking")


def test_sqs_poller_keeps_delivering_under_faults(stack, faults):
    """30% of the poller's SQS calls fail (20% throttled, 10% ambiguous); every message is processed."""
    sqs, queue_url = stack.cloud.client("sqs"), stack.cloud.queue_url("carrier-tracking")
    empty_queue(stack, "carrier-tracking")
    sent = {sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"n": n}))["MessageId"]
            for n in range(40)}
    processed: set[str] = set()
    failed_once: set[str] = set()

    def consumer(event):  # every fifth message fails its first delivery (a partial batch failure)
        failures = []
        for record in event["Records"]:
            body, message_id = json.loads(record["body"]), record["messageId"]
            if body["n"] % 5 == 0 and message_id not in failed_once:
                failed_once.add(message_id)
                failures.append({"itemIdentifier": message_id})
            else:
                processed.add(message_id)
        return {"batchItemFailures": failures}

    def receive_faults() -> set[str]:
        return {kind for (service, operation, kind) in faults.injected if operation == "ReceiveMessage"}

    faults.set_plan(plan(sqs={"throttle": 0.2, "ambiguous": 0.1}, seed=11))
    failures_before = stack.pollers.call_failures
    with fake_function(stack, "tracking-consumer", consumer):
        deadline = time.monotonic() + 25
        while (processed < sent or receive_faults() != set(KINDS)) and time.monotonic() < deadline:
            if processed >= sent:
                # All through before receives met both kinds: more messages (the poller receives only when a
                # message is there to take, decision 127, so a quiet queue meets no fault).
                sent |= {sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"n": n}))["MessageId"]
                         for n in range(40, 50)}
            if not stack.pollers.poll_once():
                time.sleep(0.05)
        faults.off()
        deadline = time.monotonic() + 15
        while queue_depth(stack, "carrier-tracking") and time.monotonic() < deadline:
            stack.pollers.drain()
            time.sleep(0.2)
    assert processed == sent
    assert queue_depth(stack, "carrier-tracking") == 0 and queue_depth(stack, "carrier-tracking-dlq") == 0
    assert receive_faults() == set(KINDS)
    assert stack.pollers.call_failures > failures_before
    assert "sqs:ReceiveMessage throttle" in faults.summary()


@pytest.mark.parametrize("kind", ["throttle", "ambiguous"])
def test_sqs_poller_survives_failed_deletes(stack, faults, kind):
    """Every delete fails, three times. Throttled: the message comes back and is delivered again (consumers
    dedup). Ambiguous: the first delete happened, so the message is gone and was delivered once."""
    sqs, queue_url = stack.cloud.client("sqs"), stack.cloud.queue_url("carrier-tracking")
    empty_queue(stack, "carrier-tracking")
    message_id = sqs.send_message(QueueUrl=queue_url, MessageBody="{}")["MessageId"]
    deliveries: list[str] = []

    def consumer(event):
        deliveries.extend(record["messageId"] for record in event["Records"])
        return {"batchItemFailures": []}

    faults.set_plan(plan(sqs__DeleteMessageBatch={kind: 1.0}))
    before, failures_before = faults.injected, stack.pollers.call_failures
    with fake_function(stack, "tracking-consumer", consumer):
        assert stack.pollers.poll_once() == 1
        faults.off()
        time.sleep(1.2)  # the (scaled) visibility timeout
        stack.pollers.drain()
    assert faults.injected - before == {("sqs", "DeleteMessageBatch", kind): 3}
    assert stack.pollers.call_failures - failures_before == 3
    assert deliveries == [message_id] * (2 if kind == "throttle" else 1)
    assert queue_depth(stack, "carrier-tracking") == 0


def test_stream_poller_delivers_each_record_once_under_read_faults(stack, faults):
    source = stack.cloud.topology.stream_event_sources[0]
    pattern = source.filter_patterns[0] if source.filter_patterns else {}
    new_image = pattern.get("dynamodb", {}).get("NewImage", {})  # a record the notifier's filter lets through
    image = {name: {kind: values[0]} for name, value in new_image.items() for kind, values in value.items()}
    delivered: list[str] = []

    def notifier(event):
        delivered.extend(record["dynamodb"]["Keys"]["sk"]["S"] for record in event["Records"])
        return {"batchItemFailures": []}

    faults.set_plan(plan(dynamodbstreams={"throttle": 0.3, "ambiguous": 0.1}, seed=5))
    table = stack.cloud.resolve_ref("table", source.table, "name")
    keys = [f"FAULT#{n:02d}" for n in range(12)]
    with fake_function(stack, source.function, notifier):
        for sk in keys:
            stack.cloud.client("dynamodb").put_item(
                TableName=table, Item={"pk": {"S": "ORDER#fault"}, "sk": {"S": sk}, **image})
            stack.pollers.poll_once()
        deadline = time.monotonic() + 20
        while len(delivered) < len(keys) and time.monotonic() < deadline:
            stack.pollers.poll_once()
        faults.off()
        stack.pollers.drain()
    assert delivered == keys  # in order, each once
    injected = faults.injected
    assert sum(count for (service, _, _), count in injected.items() if service == "dynamodbstreams") > 0


def test_the_mappings_of_one_stream_share_its_reads_and_one_retrying_holds_back_only_itself(stack, aws_calls):
    """The Orders stream has two mappings (the notifier, start-lifecycle): at the same place they read it together,
    once a round; one retrying its own record reads nothing meanwhile, the other goes on, and each receives only the
    records its filter lets through, in order, each until its function took it."""
    received: dict[str, list[str]] = {"notify": [], "start-lifecycle": []}
    failing = {"start-lifecycle": True}

    def function(function_id):
        def handler(event):
            records = event["Records"]
            received[function_id] += [record["dynamodb"]["Keys"]["sk"]["S"] for record in records]
            return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records]
                    if failing.get(function_id) else []}
        return handler

    table = stack.cloud.resolve_ref("table", "orders", "name")

    def event(sk: str, kind: str) -> None:
        stack.cloud.client("dynamodb").put_item(TableName=table, Item={
            "pk": {"S": "ORDER#shared-read"}, "sk": {"S": sk}, "entity": {"S": "timeline"}, "kind": {"S": kind}})

    with fake_functions(stack, {f: function(f) for f in received}):
        stack.pollers.drain()  # both mappings at the end of the stream
        event("A-confirmed", "order_confirmed")
        event("B-shipped", "shipment_shipped")
        aws_calls.clear()
        stack.pollers.poll_once()
        assert aws_calls.count("GetRecords") == 1  # one read for both
        # start-lifecycle's function refuses A: tried again at once, a few times a poll (it never gives up)
        assert received == {"notify": ["B-shipped"], "start-lifecycle": ["A-confirmed"] * TRIES_PER_POLL}

        event("C-shipped", "shipment_shipped")
        aws_calls.clear()
        stack.pollers.poll_once()  # start-lifecycle retries A and reads nothing; the notifier reads on and gets C
        assert aws_calls.count("GetRecords") == 1
        assert received == {"notify": ["B-shipped", "C-shipped"],
                            "start-lifecycle": ["A-confirmed"] * 2 * TRIES_PER_POLL}

        failing["start-lifecycle"] = False
        event("D-confirmed", "order_confirmed")
        stack.pollers.drain()
        assert received["notify"] == ["B-shipped", "C-shipped"]  # D is not the notifier's
        assert received["start-lifecycle"] == ["A-confirmed"] * (2 * TRIES_PER_POLL + 1) + ["D-confirmed"]  # never C
        event("E-shipped", "shipment_shipped")
        aws_calls.clear()
        stack.pollers.poll_once()  # at the same place again: one read for both
        assert aws_calls.count("GetRecords") == 1 and received["notify"][-1] == "E-shipped"
