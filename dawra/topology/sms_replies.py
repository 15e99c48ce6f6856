"""SMS replies: what a customer texts back to the shop's two-way number reaches Dawra (docs/decisions.md, 91). On AWS, AWS End User Messaging SMS publishes each inbound SMS of a phone number whose two-way channel
is this topic (the operator sets it: docs/deploy.md) as JSON (dawra/contracts/sms.py); SNS invokes the subscribed
function asynchronously. Today a reply confirms a cash-on-delivery order waiting for it (dawra/app/cod_confirmation.py).

A reply nobody could act on is not lost silently: what SNS could not deliver to the function (its redrive policy) and
what the function failed on after Lambda's own retries (the function's dead-letter queue) land in one queue, whose
depth is alarmed like every dead-letter store's."""

from __future__ import annotations

from .data import ORDERS_TABLE, READ_ORDERS, WRITE_ORDERS
from .fulfilment import ANSWER_TASK_TOKEN, LIFECYCLE
from .model import Function, Queue, Topic, TopicEventSource
from .operations import POWERTOOLS_ENV

SMS_REPLIES = Topic(
    id="sms-replies",
    name="dawra-sms-replies",
    published_by="sms-voice",
    purpose="Customers' SMS replies to the shop's two-way number, published by AWS End User Messaging SMS (the "
            "number's two-way channel; stack output SmsRepliesTopicArn).",
)
TOPICS = (SMS_REPLIES,)

QUEUES = (
    Queue(
        id="sms-replies-dlq",
        name="dawra-sms-replies-dlq",
        retention_s=14 * 24 * 3600,
        purpose="Customers' SMS replies not acted on: SNS could not deliver them to the function, or the function "
                "failed on them after Lambda's retries (a person reads them and confirms by hand).",
    ),
)

FUNCTIONS = (
    Function(
        id="sms-replies",
        name="dawra-sms-replies",
        code="functions/customer",  # the customer's other entry point: their replies, as the page is their clicks
        handler="sms_replies.handler",
        memory_mb=256,
        timeout_s=10,
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE, **LIFECYCLE},
        # What the order page's "Confirm my order" does, less what the page itself needs: the orders by the reply's
        # phone (the by-lookup index), the order's commit with its audit entry, and the parked shipments' task tokens
        # answered. No stock moves: it was reserved before the hold. Sending to the dead-letter queue is the CDK
        # app's own grant for the function's DeadLetterConfig (as an event source mapping's is).
        grants=(READ_ORDERS, WRITE_ORDERS, ANSWER_TASK_TOKEN),
        purpose="A customer's SMS reply (two-way SMS via SNS): confirms the cash-on-delivery order it names.",
    ),
)

TOPIC_EVENT_SOURCES = (
    TopicEventSource(topic=SMS_REPLIES.id, function="sms-replies", dead_letter_queue="sms-replies-dlq"),
)
