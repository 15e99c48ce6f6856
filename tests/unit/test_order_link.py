"""The customer's order link: a signed, expiring, revocable token (dawra.domain.order_link), opening the order with it
(OpenOrderLink), the guest lookup that sends it (SendOrderLink), revoking it (RevokeOrderLinks), and every message
carrying it with the shop's name, the reference and the support contact."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fakes import LINK_KEY, FakeAuditLog, FakeOrderSearch, FakeRateLimits

from dawra.app.changes import ChangeOrder
from dawra.app.order_page import OpenOrderLink, SendOrderLink, contact_queries, reference_of
from dawra.app.revoke_links import RevokeOrderLinks
from dawra.domain import order_link
from dawra.domain.access import Actor, Role
from dawra.domain.errors import Forbidden, InvalidOrder, OrderNotFound, TooManyRequests
from dawra.domain.timeline import TimelineKind
from dawra.rendering import order_reference

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ORDER_A = "ord_" + "a1" * 16
ORDER_B = "ord_" + "b2" * 16


def test_a_token_opens_its_order_until_it_expires():
    token = order_link.issue(LINK_KEY, ORDER_A, 0, NOW + timedelta(days=1))
    assert len(token) == order_link.TOKEN_LENGTH and re.fullmatch(r"[A-Za-z0-9_-]+", token)  # URL-safe as it is
    claim = order_link.read(LINK_KEY, token, NOW)
    assert claim is not None and (claim.order_id, claim.version) == (ORDER_A, 0)
    assert order_link.read(LINK_KEY, token, NOW + timedelta(days=1)) is None  # expired: the expiry itself counts
    assert order_link.read(LINK_KEY, token, NOW + timedelta(days=1, seconds=-1)) is not None


def test_a_standard_link_lasts_the_lifetime_and_each_order_gets_a_different_one():
    a, b = (order_link.issue_for(LINK_KEY, order_id, 0, NOW) for order_id in (ORDER_A, ORDER_B))
    assert a != b
    assert order_link.read(LINK_KEY, a, NOW + order_link.LIFETIME - timedelta(seconds=1)) is not None
    assert order_link.read(LINK_KEY, a, NOW + order_link.LIFETIME) is None


def test_any_change_to_a_token_makes_it_worthless():
    token = order_link.issue_for(LINK_KEY, ORDER_A, 3, NOW)
    for position in range(len(token)):
        replacement = "A" if token[position] != "A" else "B"
        tampered = token[:position] + replacement + token[position + 1:]
        assert order_link.read(LINK_KEY, tampered, NOW) is None, position


def test_a_token_made_for_another_order_or_with_another_key_opens_nothing_else():
    # Rewriting the order id inside a genuine token (keeping its MAC) does not give order B.
    import base64

    raw = bytearray(base64.urlsafe_b64decode(order_link.issue_for(LINK_KEY, ORDER_A, 0, NOW)))
    raw[1:17] = bytes.fromhex(ORDER_B.removeprefix("ord_"))
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert order_link.read(LINK_KEY, forged, NOW) is None
    assert order_link.read(b"another key", order_link.issue_for(LINK_KEY, ORDER_A, 0, NOW), NOW) is None
    for junk in (None, "", "x" * 52, "!" * 52, "a" * 51, "a" * 53, ORDER_A, "=" * 52):
        assert order_link.read(LINK_KEY, junk, NOW) is None


def test_issuing_refuses_what_cannot_be_a_link():
    for order_id, version in (("ord_short", 0), ("ORD_" + "a" * 32, 0), (ORDER_A, -1), (ORDER_A, 70000)):
        with pytest.raises(ValueError):
            order_link.issue_for(LINK_KEY, order_id, version, NOW)
    with pytest.raises(ValueError):
        order_link.issue_for(b"", ORDER_A, 0, NOW)


def test_form_tokens_are_bound_to_the_link_and_the_form():
    token, other = (order_link.issue_for(LINK_KEY, order_id, 0, NOW) for order_id in (ORDER_A, ORDER_B))
    cancel = order_link.form_token(LINK_KEY, token, "cancel")
    assert order_link.form_token_matches(LINK_KEY, token, "cancel", cancel)
    assert not order_link.form_token_matches(LINK_KEY, token, "address", cancel)  # another form
    assert not order_link.form_token_matches(LINK_KEY, other, "cancel", cancel)  # another order's page
    assert not order_link.form_token_matches(b"another key", token, "cancel", cancel)
    for missing in (None, "", cancel[:-1]):
        assert not order_link.form_token_matches(LINK_KEY, token, "cancel", missing)


# --- the use cases, on the unit tier's shop ------------------------------------------------------------------------
def placed(shop, **contact) -> str:
    key = f"key-{len(shop.world.headers):08d}"
    order_id = shop.place({"MUG-CLASSIC": 1}, key=key, contact={"email": "sara@example.com", **contact})
    shop.reserve(order_id)
    return order_id


def opener(shop) -> OpenOrderLink:
    return OpenOrderLink(shop.orders, lambda: LINK_KEY, shop.clock)


def test_the_link_a_message_carries_opens_that_order_and_no_other(shop):
    a, b = placed(shop), placed(shop)
    url_a = shop.links.url(shop.orders.get(a))
    assert url_a.startswith("https://shop.example/v1/my-order/")
    order, timeline = opener(shop)(url_a.rsplit("/", 1)[1])
    assert order.order_id == a and {e.order_id for e in timeline} == {a}
    assert opener(shop).order(shop.links.token(shop.orders.get(b))).order_id == b


def test_a_revoked_link_stops_working_and_the_next_message_carries_a_new_one(shop):
    order_id = placed(shop)
    old = shop.links.token(shop.orders.get(order_id))
    agent = Actor(user_id="u-agent", username="amal", roles=frozenset({Role.AGENT}))
    revoke = RevokeOrderLinks(ChangeOrder(shop.orders, shop.uow, FakeAuditLog(shop.world), shop.clock))
    assert revoke(agent, order_id, "key-revoke-1", "customer forwarded the link").link_version == 1
    assert revoke(agent, order_id, "key-revoke-1", "customer forwarded the link").link_version == 1  # a replay
    with pytest.raises(OrderNotFound, match="no order answers to this link"):
        opener(shop).order(old)
    new = shop.links.token(shop.orders.get(order_id))
    assert opener(shop).order(new).order_id == order_id
    [entry] = [e for e in shop.world.audit.values() if e.action == "revoke_links"]
    assert entry.after == {"link_version": {"before": 0, "after": 1}} and entry.actor_id == "u-agent"
    warehouse = Actor(user_id="u-w", username="wafa", roles=frozenset({Role.WAREHOUSE}))
    with pytest.raises(Forbidden):
        revoke(warehouse, order_id, "key-revoke-2", "no")


def test_every_bad_link_is_the_same_not_found(shop):
    order_id = placed(shop)
    genuine = shop.links.token(shop.orders.get(order_id))
    expired = order_link.issue(LINK_KEY, order_id, 0, shop.clock.now() - timedelta(seconds=1))
    unknown = order_link.issue_for(LINK_KEY, "ord_" + "0" * 32, 0, shop.clock.now())
    answers = set()
    for token in (expired, unknown, genuine[:-1] + ("A" if genuine[-1] != "A" else "B"), "nonsense", None):
        with pytest.raises(OrderNotFound) as refused:
            opener(shop).order(token)
        answers.add(refused.value.message)
    assert answers == {"no order answers to this link"}


def test_every_message_carries_the_link_the_shop_the_reference_and_the_support_contact(shop):
    order_id = placed(shop, phone="+966501234567", preferred_channel="sms", language="ar")
    event = next(e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.STOCK_RESERVED)
    shop.notify(event, sender="r1")
    cancelled = placed(shop)
    shop.release(cancelled)
    shop.cancel(cancelled, "CancelledByCustomer")
    shop.notify(next(e for e in shop.orders.timeline(cancelled) if e.kind == TimelineKind.ORDER_CANCELLED), "r2")
    sms, email = shop.messenger.sent[-2:]
    for message, order in ((sms, order_id), (email, cancelled)):
        bodies = [message["text"]] + ([message["html"]] if "html" in message else [])
        for body in bodies:
            token = re.search(r"https://shop\.example/v1/my-order/([A-Za-z0-9_-]{52})", body)[1]
            assert opener(shop).order(token).order_id == order
            assert "Dawra Test Shop" in body and "help@shop.example" in body and order_reference(order) in body


def test_the_reference_and_the_contact_are_read_as_a_customer_types_them():
    assert reference_of(" #1a2b3c4d ") == reference_of("1A2B3C4D") == "#1A2B3C4D"
    for junk in ("#1A2B3C4", "#1A2B3C4DX", "ord_1a2b3c4d", "#ZZZZZZZZ", ""):
        with pytest.raises(InvalidOrder):
            reference_of(junk)
    assert contact_queries(" Sara@Example.com ", ["SA"])[0].email == "sara@example.com"
    # A local number is tried in each country the shop serves where it is a valid number.
    assert [q.phone for q in contact_queries("0501234567", ["AE", "SA"])] == ["+971501234567", "+966501234567"]
    assert [q.phone for q in contact_queries("0112345678", ["AE", "SA"])] == ["+966112345678"]
    assert [q.phone for q in contact_queries("00966501234567", ["AE"])] == ["+966501234567"]
    for junk in ("", "hello", "12", "x" * 300, "a\nb"):
        with pytest.raises(InvalidOrder):
            contact_queries(junk, ["SA"])


def lookup(shop, limits=None) -> SendOrderLink:
    return SendOrderLink(FakeOrderSearch(shop.world), shop.orders, shop.uow, limits or FakeRateLimits(),
                         lambda: LINK_KEY, shop.clock, ["AE", "SA"])


def link_requests(shop, order_id: str) -> list:
    return [e for e in shop.orders.timeline(order_id) if e.kind == TimelineKind.ORDER_LINK_REQUESTED]


def test_a_matching_lookup_sends_the_link_once_to_the_orders_own_contact(shop):
    order_id = placed(shop, phone="+966501234567", preferred_channel="sms")
    send = lookup(shop)
    assert send(order_reference(order_id).lower(), "SARA@example.com", "198.51.100.7") is None
    assert send(order_reference(order_id), "0501234567", "198.51.100.7") is None  # asked again: same hour
    [requested] = link_requests(shop, order_id)
    # To the order's email alone, even though the customer chose SMS (and the visitor typed the phone): the one
    # contact a link holder cannot change (decisions), and not what the visitor typed.
    assert shop.notify(requested, sender="r") == "sent by email"
    [email] = shop.messenger.sent
    assert email["to"] == "sara@example.com"
    token = re.search(r"/my-order/([A-Za-z0-9_-]{52})", email["text"])[1]
    assert opener(shop).order(token).order_id == order_id
    shop.clock.advance(hours=1)
    send(order_reference(order_id), "sara@example.com", "198.51.100.7")
    assert len(link_requests(shop, order_id)) == 2  # a later hour is a new request


def test_a_lookup_that_does_not_match_sends_nothing_and_says_the_same(shop):
    order_id = placed(shop)
    other = placed(shop, email="omar@example.com")
    send = lookup(shop)
    for reference, contact in ((order_reference(order_id), "omar@example.com"),  # another customer's contact
                               ("#00000000", "sara@example.com"), (order_reference(other), "+966501234567")):
        assert send(reference, contact, "198.51.100.7") is None
    assert link_requests(shop, order_id) == [] and link_requests(shop, other) == []


def test_lookups_are_limited_per_source_and_per_contact_whether_or_not_they_match(shop):
    order_id = placed(shop)
    limits = FakeRateLimits()
    send = lookup(shop, limits)
    for _ in range(SendOrderLink.PER_CONTACT.count):
        send("#00000000", "sara@example.com", "198.51.100.7")
    with pytest.raises(TooManyRequests):
        send(order_reference(order_id), "sara@example.com", "198.51.100.8")  # the right one, too late
    assert link_requests(shop, order_id) == []
    for n in range(SendOrderLink.PER_SOURCE.count - SendOrderLink.PER_CONTACT.count):  # .8 was another source
        send("#00000000", f"visitor{n}@example.com", "198.51.100.7")
    with pytest.raises(TooManyRequests):
        send("#00000000", "new@example.com", "198.51.100.7")
    assert not any("198.51.100" in key or "@" in key for key, _ in limits.counts)  # digests, never the values
    shop.clock.advance(hours=1)
    send(order_reference(order_id), "sara@example.com", "198.51.100.7")  # a new window
    assert len(link_requests(shop, order_id)) == 1
