"""The customer's side of an order without an account: the signed link to its page, opening it, asking for it again
(a guest lookup by the order's reference and contact), and revoking the links given out.

- `OrderLinks` signs the page link every message carries (dawra.domain.order_link, with the order-link secret).
- `OpenOrderLink` reads an order by its link: anything but a genuine, unexpired token of the order's current link
  version is the same `OrderNotFound`, whatever was wrong with it.
- `SendOrderLink` is the guest lookup: counted per source and per contact first (429 past the limits, whether or not
  anything matches), then the order whose reference and contact both match gets an `order_link_requested` event in
  its timeline, which the notifier turns into one message to the order's own contact. The caller hears the same
  thing either way: nothing here returns whether an order matched.
(`dawra.app.revoke_links.RevokeOrderLinks` is the operators' side: every link given out so far stops working.)"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import phonenumbers

from dawra.app.common import load, now_iso, retry_on_race
from dawra.domain import order_link
from dawra.domain.errors import ConcurrentChange, InvalidOrder, OrderNotFound, TooManyRequests
from dawra.domain.order import Order
from dawra.domain.timeline import TimelineEvent
from dawra.ports import Clock, OrderQuery, OrderRepository, OrderSearch, RateLimits, UnitOfWork
from dawra.rendering import Letterhead, order_reference

NO_SUCH_ORDER = "no order answers to this link"  # the one answer for every link that does not open an order
PAGE_PATH = "/my-order/"
GIFT_RECEIPT_SUFFIX = "/gift-receipt"
REFERENCE = re.compile(r"^#?\s*([0-9A-Fa-f]{8})$")
MAX_CONTACT = 254
ORDERS_PER_CONTACT = 50  # a lookup reads at most this many of a contact's orders (newest first)

Key = Callable[[], bytes]  # the order-link secret's bytes (cached by the adapter that reads it)


@dataclass(frozen=True)
class Shop:
    """Who the messages and the page speak for: the shop's name and how its customers reach support."""

    name: str
    support: str


@dataclass(frozen=True)
class Limit:
    count: int
    window: timedelta


class OrderLinks:
    """The page link of an order, signed for its current link version, valid for order_link.LIFETIME."""

    def __init__(self, key: Key, base_url: str, shop: Shop, clock: Clock):
        self.key, self.base_url, self.shop, self.clock = key, base_url.rstrip("/"), shop, clock

    def token(self, order: Order) -> str:
        return order_link.issue_for(self.key(), order.order_id, order.link_version, self.clock.now())

    def url(self, order: Order) -> str:
        return f"{self.base_url}{PAGE_PATH}{self.token(order)}"

    def gift_receipt_url(self, order: Order) -> str:
        """The gift receipt's own link (its token opens the receipt only: the buyer may pass it on)."""
        token = order_link.issue_for(self.key(), order.order_id, order.link_version, self.clock.now(),
                                     scope="gift_receipt")
        return f"{self.base_url}{PAGE_PATH}{token}{GIFT_RECEIPT_SUFFIX}"

    def letterhead(self, order: Order) -> Letterhead:
        return Letterhead(shop_name=self.shop.name, support=self.shop.support, page_url=self.url(order),
                          gift_receipt_url=self.gift_receipt_url(order) if order.gift else "")


class OpenOrderLink:
    def __init__(self, orders: OrderRepository, key: Key, clock: Clock):
        self.orders, self.key, self.clock = orders, key, clock

    def order(self, token: str | None, *, scope: order_link.Scope = "order") -> Order:
        """The order the link opens, or OrderNotFound (the same for a forged, altered, expired or revoked token, or
        a token of another scope: a gift receipt's link opens no order page)."""
        claim = order_link.read(self.key(), token, self.clock.now(), scope=scope)
        order = self.orders.get(claim.order_id) if claim is not None else None
        if claim is None or order is None or order.link_version != claim.version:
            raise OrderNotFound(NO_SUCH_ORDER)
        return order

    def __call__(self, token: str | None) -> tuple[Order, list[TimelineEvent]]:
        order = self.order(token)
        return order, self.orders.timeline(order.order_id)


def reference_of(text: str) -> str:
    """"#1a2b3c4d", "1A2B3C4D" -> "#1A2B3C4D" (the short reference every message shows); InvalidOrder otherwise."""
    match = REFERENCE.match(text.strip())
    if match is None:
        raise InvalidOrder("an order reference is # and 8 letters or digits, e.g. #1A2B3C4D", field="reference")
    return "#" + match[1].upper()


def contact_queries(contact: str, countries: Sequence[str]) -> list[OrderQuery]:
    """What a typed contact can mean: an email address, or a phone number (international, or local to one of the
    countries the shop serves: each reading that is a valid number is tried)."""
    typed = contact.strip()
    if not typed or len(typed) > MAX_CONTACT or any(ord(c) < 32 for c in typed):
        raise InvalidOrder("give the email address or phone number the order was placed with", field="contact")
    if "@" in typed:
        return [OrderQuery(email=typed.lower())]
    numbers: list[str] = []
    for region in [None, *countries] if typed.startswith(("+", "00")) else countries:
        try:
            parsed = phonenumbers.parse("+" + typed[2:] if typed.startswith("00") else typed, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            numbers.append(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    if not numbers:
        raise InvalidOrder("give the email address or phone number the order was placed with", field="contact")
    return [OrderQuery(phone=number) for number in dict.fromkeys(numbers)]


class SendOrderLink:
    PER_SOURCE = Limit(count=10, window=timedelta(minutes=15))
    PER_CONTACT = Limit(count=3, window=timedelta(hours=1))

    def __init__(self, search: OrderSearch, orders: OrderRepository, uow: UnitOfWork, limits: RateLimits,
                 key: Key, clock: Clock, countries: Sequence[str]):
        self.search, self.orders, self.uow, self.limits = search, orders, uow, limits
        self.key, self.clock, self.countries = key, clock, tuple(countries)

    def __call__(self, reference: str, contact: str, source: str) -> None:
        """Send the order's link to the order's own contact if `reference` and `contact` both match it. Returns
        nothing either way; TooManyRequests past the limits; InvalidOrder for what cannot be a reference or a
        contact at all."""
        self._count("source", source, self.PER_SOURCE)
        ref = reference_of(reference)
        queries = contact_queries(contact, self.countries)
        self._count("contact", queries[0].email or queries[0].phone or "", self.PER_CONTACT)
        found = self._match(ref, queries)
        if found is not None:
            retry_on_race(lambda: self._record(found), "send an order link")

    def _count(self, kind: str, value: str, limit: Limit) -> None:
        now, seconds = self.clock.now(), int(limit.window.total_seconds())
        start = datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, UTC)
        key = f"lookup-{kind}#{order_link.lookup_digest(self.key(), value)}"
        if not self.limits.hit(key, start, seconds, limit.count):
            raise TooManyRequests(f"too many lookups; try again after {limit.window}")

    def _match(self, ref: str, queries: list[OrderQuery]) -> str | None:
        for query in queries:
            for order in self.search.search(query, ORDERS_PER_CONTACT, None).orders:
                if order_reference(order.order_id) == ref:
                    return order.order_id
        return None

    def _record(self, order_id: str) -> None:
        order = load(self.orders, order_id)
        # One link message per order and hour: a double submit, or asking again right away, sends nothing more.
        hour = self.clock.now().astimezone(UTC).strftime("%Y%m%dT%H")
        order.send_link(now_iso(self.clock), hour)
        try:
            self.uow.commit(order=order)
        except ConcurrentChange as refused:
            if refused.parts == {"event"}:  # this hour's link request is already recorded: it is being sent
                return
            raise
