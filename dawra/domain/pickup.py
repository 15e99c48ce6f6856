"""Store pickup (click and collect): an order the customer collects at a store with a pickup desk
(`Location.pickup`). Pure.

The order is placed with the shipping method "pickup" (no shipping fee, promised on the store's dispatch day) and
reserved at that store only. Its one shipment waits for the store: staff mark it ready (a pickup code is issued, the
customer is told with the store's hours), then hand it over when the customer gives the code (collected: it counts
as delivered; its share is captured then). Not collected: one reminder after `remind_after_days`, and after
`collect_within_days` the order is cancelled, its units released at the store and the authorisation voided.

The code: 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), read out as two groups of four
("K7QX-M4TB"): 40 random bits. It is kept on the shipment as an opaque token, as the workflow's resume token is,
because the customer's page must be able to show it again at any time while the console that checks it holds no key
the customer's links are signed with; it is never shown to operators nor logged, compared in constant time, and a
desk gets MAX_ATTEMPTS wrong codes per shipment before it is locked for LOCKOUT."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.allocation import Location
from dawra.domain.time import iso

PICKUP = "pickup"  # the order's shipping method when the customer collects it at a store
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols: no 0/O, no 1/I/L
CODE_LENGTH = 8
MAX_ATTEMPTS = 5  # wrong codes in a row before the shipment's handover is locked
LOCKOUT = timedelta(minutes=15)
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_TIME_RANGE = re.compile(r"\d{1,2}:\d{2}\s*[-\u2013]\s*\d{1,2}:\d{2}")


@dataclass(frozen=True)
class Durations:
    """The merchant's reminder and collection times for every store's desk (deploy parameter PICKUP_HOURS), over
    each store's own days; None: the store's."""

    remind_after: timedelta | None = None
    collect_within: timedelta | None = None

    @classmethod
    def parse(cls, text: str) -> Durations:
        """"remind=72,collect=168" (hours); empty: every store's own days. ValueError for anything else."""
        found: dict[str, timedelta] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, hours = part.partition("=")
            if name not in ("remind", "collect") or not 0 < float(hours) <= 24 * 60:
                raise ValueError(f"not a pickup time: {part!r} (remind=<hours>, collect=<hours>)")
            found[name] = timedelta(hours=float(hours))
        return cls(remind_after=found.get("remind"), collect_within=found.get("collect"))


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(typed: str) -> str:
    """What staff typed or the scanner read: spaces, hyphens and case do not matter."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())[:32].translate(_LOOK_ALIKES)


def spoken(code: str) -> str:
    """The code as the customer reads it out: two groups of four."""
    return f"{code[:4]}-{code[4:]}"


class PickupState(BaseModel):
    """A pickup shipment's desk, as its store said when the stock was reserved (so the workflow reads no location),
    and where it is: ready, reminded, collected; the wrong codes tried."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)

    store_name: str
    hours: dict[str, str]  # language -> opening hours as the customer reads them
    collect_within_days: int = Field(ge=1, le=60)
    remind_after_days: int = Field(ge=1, le=60)
    code: str | None = Field(default=None, pattern=r"^[2-9A-Z]{8}$", repr=False)  # opaque: never shown to staff
    ready_at: str | None = None
    remind_at: str | None = None  # ready_at + remind_after_days (None: ready, and no reminder before collect_by)
    collect_by: str | None = None  # ready_at + collect_within_days: not collected by then, cancelled
    reminded_at: str | None = None
    collected_at: str | None = None
    collected_by: str | None = None  # the operator's user id
    failed_attempts: int = Field(default=0, ge=0)
    locked_until: str | None = None

    @classmethod
    def at(cls, location: Location) -> PickupState:
        desk = location.pickup
        if desk is None:
            raise ValueError(f"{location.location_id} has no pickup desk")
        return cls(store_name=location.name, hours=dict(desk.hours), collect_within_days=desk.collect_within_days,
                   remind_after_days=desk.remind_after_days)

    def hours_in(self, language: str) -> str:
        """The hours in `language` (else English). In right-to-left text each time range is isolated left-to-right
        (U+2066..U+2069), or "10:00-22:00" would read "22:00-10:00"."""
        text = self.hours.get(language) or self.hours.get("en") or next(iter(self.hours.values()), "")
        return _TIME_RANGE.sub("\u2066\\g<0>\u2069", text) if language == "ar" else text

    def ready(self, code: str, at: str, durations: Durations | None = None) -> None:
        """On the desk from `at`: reminded after the store's days, cancelled after its days to collect (or after
        the merchant's `durations`, when it sets them for every store)."""
        ready = datetime.fromisoformat(at)
        remind_after = durations.remind_after if durations and durations.remind_after \
            else timedelta(days=self.remind_after_days)
        collect_within = durations.collect_within if durations and durations.collect_within \
            else timedelta(days=self.collect_within_days)
        self.code, self.ready_at = code, at
        self.collect_by = iso(ready + collect_within)
        self.remind_at = iso(ready + remind_after) if remind_after < collect_within else None

    def next_wait(self, now: datetime) -> datetime:
        """When WaitForCollection next times out: the reminder (until it was sent), then the collect-by date."""
        if self.remind_at is not None and self.reminded_at is None:
            return datetime.fromisoformat(self.remind_at)
        return datetime.fromisoformat(self.collect_by or iso(now))

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < datetime.fromisoformat(self.locked_until)

    def check(self, typed: str, now: datetime) -> bool:
        """One try at the code: True when it matches. A wrong one counts; the MAX_ATTEMPTS-th locks the desk out for
        LOCKOUT (then it may try again, MAX_ATTEMPTS more)."""
        if self.code is not None and hmac.compare_digest(normalise(typed).encode(), self.code.encode()):
            self.failed_attempts, self.locked_until = 0, None
            return True
        self.failed_attempts += 1
        if self.failed_attempts >= MAX_ATTEMPTS:
            self.failed_attempts, self.locked_until = 0, iso(now + LOCKOUT)
        return False
