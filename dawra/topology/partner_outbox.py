"""Partners' outbound side (decision 97): the queue a 3PL or dropshipper takes the shipments it prepares from, and each
partner's own HMAC key. The ship function sends there (ShipShipment, for a shipment at a "partner" location only);
the callbacks consumer (dawra/topology/partners.py) verifies with the same keys."""

from __future__ import annotations

from dawra.contracts import env as E
from dawra.contracts.partners import secret_name

from .model import Grant, Queue, Ref, Secret, arn

PARTNERS = ("dammam-3pl",)  # the partner locations (Location.preparation "partner"); one key each

QUEUES = (
    Queue(
        id="partner-outbound",
        name="dawra-partner-outbound",
        visibility_timeout_s=60,
        retention_s=14 * 24 * 3600,
        dead_letter_queue="partner-outbound-dlq",
        max_receive_count=10,
        purpose="Signed shipments for partners (3PLs, dropshippers) to prepare (dawra/contracts/partners.py); "
                "each partner reads its own (message attribute 'partner').",
    ),
    Queue(
        id="partner-outbound-dlq",
        name="dawra-partner-outbound-dlq",
        retention_s=14 * 24 * 3600,
        purpose="Shipments a partner failed to take max_receive_count times: the packing SLA's alert follows.",
    ),
)

SECRETS = tuple(
    Secret(id=f"partner-{partner}", name=secret_name(partner),
           purpose=f"HMAC key of partner {partner}: signs what Dawra sends it and what it calls back with.")
    for partner in PARTNERS
)
READ_PARTNER_SECRETS = tuple(Grant(actions=("secretsmanager:GetSecretValue",), resources=(arn("secret", s.id),))
                             for s in SECRETS)
SEND_TO_PARTNERS = Grant(actions=("sqs:SendMessage",), resources=(arn("queue", "partner-outbound"),))
PARTNER_OUTBOX = {E.PARTNER_OUTBOX_QUEUE_URL: Ref(kind="queue", id="partner-outbound", attr="url")}
