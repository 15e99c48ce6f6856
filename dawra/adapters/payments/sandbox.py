"""The sandbox payment provider: a real implementation of dawra.ports.PaymentProvider, offline and deterministic.

It behaves as a real provider does with idempotency keys (the `reference` of every call, scoped to its operation):
the same key with the same parameters answers the same result (its ids derive from the key and the parameters, so
even another process answers the same id); the same key with other parameters (another amount, authorisation or
token) is refused with PaymentKeyReused (HTTP 422), because the sandbox keeps a ledger of the keys it has answered
(`SandboxLedger`, in memory, owned by the sandbox like a real provider's own database: docs/decisions.md). The ledger
also remembers each authorisation (its token, when it lapses, whether it was released), which is what lets a capture
find an authorisation lapsed. The order's own arithmetic (captured <= authorised, ...) stays the order's to enforce.

Sandbox test tokens (send as ``payment_token``):

=================================== ========================================================================
``tok_sandbox_approve``             approved; the authorisation lapses after 7 days (`AUTHORIZATION_VALIDITY`)
                                    and can be re-authorised
``tok_sandbox_decline``             declined: card declined (HTTP 402, nothing is written)
``tok_sandbox_insufficient``        declined: insufficient funds (HTTP 402)
``tok_sandbox_unavailable``         processor error at authorisation (HTTP 503 with Retry-After; nothing is
                                    written; retry later with the same Idempotency-Key)
``tok_sandbox_expired``             approved, but the authorisation has lapsed by the time it is captured: the
                                    capture fails with AuthorizationExpired, the order re-authorises (approved)
                                    and ships
``tok_sandbox_expired_no_reauth``   as above, but the re-authorisation is declined too: the order is held for
                                    a person (operations alerted, on the timeline)
``tok_sandbox_capture_retry``       approved; the first capture under each key fails with a processor error
                                    (TransientError: the task is retried) and the retry captures
anything else                       declined: unknown token (HTTP 402)
=================================== ========================================================================

A token may name a test card after ``+card-`` (``tok_sandbox_approve+card-4242``): it pays as the token before it,
and its card fingerprint (`card_fingerprint`, what fraud screening counts per card) is derived from the name; the
bare tokens above are shared by every test and name no card (fingerprint None).

Amounts above 10,000,000 minor units are declined (the sandbox's limit).

Payment links (an agent's order for a customer on the phone): ``create_link(amount, reference)`` returns the link to
send and the authorization the order records (it never lapses in the sandbox). Link URLs look like
``https://pay.sandbox.dawra.example/l/<authorization id>``. The customer paying it is the provider's webhook
``payment_link.paid`` (below), which releases the order's "awaiting payment by link" hold; a manager may still
release it by hand.

Webhooks (``POST /payments/webhooks/sandbox``; dawra.app.payment_events applies them): a JSON body

    {"event_id": "evt_...", "type": "payment_link.paid" | "capture.settled" | "capture.failed" | "refund.settled"
              | "refund.failed" | "dispute.opened",
     "authorization_id": "auth_...", "payment_reference": "chk_<the checkout's reference>",
     "reference": "<the capture's or refund's key, if about one>", "amount": 1234, "currency": "SAR",
     "occurred_at": "2026-11-23T12:00:00Z", "reason": "<optional words>"}

signed like the carrier's: header ``X-Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``
with the ``dawra/payments/sandbox/webhook-secret`` secret (`sign`), refused outside 5 minutes of its arrival.
``event(...)`` builds a body as the sandbox would send it (tests and the demo act as the provider with it)."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from dawra.contracts import webhook
from dawra.contracts.webhook import PAYMENT_SIGNATURE_HEADER
from dawra.domain.errors import (
    AuthorizationExpired,
    PaymentDeclined,
    PaymentKeyReused,
    TransientError,
    WebhookRejected,
)
from dawra.domain.money import Money
from dawra.domain.payment_events import PaymentEvent, PaymentEventKind
from dawra.ports import Clock

SANDBOX_LIMIT = 10_000_000
AUTHORIZATION_VALIDITY = timedelta(days=7)
SIGNATURE_HEADER = PAYMENT_SIGNATURE_HEADER
sign = webhook.sign  # what the provider puts in X-Payment-Signature (the demo and tests act as the provider)
APPROVE = "tok_sandbox_approve"
EXPIRED = "tok_sandbox_expired"
EXPIRED_NO_REAUTH = "tok_sandbox_expired_no_reauth"
CAPTURE_RETRY = "tok_sandbox_capture_retry"
APPROVED_TOKENS = (APPROVE, EXPIRED, EXPIRED_NO_REAUTH, CAPTURE_RETRY)
DECLINES = {"tok_sandbox_decline": "the card was declined", "tok_sandbox_insufficient": "insufficient funds"}
LINK = "link"  # the token a payment link's authorisation is recorded under
CARD_MARK = "+card-"  # a test token naming a card: tok_sandbox_approve+card-4242 (its own card fingerprint)


def _derive(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


class _UtcNow:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Authorization:
    token: str
    amount: Money
    expires_at: datetime | None  # None: never lapses (a payment link's)
    released: bool = False


class SandboxLedger:
    """What the sandbox has answered: each (operation, key) with its parameters' fingerprint and result, and each
    authorisation. In memory and thread-safe; one per provider instance unless shared (the registry shares one per
    process, so every function container of the embedded cloud sees the same ledger, as they would one provider)."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], tuple[str, str]] = {}
        self._authorizations: dict[str, Authorization] = {}
        self._failed_once: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def answer(self, operation: str, key: str, fingerprint: str, result: str) -> str:
        """`result` the first time; the first result again for the same fingerprint; PaymentKeyReused otherwise."""
        with self._lock:
            earlier = self._answers.setdefault((operation, key), (fingerprint, result))
        if earlier[0] != fingerprint:
            raise PaymentKeyReused(f"the {operation} key {key!r} was used before with other parameters")
        return earlier[1]

    def knows(self, operation: str, key: str) -> bool:
        with self._lock:
            return (operation, key) in self._answers

    def authorization(self, authorization_id: str) -> Authorization | None:
        with self._lock:
            return self._authorizations.get(authorization_id)

    def remember(self, authorization_id: str, authorization: Authorization) -> None:
        with self._lock:
            self._authorizations.setdefault(authorization_id, authorization)

    def release(self, authorization_id: str) -> None:
        with self._lock:
            if authorization_id in self._authorizations:
                self._authorizations[authorization_id].released = True

    def fail_once(self, operation: str, key: str) -> bool:
        """True the first time it is asked for this key (the sandbox's one processor error), False after."""
        with self._lock:
            if (operation, key) in self._failed_once:
                return False
            self._failed_once.add((operation, key))
            return True


class SandboxPaymentProvider:
    name = "sandbox"
    authorization_validity: timedelta | None = AUTHORIZATION_VALIDITY

    def __init__(self, clock: Clock | None = None, ledger: SandboxLedger | None = None):
        self.clock: Clock = clock or _UtcNow()
        self.ledger = ledger or SandboxLedger()

    # --- the provider's calls -----------------------------------------------------------------------------------
    def card_fingerprint(self, token: str) -> str | None:
        """dawra.ports.CardFingerprints: the test card a token names after `+card-`, else None."""
        _, mark, card = token.partition(CARD_MARK)
        return _derive("fp_", card) if mark and card else None

    def authorize(self, token: str, amount: Money, reference: str) -> str:
        token = token.partition(CARD_MARK)[0]  # a named test card pays as its token
        if token == "tok_sandbox_unavailable":
            raise TransientError("the payment provider is unavailable; retry with the same Idempotency-Key")
        if token in DECLINES:
            raise PaymentDeclined(DECLINES[token], field="payment_token")
        if token not in APPROVED_TOKENS:
            raise PaymentDeclined("unknown payment token", field="payment_token")
        if amount.amount > SANDBOX_LIMIT:
            raise PaymentDeclined("the amount exceeds the sandbox limit", field="payment_token")
        authorization_id = self.ledger.answer("authorize", reference, _print(token, amount),
                                              _derive("auth_", reference, token, str(amount.amount), amount.currency))
        lapses = self.clock.now() + (AUTHORIZATION_VALIDITY if token in (APPROVE, CAPTURE_RETRY) else timedelta(0))
        self.ledger.remember(authorization_id, Authorization(token, amount, lapses))
        return authorization_id

    def create_link(self, amount: Money, reference: str) -> tuple[str, str]:
        """(authorization id, the URL the customer pays at). The same reference always yields the same link."""
        if amount.amount > SANDBOX_LIMIT:
            raise PaymentDeclined("the amount exceeds the sandbox limit", field="payment")
        authorization_id = self.ledger.answer("create_link", reference, _print(amount), _derive(
            "auth_", reference, LINK, str(amount.amount), amount.currency))
        self.ledger.remember(authorization_id, Authorization(LINK, amount, None))
        return authorization_id, f"https://pay.sandbox.dawra.example/l/{authorization_id}"

    def reauthorize(self, authorization_id: str, amount: Money, reference: str) -> str:
        self._check(authorization_id)
        known = self.ledger.authorization(authorization_id)
        token = known.token if known else APPROVE  # not in this ledger (another process): the card is good
        if token == EXPIRED_NO_REAUTH:
            raise PaymentDeclined("the issuer declined the re-authorisation", field="payment")
        renewed = self.ledger.answer("reauthorize", reference, _print(authorization_id, amount), _derive(
            "auth_", reference, "reauth", authorization_id, str(amount.amount), amount.currency))
        self.ledger.remember(renewed, Authorization(APPROVE, amount, self.clock.now() + AUTHORIZATION_VALIDITY))
        self.ledger.release(authorization_id)
        return renewed

    def capture(self, authorization_id: str, amount: Money, reference: str) -> str:
        self._check(authorization_id)
        fingerprint = _print(authorization_id, amount)
        if not self.ledger.knows("capture", reference):  # a repeat of an applied capture answers, lapsed or not
            known = self.ledger.authorization(authorization_id)
            if known and known.expires_at is not None and self.clock.now() >= known.expires_at:
                raise AuthorizationExpired(f"authorization {authorization_id} has lapsed", field="payment")
            if known and known.released:
                raise PaymentDeclined(f"authorization {authorization_id} was released", field="payment")
            if known and known.token == CAPTURE_RETRY and self.ledger.fail_once("capture", reference):
                raise TransientError("the payment processor failed (sandbox: once per capture key); retry")
        return self.ledger.answer("capture", reference, fingerprint,
                                  _derive("cap_", authorization_id, reference, str(amount.amount)))

    def void(self, authorization_id: str, reference: str) -> str:
        self._check(authorization_id)
        voided = self.ledger.answer("void", reference, _print(authorization_id),
                                    _derive("void_", authorization_id, reference))
        self.ledger.release(authorization_id)
        return voided

    def void_part(self, authorization_id: str, amount: Money, reference: str) -> str:
        self._check(authorization_id)
        return self.ledger.answer("void_part", reference, _print(authorization_id, amount),
                                  _derive("rev_", authorization_id, reference, str(amount.amount)))

    def refund(self, authorization_id: str, amount: Money, reference: str) -> str:
        self._check(authorization_id)
        return self.ledger.answer("refund", reference, _print(authorization_id, amount),
                                  _derive("ref_", authorization_id, reference, str(amount.amount)))

    @staticmethod
    def _check(authorization_id: str) -> None:
        if not (authorization_id.startswith("auth_") and len(authorization_id) == 29):
            raise PaymentDeclined(f"unknown authorization {authorization_id}")

    # --- its webhooks -------------------------------------------------------------------------------------------
    def verify(self, raw_body: bytes, signature: str | None, secret: bytes, received_at_epoch_ms: int) -> None:
        webhook.verify(raw_body, signature, secret, received_at_epoch_ms, header=SIGNATURE_HEADER)

    def parse(self, raw_body: bytes) -> list[PaymentEvent]:
        try:
            body = SandboxPaymentWebhook.model_validate(json.loads(raw_body))
            if body.occurred_at.tzinfo is None:
                raise ValueError("occurred_at must carry a time zone")
            amount = Money(amount=body.amount, currency=body.currency) if body.amount is not None and \
                body.currency else None
            return [PaymentEvent(provider=self.name, event_id=body.event_id, kind=PaymentEventKind(body.type),
                                 authorization_id=body.authorization_id, payment_reference=body.payment_reference,
                                 reference=body.reference, amount=amount, occurred_at=body.occurred_at.astimezone(UTC),
                                 reason=body.reason)]
        except (ValueError, ValidationError) as exc:
            raise WebhookRejected(f"malformed sandbox payment webhook: {exc.__class__.__name__}", "shape") from None


def _print(*parts: object) -> str:
    return hashlib.sha256(json.dumps([p.model_dump(mode="json") if isinstance(p, Money) else p for p in parts],
                                     separators=(",", ":")).encode()).hexdigest()


class SandboxPaymentWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    event_id: str
    type: str
    authorization_id: str
    payment_reference: str
    reference: str | None = None
    amount: int | None = None
    currency: str | None = None
    occurred_at: datetime
    reason: str | None = None


def event(event_id: str, kind: PaymentEventKind | str, authorization_id: str, payment_reference: str, *,
          occurred_at: str, reference: str | None = None, amount: Money | None = None,
          reason: str | None = None) -> bytes:
    """A webhook body as the sandbox provider sends it."""
    body: dict[str, Any] = {"event_id": event_id, "type": str(kind), "authorization_id": authorization_id,
                            "payment_reference": payment_reference, "occurred_at": occurred_at}
    if reference is not None:
        body["reference"] = reference
    if amount is not None:
        body |= {"amount": amount.amount, "currency": amount.currency}
    if reason is not None:
        body["reason"] = reason
    return json.dumps(body, separators=(",", ":")).encode()
