"""Partners' callbacks (decision 97): the signed route a 3PL or dropshipper says "packed" on, its queue (storage
first, as carriers' webhooks) and the consumer that verifies and applies it (dawra/app/partners.py)."""

from __future__ import annotations

from dawra.contracts.partners import PARTNER_SIGNATURE_HEADER

from .data import ORDERS_TABLE, READ_ORDERS, WRITE_ORDERS
from .fulfilment import ANSWER_TASK_TOKEN
from .model import Function, Queue, QueueEventSource, Route
from .operations import POWERTOOLS_ENV
from .partner_outbox import QUEUES as OUTBOUND_QUEUES
from .partner_outbox import READ_PARTNER_SECRETS
from .partner_outbox import SECRETS as PARTNER_SECRETS

QUEUES = (
    *OUTBOUND_QUEUES,
    Queue(
        id="partner-callbacks",
        name="dawra-partner-callbacks",
        visibility_timeout_s=60,  # 6x the consumer's timeout, as AWS recommends for event source mappings
        dead_letter_queue="partner-callbacks-dlq",
        max_receive_count=5,
        purpose="Raw partner callbacks (storage first), consumed by the partner callbacks consumer.",
    ),
    Queue(
        id="partner-callbacks-dlq",
        name="dawra-partner-callbacks-dlq",
        retention_s=14 * 24 * 3600,
        purpose="Partner callbacks that failed processing max_receive_count times.",
    ),
)
SECRETS = PARTNER_SECRETS

FUNCTIONS = (
    Function(
        id="partner-callbacks-consumer",
        name="dawra-partner-callbacks-consumer",
        code="functions/partners",
        handler="callbacks.handler",
        memory_mb=256,
        timeout_s=10,
        environment={**POWERTOOLS_ENV, **ORDERS_TABLE},
        # Packed: the shipment is marked and the workflow's WaitForPacking answered (its task token).
        grants=(READ_ORDERS, WRITE_ORDERS, ANSWER_TASK_TOKEN, *READ_PARTNER_SECRETS),
        purpose="Consumes partners' callbacks from SQS: verify with the partner's key, apply once in any order "
                "(packed: the shipment is booked next).",
    ),
)

ROUTES = (
    Route(method="POST", path="/partners/{partner}/callbacks", target_kind="queue", target="partner-callbacks",
          authorization="none", forwarded_headers=(PARTNER_SIGNATURE_HEADER,),
          purpose="Partners' callbacks (a 3PL or dropshipper says a shipment is packed), stored raw in SQS; "
                  "signatures are verified by the consumer."),
)

QUEUE_EVENT_SOURCES = (QueueEventSource(queue="partner-callbacks", function="partner-callbacks-consumer",
                                        batch_size=10),)
