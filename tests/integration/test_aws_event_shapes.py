"""Handlers accept events in the shapes AWS documents, not only the ones our local gateway and pollers build.

The events below follow the examples in the AWS Lambda developer guide (API Gateway REST proxy, SQS, DynamoDB
Streams), with our own payloads inside."""

import json
import time

from dawra.adapters.carriers.sandbox import sign
from dawra.contracts.webhook import CarrierWebhookEnvelope
from dawra.local.actors import Storefront


def invoke(stack, function_id: str, event: dict) -> dict:
    name = stack.cloud.topology.function(function_id).name
    response = stack.cloud.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read())


def place(stack, unique, email: str | None = None) -> str:
    body = {"customer_id": unique("c"), "contact": {"email": email or f"{unique('e')}@example.com"},
            "shipping_address": {"name": "N", "line1": "L", "city": "Riyadh", "country": "SA"},
            "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}], "payment_token": "tok_sandbox_approve"}
    return Storefront(stack.gateway.url).place_order(body, unique("key")).body["order_id"]


def test_api_gateway_rest_proxy_event(local_stack, unique):
    order_id = place(local_stack, unique)
    event = {
        "resource": "/orders/{order_id}", "path": f"/orders/{order_id}", "httpMethod": "GET",
        "headers": {"Accept": "application/json", "Host": "abc123.execute-api.us-east-1.amazonaws.com",
                    "User-Agent": "storefront/1.0", "X-Amzn-Trace-Id": "Root=1-5e66d96f-7491f09xmpl79d18acf3d050",
                    "X-Forwarded-For": "52.255.255.12", "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"},
        "multiValueHeaders": {"Accept": ["application/json"],
                              "Host": ["abc123.execute-api.us-east-1.amazonaws.com"]},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": {"order_id": order_id}, "stageVariables": None,
        "requestContext": {
            "resourceId": "2gxmpl", "resourcePath": "/orders/{order_id}", "httpMethod": "GET",
            "extendedRequestId": "JJbxmplHYosFVYQ=", "requestTime": "10/Mar/2020:00:03:59 +0000",
            "path": f"/Prod/orders/{order_id}", "accountId": "123456789012", "protocol": "HTTP/1.1",
            "stage": "Prod", "domainPrefix": "abc123", "requestTimeEpoch": 1583798639428,
            "requestId": "77375676-xmpl-4b79-853a-f982474efe18",
            "identity": {"cognitoIdentityPoolId": None, "accountId": "123456789012", "caller": "AROAXMPL:storefront",
                         "sourceIp": "52.255.255.12", "principalOrgId": None, "accessKey": "ASIAXMPL",
                         "cognitoAuthenticationType": None, "cognitoAuthenticationProvider": None,
                         "userArn": "arn:aws:sts::123456789012:assumed-role/storefront/s", "userAgent": "storefront",
                         "user": "AROAXMPL:storefront"},
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com", "apiId": "abc123"},
        "body": None, "isBase64Encoded": False,
    }
    response = invoke(local_stack, "orders-api", event)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["order_id"] == order_id


def test_sqs_event_with_a_stored_webhook(local_stack, unique):
    secret = local_stack.cloud.carrier_secrets["carrier-sandbox-webhook"].encode()
    raw = json.dumps({"event_id": unique("e"), "tracking_number": "SBX000000000000", "status": "IN_TRANSIT",
                      "occurred_at": "2026-11-23T10:00:00Z"}).encode()
    now = int(time.time())
    bad = CarrierWebhookEnvelope.wrap("sandbox", raw, sign(raw, b"wrong", now), now * 1000)
    unknown_carrier = CarrierWebhookEnvelope.wrap("nope", raw, sign(raw, secret, now), now * 1000)
    def record(message_id: str, body: str) -> dict:
        return {
            "messageId": message_id, "receiptHandle": "MessageReceiptHandle", "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1523232000000",
                           "SenderId": "123456789012", "ApproximateFirstReceiveTimestamp": "1523232000001"},
            "messageAttributes": {}, "md5OfBody": "7b270e59b47ff90a553787216d55d91d", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:dawra-carrier-tracking", "awsRegion": "us-east-1"}

    event = {"Records": [record("m-bad", bad.model_dump_json()), record("m-carrier", unknown_carrier.model_dump_json()),
                         record("m-junk", "not json")]}
    response = invoke(local_stack, "tracking-consumer", event)
    # Never processable: recorded with the reason and dropped, not retried into the DLQ.
    assert response == {"batchItemFailures": []}
    day = time.strftime("%Y-%m-%d", time.gmtime())
    rejected = local_stack.cloud.client("dynamodb").query(
        TableName="dawra-orders", KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"REJECTED#{day}"}})["Items"]
    reasons = {item["sk"]["S"].rsplit("#", 1)[1]: item["reason"]["S"] for item in rejected}
    assert {reasons.get(m) for m in ("m-bad", "m-carrier", "m-junk")} == {"signature", "carrier", "shape"}


def test_dynamodb_stream_event(local_stack, unique):
    email = f"{unique('stream')}@example.com"
    order_id = place(local_stack, unique, email)
    event_id = f"stock_reserved:{order_id}"  # the event the confirmation is sent for
    new_image = {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": f"EVENT#{event_id}"}, "entity": {"S": "timeline"},
                 "event_id": {"S": event_id}, "order_id": {"S": order_id}, "kind": {"S": "stock_reserved"},
                 "at": {"S": "2026-11-23T10:00:00.000Z"}, "detail": {"M": {}}}
    other = {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}, "entity": {"S": "order"}}
    def record(seq: int, image: dict, name: str = "INSERT") -> dict:
        return {
            "eventID": f"c4ca4238a0b923820dcc509a6f75849{seq}", "eventName": name, "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "dynamodb": {"ApproximateCreationDateTime": 1479499740, "Keys": {"pk": image["pk"], "sk": image["sk"]},
                         "NewImage": image, "SequenceNumber": f"1340000000000000000000{seq}", "SizeBytes": 26,
                         "StreamViewType": "NEW_IMAGE"},
            "eventSourceARN":
                "arn:aws:dynamodb:us-east-1:123456789012:table/dawra-orders/stream/2015-06-27T00:48:05.899"}

    response = invoke(local_stack, "notify", {"Records": [record(1, other, "MODIFY"), record(2, new_image)]})
    # The background stream poller may hold the claim on the same message at that moment: then this record is
    # reported failed (to be retried after the lease), never the unrelated one, and the message is still sent once.
    assert response["batchItemFailures"] in ([], [{"itemIdentifier": "13400000000000000000002"}])
    # The background stream poller delivers the real record too: whichever comes first sends, the other skips.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        marker = local_stack.cloud.client("dynamodb").get_item(
            TableName="dawra-orders", Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": f"MESSAGE#{event_id}#email"}})
        if marker.get("Item", {}).get("state", {}).get("S") == "sent":
            break
        time.sleep(0.05)
    assert marker["Item"]["state"]["S"] == "sent"
    time.sleep(0.3)
    confirmations = [m for m in local_stack.outbox() if m.to == email and "confirmed" in m.subject]
    assert len(confirmations) == 1
