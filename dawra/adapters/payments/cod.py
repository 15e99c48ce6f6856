"""Cash on delivery: a real dawra.ports.PaymentProvider for orders the customer pays the courier for.

Nothing is charged up front. "Authorise" records that the order's total is to be collected at the door; "capture"
records the shipment's share as collected by the courier when the parcel ships (the courier remits it later:
reconciling remittances against captures is the payments-and-risk work); "void" drops what was never collected
("void_part", that much of it); "refund" records money the merchant hands back (in cash or by transfer). Like the
sandbox it is deterministic and keeps no state of its own: its ids derive from the caller's reference, so every call
is idempotent."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from dawra.domain.errors import PaymentDeclined
from dawra.domain.money import Money
from dawra.domain.order import CASH_ON_DELIVERY

COD_LIMIT = 500_000  # above this (minor units) couriers will not carry the cash: pay by link instead


def _derive(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


class CashOnDelivery:
    name = CASH_ON_DELIVERY
    authorization_validity: timedelta | None = None  # nothing lapses: there is no card authorisation

    def reauthorize(self, authorization_id: str, amount: Money, reference: str) -> str:
        """Nothing lapses, so nothing is renewed: the same authorisation stands (never asked: no validity)."""
        self._check(authorization_id)
        return authorization_id


    def authorize(self, token: str, amount: Money, reference: str) -> str:
        if amount.amount > COD_LIMIT:
            raise PaymentDeclined(f"cash on delivery is limited to {COD_LIMIT} minor units; send a payment link",
                                  field="payment")
        return _derive("cod_", reference, str(amount.amount), amount.currency)

    def capture(self, authorization_id: str, amount: Money, reference: str) -> str:
        self._check(authorization_id)
        return _derive("codcol_", authorization_id, reference, str(amount.amount))

    def void(self, authorization_id: str, reference: str) -> str:
        self._check(authorization_id)
        return _derive("codvoid_", authorization_id, reference)

    def void_part(self, authorization_id: str, amount: Money, reference: str) -> str:
        self._check(authorization_id)  # the courier is to collect that much less at the door
        return _derive("codrev_", authorization_id, reference, str(amount.amount))

    def refund(self, authorization_id: str, amount: Money, reference: str) -> str:
        self._check(authorization_id)
        return _derive("codref_", authorization_id, reference, str(amount.amount))

    @staticmethod
    def _check(authorization_id: str) -> None:
        if not (authorization_id.startswith("cod_") and len(authorization_id) == 28):
            raise PaymentDeclined(f"unknown cash-on-delivery order {authorization_id}")
