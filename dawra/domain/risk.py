"""Fraud screening at checkout: the merchant's rule set (data, versioned: `risk_rules.json` beside this module,
validated when loaded), the evaluator, and the counters it reads (velocity, first orders, refusals at the door).

`screen(rules, checked)` is pure: given what checkout knows about an order (`Checked`: its destination, total,
billing country, postcode, whether it is paid in cash at the door, and each signal's history), it answers a `Verdict`:
accept, hold for review, or refuse, with every rule that tripped (its id and its words in English and Arabic, which
become the hold's reasons: dawra.domain.holds). The strictest outcome wins: one rule that refuses refuses.

Each rule has an `id`, an `outcome` (`review` or `refuse`) and its parameters (`kind` says which):

- `velocity`: more than `max_orders` orders from one email, phone, card (the payment provider's fingerprint) or client
  IP within `window_hours` (this order included: the count before it is `max_orders` or more);
- `amount`: a total above a threshold per shipping country (minor units of the order's currency);
- `billing_country_mismatch`: a billing country given and not the shipping country;
- `first_order_over`: the first order from this email, above a threshold per shipping country;
- `risky_postcode`: a shipping postcode starting with one of the country's listed prefixes;
- `cod_refusals`: a cash-on-delivery order from a phone whose parcels were refused at the door at least `at_least`
  times (the carrier brought them back).

Counters: one item per signal value (a keyed digest of the email, phone, card fingerprint or IP, never the value),
holding how many orders it ever placed, how many cash-on-delivery parcels it refused, and per velocity window the
orders of the current and the previous fixed window (a sliding count is estimated from the two: the current window's
orders plus the previous one's in proportion to how much of it still falls in the sliding window). Checkout reads
them with the catalog and the stock (one request) and bumps them in the order's own commit."""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dawra.domain.holds import HoldReason
from dawra.domain.money import Money

RULES_FILE = Path(__file__).with_name("risk_rules.json")
RuleId = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,48}$")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class RiskOutcome(enum.StrEnum):
    ACCEPT = "accept"
    REVIEW = "review"  # placed, then held for an agent's review (HoldKind.FRAUD_REVIEW)
    REFUSE = "refuse"  # not placed: nothing authorised or written but the refusal's record

    @property
    def severity(self) -> int:
        return {"accept": 0, "review": 1, "refuse": 2}[self.value]


class Signal(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"  # the payment provider's fingerprint of the card behind the token
    IP = "ip"  # the shopper's IP address, as the storefront saw it


class Words(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    en: str = Field(min_length=1, max_length=300)
    ar: str = Field(min_length=1, max_length=300)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: RuleId
    outcome: Literal["review", "refuse"]
    text: Words  # what an operator reads (never the customer)


class VelocityRule(_Rule):
    kind: Literal["velocity"]
    signal: Signal
    max_orders: int = Field(ge=1, le=100_000)
    window_hours: float = Field(gt=0, le=24 * 90)

    @property
    def window_s(self) -> int:
        return max(60, round(self.window_hours * 3600))


class AmountRule(_Rule):
    kind: Literal["amount"]
    above: dict[CountryCode, int] = Field(min_length=1)  # minor units of the order's currency


class BillingCountryRule(_Rule):
    kind: Literal["billing_country_mismatch"]


class FirstOrderRule(_Rule):
    kind: Literal["first_order_over"]
    above: dict[CountryCode, int] = Field(min_length=1)


class PostcodeRule(_Rule):
    kind: Literal["risky_postcode"]
    postcodes: dict[CountryCode, list[Annotated[str, Field(min_length=1, max_length=12)]]] = Field(min_length=1)


class CodRefusalsRule(_Rule):
    kind: Literal["cod_refusals"]
    at_least: int = Field(ge=1, le=1000)


Rule = Annotated[VelocityRule | AmountRule | BillingCountryRule | FirstOrderRule | PostcodeRule | CodRefusalsRule,
                 Field(discriminator="kind")]


class RiskRules(BaseModel):
    """The merchant's rule set. `version` names it on every refusal and hold (a rule set is changed by publishing a
    new version of the file, never by editing one in place)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    version: str = Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")
    rules: list[Rule]

    @model_validator(mode="after")
    def _unique_ids(self) -> RiskRules:
        ids = [rule.id for rule in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError(f"rule ids must be unique: {sorted(i for i in ids if ids.count(i) > 1)}")
        return self

    def windows(self, signal: Signal) -> list[int]:
        """The velocity windows (seconds) counted for a signal: one per distinct window of its rules."""
        return sorted({r.window_s for r in self.rules if isinstance(r, VelocityRule) and r.signal == signal})

    @property
    def counted(self) -> frozenset[Signal]:
        """The signals whose counters checkout reads and bumps: those a rule looks at (the email always: it says
        whether this is a first order; the phone always: refusals at the door are counted on it)."""
        return frozenset({Signal.EMAIL, Signal.PHONE} | {r.signal for r in self.rules if isinstance(r, VelocityRule)})


def load_rules(text: str) -> RiskRules:
    return RiskRules.model_validate_json(text)


@cache
def default_rules() -> RiskRules:
    """The rule set shipped beside this module, validated once per process."""
    return load_rules(RULES_FILE.read_text(encoding="utf-8"))


# --- counters ------------------------------------------------------------------------------------------------------
class Counter(BaseModel):
    """One signal value's history as stored: orders ever placed, COD parcels refused at the door, and per velocity
    window `w<seconds>_<index>` the orders of that fixed window (only the current and previous are kept)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    orders: int = 0
    refusals: int = 0
    buckets: dict[str, int] = Field(default_factory=dict)


def bucket(window_s: int, index: int) -> str:
    return f"w{window_s}_{index}"


def recent(counter: Counter, window_s: int, now: datetime) -> float:
    """Orders within the last `window_s` before `now`, estimated from the current and the previous fixed window."""
    epoch = now.timestamp()
    index = int(epoch // window_s)
    elapsed = (epoch - index * window_s) / window_s
    current = counter.buckets.get(bucket(window_s, index), 0)
    previous = counter.buckets.get(bucket(window_s, index - 1), 0)
    return current + previous * (1 - elapsed)


@dataclass(frozen=True)
class Bump:
    """What one order adds to a counter: +1 orders and +1 in each window's current bucket; buckets no window needs
    any more are removed (the counter stays small)."""

    add: dict[str, int]
    remove: list[str]


def bump(counter: Counter, windows: Sequence[int], now: datetime) -> Bump:
    epoch = now.timestamp()
    current = {bucket(w, int(epoch // w)) for w in windows}
    kept = current | {bucket(w, int(epoch // w) - 1) for w in windows}
    return Bump(add={"orders": 1, **{name: 1 for name in sorted(current)}},
                remove=sorted(name for name in counter.buckets if name not in kept))


@dataclass(frozen=True)
class SignalHistory:
    recent: Mapping[int, float] = field(default_factory=dict)  # window seconds -> orders before this one in it
    orders: int = 0  # orders ever placed with this value (kept while it is in use; TTL after)
    refusals: int = 0  # cash-on-delivery parcels refused at the door


def history(counter: Counter | None, windows: Sequence[int], now: datetime) -> SignalHistory:
    counter = counter or Counter()
    return SignalHistory(recent={w: recent(counter, w, now) for w in windows}, orders=counter.orders,
                         refusals=counter.refusals)


# --- identities: what is counted, as keyed digests ----------------------------------------------------------------
def normalized(signal: Signal, value: str) -> str:
    value = value.strip()
    return value.lower() if signal in (Signal.EMAIL, Signal.IP) else value


def digest(key: bytes, signal: Signal, value: str) -> str:
    """A keyed digest of a signal's value: counted, never stored in the clear, and not reversible (nor matchable to a
    known email or phone) by someone who reads the table without the key."""
    mac = hmac.new(key, f"dawra-risk|{signal.value}|{normalized(signal, value)}".encode(), hashlib.sha256)
    return mac.hexdigest()[:40]


@dataclass(frozen=True)
class Identity:
    signal: Signal
    digest: str

    @property
    def key(self) -> str:
        """The counter's name: `<signal>#<digest>` (the table's key adds its prefix)."""
        return f"{self.signal.value}#{self.digest}"


# --- the evaluator -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Checked:
    """What the screening looks at for one order."""

    country: str  # shipping country
    total: Money
    postcode: str | None = None
    billing_country: str | None = None
    cash_on_delivery: bool = False
    signals: Mapping[Signal, SignalHistory] = field(default_factory=dict)  # the signals this order has


@dataclass(frozen=True)
class Tripped:
    rule_id: str
    outcome: RiskOutcome
    text: Words

    def reason(self) -> HoldReason:
        return HoldReason(code=f"risk.{self.rule_id}", en=self.text.en, ar=self.text.ar)


@dataclass(frozen=True)
class Verdict:
    outcome: RiskOutcome
    tripped: list[Tripped]
    rules_version: str

    @property
    def reasons(self) -> list[HoldReason]:
        return [t.reason() for t in self.tripped]

    @property
    def summary(self) -> str:
        """One line for operators: the outcome and the rules' ids."""
        return f"risk screening ({self.rules_version}): {', '.join(t.rule_id for t in self.tripped)}"


def trips(rule: Rule, checked: Checked) -> bool:
    """Whether one rule trips on this order (each kind's condition, as the module docstring says)."""
    if isinstance(rule, VelocityRule):
        seen = checked.signals.get(rule.signal)
        return seen is not None and seen.recent.get(rule.window_s, 0.0) >= rule.max_orders
    if isinstance(rule, AmountRule):
        limit = rule.above.get(checked.country)
        return limit is not None and checked.total.amount > limit
    if isinstance(rule, BillingCountryRule):
        return checked.billing_country is not None and checked.billing_country != checked.country
    if isinstance(rule, FirstOrderRule):
        limit = rule.above.get(checked.country)
        email = checked.signals.get(Signal.EMAIL)
        return limit is not None and email is not None and email.orders == 0 and checked.total.amount > limit
    if isinstance(rule, PostcodeRule):
        postcode = (checked.postcode or "").replace(" ", "").upper()
        return bool(postcode) and any(postcode.startswith(p.replace(" ", "").upper())
                                      for p in rule.postcodes.get(checked.country, []))
    phone = checked.signals.get(Signal.PHONE)
    return checked.cash_on_delivery and phone is not None and phone.refusals >= rule.at_least


def screen(rules: RiskRules, checked: Checked) -> Verdict:
    tripped = [Tripped(rule.id, RiskOutcome(rule.outcome), rule.text) for rule in rules.rules if trips(rule, checked)]
    outcome = max((t.outcome for t in tripped), key=lambda o: o.severity, default=RiskOutcome.ACCEPT)
    return Verdict(outcome=outcome, tripped=tripped, rules_version=rules.version)


# --- a refusal, as kept for operators --------------------------------------------------------------------------------
class Refusal(BaseModel):
    """A checkout the screening refused: what an operator may see of it, with no personal data in the clear (the
    signals as the first characters of their keyed digests, enough to tell two refusals of the same email apart)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    refusal_id: str
    at: str
    rules_version: str
    reasons: list[HoldReason]
    country: str
    total: Money
    cash_on_delivery: bool = False
    placed_by: str | None = None  # an agent placing it for a customer
    signals: dict[str, str] = Field(default_factory=dict)  # signal -> a digest's first 12 characters
