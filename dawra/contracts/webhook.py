"""The envelope a carrier webhook is stored in, on SQS, before anything else looks at it ("storage first").

Locally the HTTP gateway builds it; on AWS the API Gateway -> SQS integration's mapping template builds the same JSON:

    {"carrier": "<path parameter>",
     "body_b64": "<the raw request body, base64>",
     "signature": "<X-Carrier-Signature header, or null>",
     "received_at_epoch_ms": <request time, ms since the epoch>}

The raw body is kept byte for byte (base64) because the signature is an HMAC over exactly those bytes.
"""

from __future__ import annotations

import base64
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

SIGNATURE_HEADER = "X-Carrier-Signature"
# Content types a carrier may post (the route stores the body as it came); anything else is refused with 415.
CONTENT_TYPES = ("application/json", "text/plain", "application/x-www-form-urlencoded")


class CarrierWebhookEnvelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    carrier: str = Field(min_length=1, max_length=64)
    body_b64: str
    signature: str | None = None
    received_at_epoch_ms: int

    @property
    def raw_body(self) -> bytes:
        return base64.b64decode(self.body_b64, validate=True)

    @classmethod
    def wrap(cls, carrier: str, raw_body: bytes, signature: str | None, received_at_epoch_ms: int) -> Self:
        return cls(
            carrier=carrier,
            body_b64=base64.b64encode(raw_body).decode("ascii"),
            signature=signature,
            received_at_epoch_ms=received_at_epoch_ms,
        )


PAYMENT_SIGNATURE_HEADER = "X-Payment-Signature"


class PaymentWebhookEnvelope(BaseModel):
    """A payment provider's webhook as its route stores it on the payment-events queue: the same envelope as a
    carrier's, keyed by the route's path parameter (`provider`; the API Gateway mapping template names the key
    after the path parameter, so both routes share it)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    provider: str = Field(min_length=1, max_length=64)
    body_b64: str
    signature: str | None = None
    received_at_epoch_ms: int

    @property
    def raw_body(self) -> bytes:
        return base64.b64decode(self.body_b64, validate=True)

    @classmethod
    def wrap(cls, provider: str, raw_body: bytes, signature: str | None, received_at_epoch_ms: int) -> Self:
        return cls(provider=provider, body_b64=base64.b64encode(raw_body).decode("ascii"), signature=signature,
                   received_at_epoch_ms=received_at_epoch_ms)
