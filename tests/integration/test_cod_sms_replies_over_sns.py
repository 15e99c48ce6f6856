"""A customer's SMS reply reaches Dawra as it does on AWS: published to the sms-replies topic in the shape AWS End User
Messaging SMS publishes a two-way number's inbound message, delivered by SNS to the subscribed sms-replies function
(dawra/topology/sms_replies.py), which confirms the cash-on-delivery order it names. An Emirati COD order waits for its
customer's confirmation; a "yes" from a number that placed no order and a "no" from the customer change nothing; their
"نعم <code>" confirms it and it ships; the same message delivered again confirms nothing twice. What is not an inbound
SMS at all fails the function, and after Lambda's retries lands in the dead-letter queue."""

from __future__ import annotations

import json
import uuid

import pytest
from parcels import kinds, messages_to, order_of, wait_until
from stacks import seeded_stack
from test_cod_confirmation_over_http import cod_order

from dawra.domain.cod import confirmation_code

pytestmark = pytest.mark.timeout(180)
SHOP_NUMBER = "+97145550100"  # the shop's two-way number (destinationNumber)


@pytest.fixture(scope="module")
def shop():
    yield from seeded_stack()


def text_in(stack, phone: str, body: str, message_id: str | None = None) -> str:
    """What AWS End User Messaging SMS publishes to the number's two-way channel when `phone` texts `body` (the
    payload of its user guide's "Example of a two-way SMS message payload for Amazon SNS topics")."""
    message_id = message_id or str(uuid.uuid4())
    payload = {"originationNumber": phone, "destinationNumber": SHOP_NUMBER, "messageKeyword": "KEYWORD_",
               "messageBody": body, "inboundMessageId": message_id,
               "previousPublishedMessageId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
    stack.cloud.client("sns").publish(TopicArn=stack.cloud.resolve_ref("topic", "sms-replies", "arn"),
                                      Message=json.dumps(payload, ensure_ascii=False))
    return message_id


def deliveries(stack) -> tuple[int, int]:
    """(invocations, errors) of the sms-replies function so far."""
    name = stack.cloud.topology.function("sms-replies").name
    return stack.cloud.lambdas.invocations[name], stack.cloud.lambdas.errors[name]


def test_the_customers_reply_confirms_the_order_and_nothing_else_does(shop):
    phone = "+971501230001"
    order_id = cod_order(shop, phone)["order_id"]
    wait_until(shop, order_id, lambda o: o["status"] == "ON_HOLD", what="not held for confirmation")
    code = confirmation_code(order_id)
    assert [m for m in messages_to(shop, phone, 2) if code in m.body]  # told how to confirm

    before = deliveries(shop)
    text_in(shop, "+971501239999", f"yes {code}")  # a number that placed no order
    text_in(shop, phone, f"no {code}")  # the customer says no
    text_in(shop, phone, "لا")
    assert deliveries(shop) == (before[0] + 3, before[1])  # delivered, handled, no error
    unchanged = order_of(shop, order_id)
    assert unchanged["status"] == "ON_HOLD" and "cod_confirmed" not in kinds(unchanged)

    reply = text_in(shop, phone, f"نعم {code}")
    assert "cod_confirmed" in kinds(order_of(shop, order_id))  # delivered in the publishing call, as SNS would soon
    shipped = wait_until(shop, order_id, lambda o: o["status"] == "SHIPPED", what="not shipped once confirmed")
    text_in(shop, phone, f"نعم {code}", message_id=reply)  # SNS delivers at least once: the same message again
    text_in(shop, phone, f"yes {code}")  # and the customer says it twice
    again = order_of(shop, order_id)
    assert kinds(again).count("cod_confirmed") == 1 and again["status"] == shipped["status"]
    assert deliveries(shop)[1] == before[1]


def test_what_is_not_an_inbound_sms_fails_and_lands_in_the_dead_letter_queue(shop):
    before = deliveries(shop)
    shop.cloud.client("sns").publish(TopicArn=shop.cloud.resolve_ref("topic", "sms-replies", "arn"),
                                     Message=json.dumps({"notificationType": "Delivery"}))
    assert deliveries(shop) == (before[0] + 3, before[1] + 3)  # the first attempt and Lambda's two retries
    sqs = shop.cloud.client("sqs")
    received = sqs.receive_message(QueueUrl=shop.cloud.resolve_ref("queue", "sms-replies-dlq", "url"),
                                   MessageAttributeNames=["All"], MaxNumberOfMessages=10)["Messages"]
    (dead,) = received
    event = json.loads(dead["Body"])  # the event the function failed on, as Lambda sends it
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["TopicArn"] == shop.cloud.resolve_ref("topic", "sms-replies", "arn")
    assert json.loads(record["Sns"]["Message"]) == {"notificationType": "Delivery"}
    assert dead["MessageAttributes"]["ErrorCode"]["StringValue"] == "200"
    assert "originationNumber" in dead["MessageAttributes"]["ErrorMessage"]["StringValue"]


def test_the_event_lambda_documents_for_sns_is_read(shop):
    """Invoked with the SNS event as Lambda's developer guide shows it (Subject null, signature fields), holding the
    two-way SMS payload: a reply from a number with no order is answered as such, not an error."""
    payload = {"originationNumber": "+14255550182", "destinationNumber": "+12125550101", "messageKeyword": "JOIN",
               "messageBody": "Yes", "inboundMessageId": "cae173d2-66b9-564c-8309-21f858e9fb84",
               "previousPublishedMessageId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
    topic = shop.cloud.resolve_ref("topic", "sms-replies", "arn")
    event = {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
        "Sns": {"Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e", "TopicArn": topic,
                "Subject": None, "Message": json.dumps(payload), "Timestamp": "2026-12-02T07:44:34.123Z",
                "SignatureVersion": "1", "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
                "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d"
                                  "285f9598aa1d9b.pem",
                "UnsubscribeUrl": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}"
                                  ":2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                "MessageAttributes": {}}}]}
    response = shop.cloud.client("lambda").invoke(FunctionName=shop.cloud.topology.function("sms-replies").name,
                                                  Payload=json.dumps(event).encode())
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"outcomes": ["no order waits for this reply"]}
