"""Fraud screening and holds: the key of the risk counters' digests (a secret), who reads it, and how long each kind
of hold may last (a deploy parameter; dawra/domain/holds.py has the defaults)."""

from __future__ import annotations

from dawra.contracts import env as E

from .model import Grant, Parameter, Ref, Secret, arn

SECRETS = (
    Secret(id="risk-key", name="dawra/risk/digest-key",
           purpose="HMAC key of the fraud screening's digests (emails, phones, card fingerprints and IP addresses "
                   "are counted as keyed digests, never in the clear)."),
)
# Checkout (the storefront's and an agent's) reads and bumps the counters; the tracking consumer counts a cash-on-
# delivery parcel refused at the door on the customer's phone.
RISK_KEY = {E.RISK_KEY_SECRET: Ref(kind="secret", id="risk-key")}
READ_RISK_KEY = Grant(actions=("secretsmanager:GetSecretValue",), resources=(arn("secret", "risk-key"),))

HOLD_HOURS = Parameter(
    id="hold-hours",
    local_value="",
    purpose="How long each kind of hold may last, in hours per kind over the defaults (operator=168, "
            "awaiting_link_payment=168, fraud_review=48, cod_confirmation=24, credit_approval=72), e.g. "
            "'fraud_review=24,cod_confirmation=2'; empty: the defaults. A fraud review, a cash-on-delivery "
            "confirmation or a credit approval not decided in time is cancelled; the others go to a person.",
)
HOLD_TIMEOUTS = {E.HOLD_HOURS: Ref(kind="parameter", id="hold-hours", attr="value")}
PARAMETERS = (HOLD_HOURS,)
