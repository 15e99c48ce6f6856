"""Tracking: the carrier webhook route, its queues, the carrier's secret and the tracking consumer."""

from __future__ import annotations

from dawra.contracts import env as E

from .data import INVENTORY_TABLE, ORDERS_TABLE, READ_INVENTORY, READ_ORDERS, WRITE_INVENTORY, WRITE_ORDERS
from .fulfilment import ANSWER_TASK_TOKEN
from .model import Function, Grant, Queue, QueueEventSource, Ref, Route, Secret, arn
from .operations import COD_REMITTANCE, OPS_ALERTS, POWERTOOLS_ENV, PUBLISH_OPS_ALERT
from .risk import READ_RISK_KEY, RISK_KEY
from .schedules import SCHEDULE_LATER, SCHEDULE_LATER_ENV

QUEUES = (
    Queue(
        id="carrier-tracking",
        name="dawra-carrier-tracking",
        visibility_timeout_s=60,  # 6x the consumer's timeout, as AWS recommends for event source mappings
        dead_letter_queue="carrier-tracking-dlq",
        max_receive_count=5,
        purpose="Raw carrier webhooks (storage first), consumed by the tracking consumer.",
    ),
    Queue(
        id="carrier-tracking-dlq",
        name="dawra-carrier-tracking-dlq",
        retention_s=14 * 24 * 3600,
        purpose="Carrier webhooks that failed processing max_receive_count times.",
    ),
)

SECRETS = (
    Secret(
        id="carrier-sandbox-webhook",
        name="dawra/carriers/sandbox/webhook-secret",
        purpose="HMAC key the sandbox carrier signs its tracking webhooks with.",
    ),
)
READ_CARRIER_SECRETS = tuple(Grant(actions=("secretsmanager:GetSecretValue",), resources=(arn("secret", s.id),))
                             for s in SECRETS)

FUNCTIONS = (
    Function(
        id="tracking-consumer",
        name="dawra-tracking-consumer",
        code="functions/ship",
        handler="tracking.handler",
        memory_mb=256,
        timeout_s=10,
        environment={
            **POWERTOOLS_ENV,
            **ORDERS_TABLE,
            **INVENTORY_TABLE,
            E.SANDBOX_CARRIER_SECRET: Ref(kind="secret", id="carrier-sandbox-webhook"),
            **OPS_ALERTS,
            **SCHEDULE_LATER_ENV,
            **COD_REMITTANCE,
            **RISK_KEY,
        },
        # Reading the carrier-tracking queue is the SQS event source mapping's own grant. The inventory: a parcel
        # returned to sender is counted back into its location's stock when it arrives there. Cash on delivery: an
        # amount collected that was not due is alerted; a delivered COD parcel's remittance check is scheduled.
        grants=(READ_ORDERS, WRITE_ORDERS, READ_INVENTORY, WRITE_INVENTORY, ANSWER_TASK_TOKEN, *READ_CARRIER_SECRETS,
                PUBLISH_OPS_ALERT, *SCHEDULE_LATER, READ_RISK_KEY),
        purpose="Consumes carrier webhooks from SQS: verify, normalise, dedup, update shipments, resume on delivery, "
                "restock and end the wait of a parcel returned to sender.",
    ),
)

ROUTES = (
    Route(method="POST", path="/webhooks/carriers/{carrier}", target_kind="queue", target="carrier-tracking",
          authorization="none", forwarded_headers=("X-Carrier-Signature",),
          purpose="Carrier tracking webhooks, stored raw in SQS; signatures are verified by the consumer."),
)

QUEUE_EVENT_SOURCES = (QueueEventSource(queue="carrier-tracking", function="tracking-consumer", batch_size=10),)
