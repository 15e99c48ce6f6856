"""On account: a real dawra.ports.PaymentProvider for a business customer's orders on its terms.

Nothing is charged up front and no card is involved: "authorise" records that the order's total is to be invoiced
(checkout has already checked the account's credit limit); "capture" records a shipment's share as invoiced when the
parcel ships (the customer pays the invoice later, by its due date: a manager records the payment in the back
office); "void" and "void_part" drop what will not be invoiced; "refund" records a credit against what was invoiced.
Like the sandbox it is deterministic and keeps no state of its own: its ids derive from the caller's reference, so
every call is idempotent. The money owed lives on the order and its account (dawra.domain.accounts)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from dawra.domain.accounts import ON_ACCOUNT
from dawra.domain.errors import PaymentDeclined
from dawra.domain.money import Money


def _derive(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


class OnAccount:
    name = ON_ACCOUNT
    authorization_validity: timedelta | None = None  # nothing lapses: there is no card authorisation

    def reauthorize(self, authorization_id: str, amount: Money, reference: str) -> str:
        """Nothing lapses, so nothing is renewed: the same authorisation stands (never asked: no validity)."""
        self._check(authorization_id)
        return authorization_id


    def authorize(self, token: str, amount: Money, reference: str) -> str:
        return _derive("acct_", reference, str(amount.amount), amount.currency)

    def capture(self, authorization_id: str, amount: Money, reference: str) -> str:
        self._check(authorization_id)
        return _derive("acctinv_", authorization_id, reference, str(amount.amount))

    def void(self, authorization_id: str, reference: str) -> str:
        self._check(authorization_id)
        return _derive("acctvoid_", authorization_id, reference)

    def void_part(self, authorization_id: str, amount: Money, reference: str) -> str:
        self._check(authorization_id)
        return _derive("acctrev_", authorization_id, reference, str(amount.amount))

    def refund(self, authorization_id: str, amount: Money, reference: str) -> str:
        self._check(authorization_id)
        return _derive("acctcr_", authorization_id, reference, str(amount.amount))

    @staticmethod
    def _check(authorization_id: str) -> None:
        if not (authorization_id.startswith("acct_") and len(authorization_id) == 29):
            raise PaymentDeclined(f"unknown order on account {authorization_id}")
