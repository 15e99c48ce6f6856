"""Payments: the payment providers' webhook route, its queues, the sandbox provider's secret and the consumer."""

from __future__ import annotations

from dawra.contracts import env as E
from dawra.contracts.webhook import PAYMENT_SIGNATURE_HEADER

from .data import ORDERS_TABLE, READ_ORDERS, WRITE_ORDERS
from .fulfilment import ANSWER_TASK_TOKEN
from .model import Function, Grant, Queue, QueueEventSource, Ref, Route, Secret, arn
from .operations import OPS_ALERTS, POWERTOOLS_ENV, PUBLISH_OPS_ALERT

QUEUES = (
    Queue(
        id="payment-events",
        name="dawra-payment-events",
        visibility_timeout_s=60,  # 6x the consumer's timeout, as AWS recommends for event source mappings
        dead_letter_queue="payment-events-dlq",
        max_receive_count=5,
        purpose="Raw payment provider webhooks (storage first), consumed by the payment events consumer.",
    ),
    Queue(
        id="payment-events-dlq",
        name="dawra-payment-events-dlq",
        retention_s=14 * 24 * 3600,
        purpose="Payment provider webhooks that failed processing max_receive_count times.",
    ),
)

SECRETS = (
    Secret(
        id="payments-sandbox-webhook",
        name="dawra/payments/sandbox/webhook-secret",
        purpose="HMAC key the sandbox payment provider signs its webhooks with.",
    ),
)
READ_PAYMENT_SECRETS = tuple(Grant(actions=("secretsmanager:GetSecretValue",), resources=(arn("secret", s.id),))
                             for s in SECRETS)

FUNCTIONS = (
    Function(
        id="payment-events-consumer",
        name="dawra-payment-events-consumer",
        code="functions/payments",
        handler="events.handler",
        memory_mb=256,
        timeout_s=10,
        environment={
            **POWERTOOLS_ENV,
            **ORDERS_TABLE,
            **OPS_ALERTS,
            E.SANDBOX_PAYMENTS_SECRET: Ref(kind="secret", id="payments-sandbox-webhook"),
        },
        # Reading the payment-events queue is the SQS event source mapping's own grant. A paid payment link
        # releases its order's hold and resumes the workflow's waiting shipments (their task tokens).
        grants=(READ_ORDERS, WRITE_ORDERS, ANSWER_TASK_TOKEN, PUBLISH_OPS_ALERT, *READ_PAYMENT_SECRETS),
        purpose="Consumes payment provider webhooks from SQS: verify, dedup, record on the order's timeline, "
                "release a paid payment link's hold, alert operations of failed refunds and captures and disputes.",
    ),
)

ROUTES = (
    Route(method="POST", path="/payments/webhooks/{provider}", target_kind="queue", target="payment-events",
          authorization="none", forwarded_headers=(PAYMENT_SIGNATURE_HEADER,),
          purpose="Payment provider webhooks, stored raw in SQS; signatures are verified by the consumer."),
)

QUEUE_EVENT_SOURCES = (QueueEventSource(queue="payment-events", function="payment-events-consumer", batch_size=10),)
