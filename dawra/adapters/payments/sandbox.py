"""The sandbox payment provider: a real implementation of dawra.ports.PaymentProvider, offline and deterministic.

The sandbox is deterministic, needs no network and keeps no state of its own (the order records what was authorised,
captured, voided and refunded, and the order logic enforces the arithmetic). Its ids derive from the caller's
reference, so every call is idempotent: the same reference always yields the same id.

Sandbox test tokens (send as ``payment_token``):

============================== ===========================================================
``tok_sandbox_approve``        approved
``tok_sandbox_decline``        declined: card declined (HTTP 402, nothing is written)
``tok_sandbox_insufficient``   declined: insufficient funds (HTTP 402)
``tok_sandbox_unavailable``    provider unavailable (HTTP 503; retry later, same Idempotency-Key)
anything else                  declined: unknown token (HTTP 402)
============================== ===========================================================

Amounts above 10,000,000 minor units are declined (the sandbox's limit).

Payment links (an agent's order for a customer on the phone): ``create_link(amount, reference)`` returns the link to
send and the authorization the order records; the sandbox treats the link as paid once an operator confirms it by
releasing the order's "awaiting payment" hold (the provider's own confirmation webhook is not emulated).
Link URLs look like ``https://pay.sandbox.dawra.example/l/<authorization id>``."""

from __future__ import annotations

import hashlib

from dawra.domain.errors import PaymentDeclined, TransientError
from dawra.domain.money import Money

SANDBOX_LIMIT = 10_000_000


def _derive(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


class SandboxPaymentProvider:
    name = "sandbox"

    def authorize(self, token: str, amount: Money, reference: str) -> str:
        if token == "tok_sandbox_unavailable":
            raise TransientError("the payment provider is unavailable; retry with the same Idempotency-Key")
        if token == "tok_sandbox_decline":
            raise PaymentDeclined("the card was declined", field="payment_token")
        if token == "tok_sandbox_insufficient":
            raise PaymentDeclined("insufficient funds", field="payment_token")
        if token != "tok_sandbox_approve":
            raise PaymentDeclined("unknown payment token", field="payment_token")
        if amount.amount > SANDBOX_LIMIT:
            raise PaymentDeclined("the amount exceeds the sandbox limit", field="payment_token")
        return _derive("auth_", reference, token, str(amount.amount), amount.currency)

    def create_link(self, amount: Money, reference: str) -> tuple[str, str]:
        """(authorization id, the URL the customer pays at). The same reference always yields the same link."""
        if amount.amount > SANDBOX_LIMIT:
            raise PaymentDeclined("the amount exceeds the sandbox limit", field="payment")
        authorization_id = _derive("auth_", reference, "link", str(amount.amount), amount.currency)
        return authorization_id, f"https://pay.sandbox.dawra.example/l/{authorization_id}"

    def capture(self, authorization_id: str, amount: Money, reference: str) -> str:
        self._check(authorization_id)
        return _derive("cap_", authorization_id, reference, str(amount.amount))

    def void(self, authorization_id: str, reference: str) -> str:
        self._check(authorization_id)
        return _derive("void_", authorization_id, reference)

    def void_part(self, authorization_id: str, amount: Money, reference: str) -> str:
        self._check(authorization_id)
        return _derive("rev_", authorization_id, reference, str(amount.amount))

    def refund(self, authorization_id: str, amount: Money, reference: str) -> str:
        self._check(authorization_id)
        return _derive("ref_", authorization_id, reference, str(amount.amount))

    @staticmethod
    def _check(authorization_id: str) -> None:
        if not (authorization_id.startswith("auth_") and len(authorization_id) == 29):
            raise PaymentDeclined(f"unknown authorization {authorization_id}")

