"""The customer's order page (dawra/web/customer.py) on the unit tier: what it shows and in which language, that it
escapes what customers typed, and that its forms refuse cross-site requests, missing or foreign CSRF tokens and links
that open no order before anything is done. The customer's actions themselves are dawra.app.customer's (tested on
their own and over HTTP); here a recording stand-in answers for them, so the page's own rules are what is tested."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
from fakes import LINK_KEY, FakeOrderSearch, FakeRateLimits

from dawra.app.order_page import OpenOrderLink, SendOrderLink
from dawra.domain import order_link
from dawra.domain.customer import Address
from dawra.domain.errors import IllegalTransition
from dawra.domain.money import Money
from dawra.domain.order import Order
from dawra.rendering import order_reference
from dawra.web.customer import LOOKUP_COOKIE, CustomerSite, cross_site
from dawra.web.http import WebRequest
from dawra.web.i18n import all_catalogs


@dataclass(frozen=True)
class Done:
    order: Order
    replayed: bool
    message: str
    kind: str


@dataclass(frozen=True)
class Quote:
    allowed: bool
    reason: str | None
    shipping_before: Money
    shipping_after: Money
    difference: Money
    promised_by: str | None


@dataclass
class RecordingActions:
    """Offers what it is told to and records each call (the page's side of the contract with CustomerActions)."""

    shop: object
    offered: frozenset[str] = frozenset({"cancel", "change_address", "change_contact"})
    calls: list[tuple] = field(default_factory=list)
    refuse: Exception | None = None
    difference: int = 0

    def offers(self, order: Order) -> frozenset[str]:
        return self.offered

    def _done(self, order_id: str, kind: str) -> Done:
        if self.refuse is not None:
            raise self.refuse
        return Done(self.shop.orders.get(order_id), False, kind, kind)

    def cancel(self, order_id, key, shipment_ids=None):
        self.calls.append(("cancel", order_id, key, tuple(shipment_ids or ())))
        return self._done(order_id, "shipments_cancelled" if shipment_ids else "cancelled")

    def quote_address_change(self, order_id, address):
        zero = Money(amount=0, currency="SAR")
        return Quote(True, None, zero, Money(amount=self.difference, currency="SAR"),
                     Money(amount=self.difference, currency="SAR"), None)

    def change_address(self, order_id, key, address):
        self.calls.append(("change_address", order_id, key, address))
        return self._done(order_id, "address_changed")

    def change_contact(self, order_id, key, preferred_channel, language, phone):
        self.calls.append(("change_contact", order_id, key, preferred_channel, language, phone))
        return self._done(order_id, "contact_changed")


class Log:
    def __init__(self):
        self.lines: list[tuple[str, dict]] = []

    def info(self, msg, *args, **kwargs):
        self.lines.append((msg, kwargs.get("extra", {})))


@pytest.fixture
def site(shop):
    actions = RecordingActions(shop)
    log = Log()
    send = SendOrderLink(FakeOrderSearch(shop.world), shop.orders, shop.uow, FakeRateLimits(), lambda: LINK_KEY,
                         shop.clock, ["SA"])
    made = CustomerSite(OpenOrderLink(shop.orders, lambda: LINK_KEY, shop.clock), send, shop.links, actions, log)
    made.recorded, made.log_lines = actions, log.lines
    return made


def placed(shop, name="Sara", language="en") -> tuple[str, str]:
    key = f"key-{len(shop.world.headers):08d}"
    order_id = shop.place({"MUG-CLASSIC": 1}, key=key, contact={"email": "sara@example.com", "language": language},
                          shipping_address={"name": name, "line1": "12 Olaya St", "city": "Riyadh", "country": "SA"})
    shop.reserve(order_id)
    return order_id, shop.links.token(shop.orders.get(order_id))


def get(site, path, **headers) -> object:
    query = parse_qs(urlsplit(path).query)
    return site.handle(WebRequest(method="GET", path=urlsplit(path).path, query=query,
                                  headers={"host": "shop.example", **headers}), "198.51.100.7")


def post(site, path, form, cookies=None, **headers) -> object:
    return site.handle(WebRequest(method="POST", path=path, form={k: [v] if isinstance(v, str) else v
                                                                   for k, v in form.items()},
                                  cookies=cookies or {}, headers={"host": "shop.example", **headers}),
                       "198.51.100.7")


def form_of(body: str, purpose: str) -> dict[str, str]:
    """The hidden fields of one form on the page, as a browser would send them back."""
    form = re.search(rf'<form[^>]*data-testid="{purpose}-form".*?</form>', body, re.S)[0]
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))


def test_the_page_shows_the_order_in_the_customers_language_and_words(site, shop):
    order_id, token = placed(shop, language="ar")
    page = get(site, f"/my-order/{token}")
    assert page.status == 200 and '<html lang="ar" dir="rtl">' in page.body
    assert order_reference(order_id) in page.body and "قيد التجهيز" in page.body  # "being prepared"
    assert "Dawra Test Shop" in page.body and "help@shop.example" in page.body
    english = get(site, f"/my-order/{token}?lang=en")
    assert '<html lang="en" dir="ltr">' in english.body and "Being prepared" in english.body
    headers = page.all_headers()
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"] and "'unsafe-inline'" not in \
        headers["Content-Security-Policy"]
    assert "<script" not in page.body and "style=" not in page.body  # nothing inline for the CSP to refuse


def test_what_a_customer_typed_is_escaped(site, shop):
    _, token = placed(shop, name="<script>alert(1)</script>")
    body = get(site, f"/my-order/{token}").body
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_internal_events_never_reach_the_page(site, shop):
    order_id, token = placed(shop)
    order = shop.orders.get(order_id)
    order.hold("suspected fraud: card tested at 3 shops", "2026-11-23T09:05:00.000Z", "ref-1")
    shop.uow.commit(order=order)
    body = get(site, f"/my-order/{token}").body
    assert "fraud" not in body and 'data-kind="order_on_hold"' not in body
    assert 'data-kind="stock_reserved"' in body and 'data-kind="order_confirmed"' in body


def test_only_the_actions_offered_are_shown(site, shop):
    _, token = placed(shop)
    site.recorded.offered = frozenset({"change_contact"})
    body = get(site, f"/my-order/{token}").body
    assert 'data-testid="contact-form"' in body
    assert 'data-testid="cancel-form"' not in body and 'data-testid="address-form"' not in body


def test_a_form_acts_once_with_its_own_key_and_redirects_back(site, shop):
    order_id, token = placed(shop)
    fields = form_of(get(site, f"/my-order/{token}").body, "cancel")
    done = post(site, f"/my-order/{token}/cancel", fields)
    assert done.status == 303 and done.headers["Location"] == f"/my-order/{token}?done=cancelled&lang=en"
    [(action, acted_on, key, _)] = site.recorded.calls
    assert (action, acted_on, key) == ("cancel", order_id, fields["key"]) and len(key) >= 16
    after = get(site, done.headers["Location"])
    assert "Your order is being cancelled" in after.body


def test_forms_refuse_cross_site_requests_and_missing_or_foreign_csrf_tokens(site, shop):
    _, token = placed(shop)
    _, other = placed(shop)
    fields = form_of(get(site, f"/my-order/{token}").body, "cancel")
    foreign = form_of(get(site, f"/my-order/{other}").body, "cancel")
    refused = [
        post(site, f"/my-order/{token}/cancel", {k: v for k, v in fields.items() if k != "csrf"}),
        post(site, f"/my-order/{token}/cancel", {**fields, "csrf": foreign["csrf"]}),  # another order's form
        post(site, f"/my-order/{token}/address", fields),  # another form's token
        post(site, f"/my-order/{token}/cancel", fields, **{"sec-fetch-site": "cross-site"}),
        post(site, f"/my-order/{token}/cancel", fields, origin="https://evil.example"),
    ]
    assert [r.status for r in refused] == [403] * 5
    assert site.recorded.calls == []


def test_a_link_that_opens_no_order_is_404_on_the_page_and_on_every_form(site, shop):
    _order_id, token = placed(shop)
    fields = form_of(get(site, f"/my-order/{token}").body, "cancel")
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    unknown = order_link.issue_for(LINK_KEY, "ord_" + "0" * 32, 0, shop.clock.now())
    answers = [get(site, f"/my-order/{t}") for t in (tampered, unknown, "junk")]
    answers += [post(site, f"/my-order/{t}/{form}", fields) for t in (tampered, unknown) for form in
                ("cancel", "address", "contact")]
    assert {a.status for a in answers} == {404} and len({a.body for a in answers}) == 1
    assert site.recorded.calls == []
    as_json = get(site, f"/my-order/{tampered}", accept="application/json")
    assert as_json.status == 404 and json.loads(as_json.body)["code"] == "order_not_found"
    assert all(token not in str(extra) and tampered not in str(extra) for _, extra in site.log_lines)


def test_a_refusal_is_shown_on_the_page_and_as_a_problem_to_json_callers(site, shop):
    order_id, token = placed(shop)
    site.recorded.refuse = IllegalTransition(order_id, "SHIPPED", "request_cancel", "a parcel already left")
    fields = form_of(get(site, f"/my-order/{token}").body, "cancel")
    page = post(site, f"/my-order/{token}/cancel", fields)
    assert page.status == 409 and "This is no longer possible for this order" in page.body
    problem = post(site, f"/my-order/{token}/cancel", fields, accept="application/json")
    assert problem.status == 409 and problem.content_type == "application/problem+json"
    assert json.loads(problem.body)["code"] == "illegal_transition"


def test_an_address_is_validated_and_a_price_change_is_confirmed_first(site, shop):
    _order_id, token = placed(shop)
    fields = form_of(get(site, f"/my-order/{token}").body, "address")
    invalid = post(site, f"/my-order/{token}/address", {**fields, "name": "", "line1": "x", "city": "Jeddah"})
    assert invalid.status == 422 and "Recipient&#39;s name" in invalid.body and site.recorded.calls == []
    site.recorded.difference = 1500
    asked = post(site, f"/my-order/{token}/address", {**fields, "name": "Sara", "line1": "1 Tahlia St",
                                                       "city": "Jeddah"})
    assert asked.status == 200 and 'data-testid="quote"' in asked.body and site.recorded.calls == []
    assert 'value="Jeddah"' in asked.body  # what the customer typed stays in the form
    confirmed = post(site, f"/my-order/{token}/address", {**form_of(asked.body, "address"), "name": "Sara",
                                                           "line1": "1 Tahlia St", "city": "Jeddah"})
    assert confirmed.status == 303
    [(_, _, _, address)] = site.recorded.calls
    assert address == Address(name="Sara", line1="1 Tahlia St", city="Jeddah", country="SA")


def test_the_lookup_answers_the_same_whether_or_not_an_order_matched(site, shop):
    order_id, _ = placed(shop)
    page = get(site, "/my-order")
    nonce = page.cookies[0].split(";")[0].split("=", 1)[1]
    assert page.cookies[0].startswith(f"{LOOKUP_COOKIE}=") and "HttpOnly" in page.cookies[0]
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page.body))
    cookies = {LOOKUP_COOKIE: nonce}
    hit = post(site, "/my-order/lookup", {**fields, "reference": order_reference(order_id),
                                          "contact": "sara@example.com"}, cookies)
    miss = post(site, "/my-order/lookup", {**fields, "reference": "#00000000", "contact": "sara@example.com"},
                cookies)
    assert (hit.status, hit.body, hit.all_headers(), hit.cookies) == (miss.status, miss.body, miss.all_headers(),
                                                                      miss.cookies)
    assert hit.status == 303 and hit.headers["Location"] == "/my-order?sent=1&lang=en"
    assert len([e for e in shop.orders.timeline(order_id) if e.kind.value == "order_link_requested"]) == 1
    without_cookie = post(site, "/my-order/lookup", {**fields, "reference": order_reference(order_id),
                                                     "contact": "sara@example.com"})
    assert without_cookie.status == 403


def test_cross_site_is_told_by_the_browser_or_the_origin():
    def request(**headers):
        return WebRequest(method="POST", path="/", headers={"host": "shop.example", **headers})

    assert not cross_site(request()) and not cross_site(request(**{"sec-fetch-site": "same-origin"}))
    assert not cross_site(request(origin="https://shop.example"))
    assert cross_site(request(**{"sec-fetch-site": "same-site"})) and cross_site(request(origin="https://evil.example"))
    assert cross_site(request(origin="https://shop.example.evil.example"))
    # What Chromium sends for a form on a no-referrer page of this very site: Origin null, Sec-Fetch-Site same-origin.
    assert not cross_site(request(origin="null", **{"sec-fetch-site": "same-origin"}))
    assert cross_site(request(origin="null", **{"sec-fetch-site": "cross-site"}))


def test_both_customer_catalogs_have_the_same_words_and_every_word_the_pages_use():
    from pathlib import Path

    catalogs = all_catalogs("customer")
    assert set(catalogs["en"]) == set(catalogs["ar"])
    templates = Path(__file__).resolve().parents[2] / "dawra" / "web" / "templates" / "customer"
    used = set()
    for template in templates.glob("*.html"):
        used |= set(re.findall(r"""\bt\(["']([a-z0-9_.]+[a-z0-9])["']""", template.read_text()))
    assert used - set(catalogs["en"]) == set()
    # Every timeline event the page may show and every parcel status has its words (not the "other" fallback).
    from dawra.contracts.customer import INTERNAL, VISIBLE
    from dawra.domain.notifications import NOTIFIED_KINDS
    from dawra.domain.shipment import ShipmentStatus
    from dawra.domain.timeline import TimelineKind

    shown = {f"timeline.{k.value}" for k in TimelineKind if k not in INTERNAL and (k in VISIBLE or k in NOTIFIED_KINDS)}
    assert shown - set(catalogs["en"]) == set()
    assert {f"shipment.{s.value}" for s in ShipmentStatus} - set(catalogs["en"]) == set()
    arabic = re.compile(r"[\u0600-\u06ff]")
    latin_only = {"lang.switch", "contact.language_en"}  # a language's own name
    assert [key for key, text in catalogs["ar"].items() if key not in latin_only and not arabic.search(text)] == []


def test_a_delivered_order_offers_the_feedback_form_once_and_shows_the_answer_escaped(shop):
    from dawra.app.feedback import GiveFeedback
    from dawra.domain.tracking import TrackingEvent

    send = SendOrderLink(FakeOrderSearch(shop.world), shop.orders, shop.uow, FakeRateLimits(), lambda: LINK_KEY,
                         shop.clock, ["SA"])
    site = CustomerSite(OpenOrderLink(shop.orders, lambda: LINK_KEY, shop.clock), send, shop.links,
                        RecordingActions(shop, offered=frozenset()), Log(),
                        GiveFeedback(shop.orders, shop.uow, shop.clock))
    order_id, token = placed(shop)
    assert 'data-testid="feedback"' not in get(site, f"/my-order/{token}").body  # not delivered yet
    shipment = shop.orders.get(order_id).shipments[0]
    shop.ship(order_id, shipment.shipment_id)
    shop.tracking.apply(TrackingEvent(carrier="sandbox", event_id="d1", status="delivered",
                                      tracking_number=shop.orders.get(order_id).shipments[0].tracking_number,
                                      occurred_at="2026-11-24T10:00:00.000Z", carrier_status="DELIVERED"))

    page = get(site, f"/my-order/{token}")
    fields = form_of(page.body, "feedback")
    assert 'id="feedback"' in page.body and set(fields) == {"csrf", "key", "lang"}
    forged = post(site, f"/my-order/{token}/feedback", {**fields, "csrf": "x" * 43, "rating": "5", "recommend": "9"})
    assert forged.status == 403 and not shop.orders.get(order_id).feedback_at
    invalid = post(site, f"/my-order/{token}/feedback", {**fields, "rating": "6", "recommend": "9"})
    assert invalid.status == 422 and not shop.orders.get(order_id).feedback_at
    answer = {**fields, "rating": "5", "recommend": "10", "comment": "<img src=x onerror=alert(1)>"}
    assert post(site, f"/my-order/{token}/feedback", answer).status == 303
    again = post(site, f"/my-order/{token}/feedback", {**answer, "rating": "1"})
    assert again.status == 303  # the first answer stands; the second submit is the same thank-you

    shown = get(site, f"/my-order/{token}").body
    assert 'data-testid="feedback-given"' in shown and 'data-testid="feedback-form"' not in shown
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown and "<img src=x" not in shown
    answers = [e for e in shop.orders.timeline(order_id) if e.kind.value == "feedback_received"]
    assert [a.detail["rating"] for a in answers] == ["5"]
    assert site.order_json(token)["feedback"]["rating"] == 5 and site.order_json(token)["feedback_open"] is False


def test_the_parcels_form_with_nothing_ticked_cancels_nothing(shop):
    actions = RecordingActions(shop, offered=frozenset({"cancel", "cancel_shipments"}))
    send = SendOrderLink(FakeOrderSearch(shop.world), shop.orders, shop.uow, FakeRateLimits(), lambda: LINK_KEY,
                         shop.clock, ["SA"])
    site = CustomerSite(OpenOrderLink(shop.orders, lambda: LINK_KEY, shop.clock), send, shop.links, actions, Log())
    order_id = shop.place({"DALLAH-BRASS": 1, "DATES-1KG": 1}, key="key-split-0001")
    shop.reserve(order_id)
    token = shop.links.token(shop.orders.get(order_id))
    page = get(site, f"/my-order/{token}").body
    fields = form_of(page, "cancel-shipments")
    assert fields["scope"] == "shipments"
    nothing = post(site, f"/my-order/{token}/cancel", fields)
    assert nothing.status == 422 and actions.calls == []  # not "the whole order"
    whole = form_of(page, "cancel")
    assert post(site, f"/my-order/{token}/cancel", whole).status == 303
    assert actions.calls == [("cancel", order_id, whole["key"], ())]
