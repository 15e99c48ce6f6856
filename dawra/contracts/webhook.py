"""The envelope a carrier webhook is stored in, on SQS, before anything else looks at it ("storage first").

Locally the HTTP gateway builds it; on AWS the API Gateway -> SQS integration's mapping template builds the same JSON:

    {"carrier": "<path parameter>",
     "body_b64": "<the raw request body, base64>",
     "signature": "<X-Carrier-Signature header, or null>",
     "received_at_epoch_ms": <request time, ms since the epoch>}

The raw body is kept byte for byte (base64) because the signature is an HMAC over exactly those bytes.

Carriers, payment providers and partners sign the same way, each in its own header (`sign`, `verify`):
`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>`, refused outside the replay window.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.errors import WebhookRejected

SIGNATURE_HEADER = "X-Carrier-Signature"
# Content types a carrier may post (the route stores the body as it came); anything else is refused with 415.
CONTENT_TYPES = ("application/json", "text/plain", "application/x-www-form-urlencoded")


MAX_WEBHOOK_BYTES = 64 * 1024  # far above any carrier's report or payment provider's event
REPLAY_WINDOW_S = 300  # a webhook signed longer ago than this (or ahead) is refused as a replay


def sign(raw_body: bytes, secret: bytes, timestamp: int) -> str:
    """The signature header's value for `raw_body` (what the sender puts there; the demo and tests act as one)."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(raw_body: bytes, signature: str | None, secret: bytes, received_at_epoch_ms: int, *, header: str,
           replay_window_s: int = REPLAY_WINDOW_S) -> None:
    """WebhookRejected ("signature" or "replay") unless `raw_body` is signed with `secret` near when it came;
    `header` names the sender's signature header in the reasons (constant-time comparison)."""
    if not signature:
        raise WebhookRejected(f"missing {header}", "signature")
    try:
        fields = dict(part.split("=", 1) for part in signature.split(","))
        timestamp, given = int(fields["t"]), fields["v1"]
    except (ValueError, KeyError):
        raise WebhookRejected(f"malformed {header}", "signature") from None
    if abs(received_at_epoch_ms / 1000 - timestamp) > replay_window_s:
        raise WebhookRejected("signature timestamp outside the replay window", "replay")
    if not hmac.compare_digest(sign(raw_body, secret, timestamp).split("v1=", 1)[1], given):
        raise WebhookRejected("signature does not match", "signature")


class StoredWebhook(BaseModel):
    """What every webhook route stores: the raw body (base64: the signature is an HMAC over exactly those bytes),
    the forwarded signature header and when the request came. Each kind adds its sender, keyed by its route's path
    parameter (`carrier`, `provider`)."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    body_b64: str
    signature: str | None = None
    received_at_epoch_ms: int

    @property
    def raw_body(self) -> bytes:
        return base64.b64decode(self.body_b64, validate=True)

    @classmethod
    def opened(cls, stored: str) -> tuple[Self, bytes]:
        """The envelope a queue message holds and its raw body; WebhookRejected ("shape") when it is not one."""
        try:
            envelope = cls.model_validate_json(stored)
            return envelope, envelope.raw_body
        except (ValueError, TypeError):
            raise WebhookRejected("the stored webhook is not an envelope", "shape") from None


def within_limit(raw_body: bytes) -> bytes:
    """The body, or WebhookRejected ("size") when it is larger than any sender's report."""
    if len(raw_body) > MAX_WEBHOOK_BYTES:
        raise WebhookRejected(f"the body is {len(raw_body)} bytes", "size")
    return raw_body


def _encoded(raw_body: bytes) -> str:
    return base64.b64encode(raw_body).decode("ascii")


class CarrierWebhookEnvelope(StoredWebhook):
    carrier: str = Field(min_length=1, max_length=64)

    @classmethod
    def wrap(cls, carrier: str, raw_body: bytes, signature: str | None, received_at_epoch_ms: int) -> Self:
        return cls(carrier=carrier, body_b64=_encoded(raw_body), signature=signature,
                   received_at_epoch_ms=received_at_epoch_ms)


PAYMENT_SIGNATURE_HEADER = "X-Payment-Signature"


class PaymentWebhookEnvelope(StoredWebhook):
    """A payment provider's webhook as its route stores it on the payment-events queue: the same envelope as a
    carrier's, keyed by the route's path parameter (`provider`; the API Gateway mapping template names the key
    after the path parameter, so both routes share it)."""

    provider: str = Field(min_length=1, max_length=64)

    @classmethod
    def wrap(cls, provider: str, raw_body: bytes, signature: str | None, received_at_epoch_ms: int) -> Self:
        return cls(provider=provider, body_b64=_encoded(raw_body), signature=signature,
                   received_at_epoch_ms=received_at_epoch_ms)
