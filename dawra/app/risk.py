"""Checkout's fraud screening (dawra.domain.risk holds the rules and the evaluator; this runs them for checkout).

What it costs checkout: nothing more on its way to AWS. The counters of the order's email, phone, card fingerprint
and client IP (keyed digests) are read in the catalog's BatchGetItem and bumped in the order's own commit; only a
refusal writes something else (its record, for operators), and it writes nothing of the order. A hold for review is
a hold of kind `fraud_review` (dawra.domain.holds): the order is placed, its stock reserved, and it waits for an
agent's decision (or its time runs out, and it is cancelled)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

from dawra.domain.customer import Contact
from dawra.domain.errors import RefusedByRiskScreening
from dawra.domain.holds import Hold, HoldKind
from dawra.domain.money import Money
from dawra.domain.risk import (
    Checked,
    Counter,
    Identity,
    Refusal,
    RiskOutcome,
    RiskRules,
    Signal,
    Verdict,
    bump,
    digest,
    history,
    screen,
)
from dawra.domain.time import iso
from dawra.ports import CardFingerprints, Clock, RiskCount, RiskRecords

COUNTERS_KEPT = timedelta(days=180)  # a counter is forgotten this long after its last change (refusals included)
REFUSED = "The order cannot be accepted. Contact the shop if you think this is a mistake."


@dataclass(frozen=True)
class RiskInputs:
    """What the screening needs beyond the order's details: from the storefront (the card's token, the shopper's IP,
    the billing country) or an agent (cash on delivery)."""

    card_token: str | None = None
    client_ip: str | None = None
    billing_country: str | None = None
    cash_on_delivery: bool = False
    placed_by: str | None = None


@dataclass(frozen=True)
class Screened:
    verdict: Verdict
    counts: list[RiskCount]  # the counters' changes, committed with the order


class RiskScreening:
    def __init__(self, rules: RiskRules, key: Callable[[], bytes], records: RiskRecords, clock: Clock,
                 fingerprints: CardFingerprints | None = None):
        """key: the digests' HMAC key (a cached secret); fingerprints: the card payment provider's."""
        self.rules, self.key, self.records, self.clock, self.fingerprints = rules, key, records, clock, fingerprints

    def identities(self, contact: Contact, inputs: RiskInputs) -> list[Identity]:
        """The signals this order has, as the counters' names (keyed digests)."""
        card = self.fingerprints.card_fingerprint(inputs.card_token) if (
            self.fingerprints is not None and inputs.card_token) else None
        found = {Signal.EMAIL: str(contact.email), Signal.PHONE: contact.phone, Signal.CARD: card,
                 Signal.IP: inputs.client_ip}
        wanted = self.rules.counted
        present = {signal: value for signal, value in found.items() if value and signal in wanted}
        if not present:
            return []
        key = self.key()
        return [Identity(signal, digest(key, signal, value)) for signal, value in present.items()]

    def judge(self, identities: Sequence[Identity], counters: Mapping[str, Counter], *, country: str, total: Money,
              postcode: str | None, inputs: RiskInputs) -> Screened:
        now = self.clock.now()
        signals = {i.signal: history(counters.get(i.key), self.rules.windows(i.signal), now) for i in identities}
        verdict = screen(self.rules, Checked(country=country, total=total, postcode=postcode,
                                             billing_country=inputs.billing_country,
                                             cash_on_delivery=inputs.cash_on_delivery, signals=signals))
        expires = int((now + COUNTERS_KEPT).timestamp())
        counts = []
        for identity in identities:
            change = bump(counters.get(identity.key) or Counter(), self.rules.windows(identity.signal), now)
            counts.append(RiskCount(key=identity.key, add=change.add, remove=tuple(change.remove), expires_at=expires))
        return Screened(verdict, counts)

    def refuse(self, verdict: Verdict, identities: Sequence[Identity], *, country: str, total: Money,
               inputs: RiskInputs) -> NoReturn:
        """Keep the refusal for operators (the rules that refused, no personal data in the clear), then refuse."""
        self.records.record_refusal(Refusal(
            refusal_id="rfs_" + secrets.token_hex(8), at=iso(self.clock.now()), rules_version=verdict.rules_version,
            reasons=verdict.reasons, country=country, total=total, cash_on_delivery=inputs.cash_on_delivery,
            placed_by=inputs.placed_by, signals={i.signal.value: i.digest[:12] for i in identities}))
        raise RefusedByRiskScreening(REFUSED)


def held_for_review(verdict: Verdict, asked: Hold | None) -> Hold | None:
    """The hold an order is placed with once screened: a review holds it for an agent (kind `fraud_review`); an
    order already to be held for a kind staff decide keeps that kind (a payment link's, a credit approval's: whoever
    decides it sees the screening's reasons too). A cash-on-delivery confirmation gives way to the review: the
    customer's own "yes" must not release an order the screening flagged, so an agent decides it (its reasons
    kept). Anything else: the hold asked for."""
    if verdict.outcome != RiskOutcome.REVIEW:
        return asked
    if asked is None or asked.kind in (HoldKind.OPERATOR, HoldKind.COD_CONFIRMATION):
        why = verdict.summary if asked is None else f"{asked.reason}; {verdict.summary}"
        return Hold(kind=HoldKind.FRAUD_REVIEW, reason=why[:300],
                    reasons=[*(asked.reasons if asked else []), *verdict.reasons])
    return asked.model_copy(update={"reasons": [*asked.reasons, *verdict.reasons]})


class RefusalsAtTheDoor:
    """A cash-on-delivery parcel that came back to its location undelivered (refused at the door, or nobody paid):
    counted on the customer's phone, in the tracking report's own commit (the `cod_refusals` rules read it)."""

    def __init__(self, key: Callable[[], bytes], clock: Clock):
        self.key, self.clock = key, clock

    def count(self, phone: str | None) -> RiskCount | None:
        if not phone:
            return None
        identity = Identity(Signal.PHONE, digest(self.key(), Signal.PHONE, phone))
        return RiskCount(key=identity.key, add={"refusals": 1},
                         expires_at=int((self.clock.now() + COUNTERS_KEPT).timestamp()))
