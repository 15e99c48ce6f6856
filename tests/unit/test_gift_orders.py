"""Gift orders on the unit tier: the wrap fee priced and taxed, the gift's validation, checkout keeping the gift, the
order's money staying whole when parts are cancelled, the customer's page and the gift receipt (no prices, its own
link), the console's packing slip, and the messages. Everything the buyer typed is escaped wherever it shows."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from console_desk import console_for
from fakes import LINK_KEY, FakeAuditLog, request
from pydantic import ValidationError

from dawra.app.checkout import fingerprint
from dawra.app.order_page import OpenOrderLink
from dawra.contracts.api import PlaceOrderRequest, order_view
from dawra.contracts.customer import customer_view
from dawra.domain import order_link
from dawra.domain.errors import IdempotencyKeyReused, OrderNotFound
from dawra.domain.gift import GIFT_MESSAGE_MAX, Gift
from dawra.domain.money import Money
from dawra.domain.pricing import DEFAULT_POLICY, PricingPolicy, RequestedLine, price_order, tax_on
from dawra.domain.timeline import TimelineKind
from dawra.web.console import Console
from dawra.web.customer import CustomerSite
from dawra.web.http import WebRequest
from dawra.web.security import SESSION_COOKIE

# What a buyer may type, and what must never reach a page unescaped.
HOSTILE = "<script>alert('x')</script> \"quoted\" & 'single'"
ARABIC = "عيد ميلاد سعيد يا ليلى 🎉🎁\nمع حبي، سارة"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &#34;quoted&#34; &amp; &#39;single&#39;"
LINES = [RequestedLine(sku="MUG-CLASSIC", quantity=2)]


def catalog(shop: Any) -> dict[str, Any]:
    return shop.world.catalog


# --- pricing -------------------------------------------------------------------------------------------------------

def test_the_wrap_fee_is_one_per_order_taxed_at_the_destinations_rate_and_in_the_total(shop):
    _, plain = price_order(LINES, catalog(shop), "SA", "standard")
    _, wrapped = price_order(LINES, catalog(shop), "SA", "standard", gift_wrap=True)
    fee = DEFAULT_POLICY.gift_wrap_fee
    assert fee > 0 and wrapped.gift_wrap == Money(amount=fee, currency="SAR") and plain.gift_wrap is None
    assert wrapped.tax.amount == plain.tax.amount + tax_on(fee, 1500)
    assert wrapped.total.amount == plain.total.amount + fee + tax_on(fee, 1500)
    parts = wrapped.subtotal.amount + wrapped.shipping.amount + wrapped.gift_wrap.amount + wrapped.tax.amount
    assert parts == wrapped.total.amount
    # Per order: four mugs cost the same wrap as two.
    _, more = price_order([RequestedLine(sku="MUG-CLASSIC", quantity=4)], catalog(shop), "SA", "standard",
                          gift_wrap=True)
    assert more.gift_wrap == wrapped.gift_wrap


def test_the_wrap_follows_the_tax_rules_a_zero_rate_country_and_an_untaxed_wrap(shop):
    _, kuwait_plain = price_order(LINES, catalog(shop), "KW", "standard")
    _, kuwait = price_order(LINES, catalog(shop), "KW", "standard", gift_wrap=True)
    assert kuwait.tax == kuwait_plain.tax and kuwait.total.amount == kuwait_plain.total.amount + 1500
    untaxed = PricingPolicy(gift_wrap_fee=2000, gift_wrap_taxable=False)
    _, plain = price_order(LINES, catalog(shop), "SA", "standard", untaxed)
    _, wrapped = price_order(LINES, catalog(shop), "SA", "standard", untaxed, gift_wrap=True)
    assert wrapped.tax == plain.tax and wrapped.total.amount == plain.total.amount + 2000


# --- validation ----------------------------------------------------------------------------------------------------

def test_a_message_keeps_its_lines_arabic_emoji_and_quotes_and_a_blank_one_is_none():
    gift = Gift.model_validate({"wrap": True, "message": f"  {ARABIC.replace(chr(10), chr(13) + chr(10))}  ",
                                "recipient_name": " ليلى "})
    assert gift.message == ARABIC and gift.recipient_name == "ليلى" and gift.lines == ARABIC.split("\n")
    assert Gift.model_validate({"message": HOSTILE}).message == HOSTILE  # stored as typed; escaped when shown
    assert Gift.model_validate({"message": "   ", "recipient_name": ""}) == Gift()
    assert Gift.model_validate({"message": "x" * GIFT_MESSAGE_MAX}).message == "x" * GIFT_MESSAGE_MAX


@pytest.mark.parametrize(("gift", "why"), [
    ({"message": "x" * (GIFT_MESSAGE_MAX + 1)}, "at most 300 characters"),
    ({"message": "a\x07b"}, "control characters"),
    ({"message": "tab\there"}, "control characters"),
    ({"message": "a\u202eb"}, "bidirectional"),  # RIGHT-TO-LEFT OVERRIDE
    ({"message": "a\u2066b"}, "bidirectional"),  # LEFT-TO-RIGHT ISOLATE
    ({"message": "\n".join("line" for _ in range(9))}, "at most 8 lines"),
    ({"recipient_name": "La\x00yla"}, "control characters"),
    ({"recipient_name": "Layla\n"}, "control characters"),  # refused as sent, not trimmed into a valid one
    ({"message": " " + "x" * GIFT_MESSAGE_MAX}, "at most 300 characters"),
    ({"recipient_name": " " * 101}, "at most 100"),
    ({"wrap": "true"}, "boolean"),
    ({"recipient_name": "x" * 101}, "at most 100"),
    ({"wrap": "please"}, "boolean"),
    ({"ribbon": "red"}, "Extra inputs"),
    ({"message": 42}, "valid string"),
])
def test_a_bad_gift_is_refused_by_the_request_model(gift, why):
    with pytest.raises(ValidationError) as refused:
        request({"MUG-CLASSIC": 1}, gift=gift)
    assert why in str(refused.value) and refused.value.errors()[0]["loc"][0] == "gift"


# --- checkout ------------------------------------------------------------------------------------------------------

def test_a_gift_order_keeps_its_gift_and_is_charged_the_wrap(shop):
    plain = shop.orders.get(shop.place({"MUG-CLASSIC": 2}, key="key-plain-0001"))
    gift_id = shop.place({"MUG-CLASSIC": 2}, key="key-gift-00001",
                         gift={"wrap": True, "message": ARABIC, "recipient_name": "Layla"})
    order = shop.orders.get(gift_id)
    assert order.gift == Gift(wrap=True, message=ARABIC, recipient_name="Layla")
    fee = DEFAULT_POLICY.gift_wrap_fee
    assert order.totals.total.amount == plain.totals.total.amount + fee + tax_on(fee, 1500)
    assert order.payment.authorized == order.totals.total and plain.gift is None
    view = order_view(order, shop.orders.timeline(gift_id))
    assert view["gift"] == {"wrap": True, "message": ARABIC, "recipient_name": "Layla"}
    assert view["totals"]["gift_wrap"] == {"amount": fee, "currency": "SAR"}


def test_a_gift_without_wrap_costs_nothing_more(shop):
    plain = shop.orders.get(shop.place({"MUG-CLASSIC": 1}, key="key-plain-0002"))
    gift = shop.orders.get(shop.place({"MUG-CLASSIC": 1}, key="key-gift-00002", gift={"message": "Enjoy"}))
    assert gift.totals == plain.totals and gift.gift == Gift(message="Enjoy")


def test_the_gift_is_part_of_the_idempotency_fingerprint_and_a_plain_request_prints_as_before(shop):
    plain = request({"MUG-CLASSIC": 1})

    class BeforeGifts:  # the same request as the model dumped it before it had a gift field
        def model_dump(self, *, mode: str) -> dict[str, Any]:
            return {k: v for k, v in plain.model_dump(mode=mode).items() if k != "gift"}

    assert "gift" in plain.model_dump(mode="json") and fingerprint(plain) == fingerprint(BeforeGifts())  # type: ignore[arg-type]
    assert fingerprint(request({"MUG-CLASSIC": 1}, gift={})) != fingerprint(plain)  # a gift is another request
    shop.place({"MUG-CLASSIC": 1}, key="key-same-gift1", gift={"wrap": True})
    with pytest.raises(IdempotencyKeyReused):
        shop.place({"MUG-CLASSIC": 1}, key="key-same-gift1", gift={"wrap": False})


def test_cancelling_parts_of_a_wrapped_order_keeps_its_money_whole(shop):
    order_id = shop.place({"DALLAH-BRASS": 1, "DATES-1KG": 2}, key="key-gift-split", gift={"wrap": True})
    shipments = {s.location_id: s for s in shop.reserve(order_id).shipments}
    order = shop.orders.get(order_id)
    before = order.totals
    order.cancel_line("DATES-1KG", "2026-11-23T10:00:00.000Z", "ref-line")
    t = order.totals
    assert t.gift_wrap == before.gift_wrap  # the wrap stays with what is still sent
    assert t.subtotal.amount + t.shipping.amount + t.gift_wrap.amount + t.tax.amount == t.total.amount

    order_id = shop.place({"DALLAH-BRASS": 1, "DATES-1KG": 2}, key="key-gift-split2", gift={"wrap": True})
    shipments = {s.location_id: s for s in shop.reserve(order_id).shipments}
    order = shop.orders.get(order_id)
    before, jeddah = order.totals, order.shipment(shipments["jeddah-store"].shipment_id).amount
    order.cancel_shipments([shipments["jeddah-store"].shipment_id], "2026-11-23T10:00:00.000Z", "ref-parcel")
    t = order.totals
    assert 0 < t.gift_wrap.amount < before.gift_wrap.amount  # the cancelled parcel took its share of the wrap
    assert t.subtotal.amount + t.shipping.amount + t.gift_wrap.amount + t.tax.amount == t.total.amount
    assert t.total == before.total - jeddah


# --- the customer's page and the gift receipt -----------------------------------------------------------------------

class _Log:
    def info(self, *_: Any, **__: Any) -> None:
        pass


@pytest.fixture
def site(shop) -> CustomerSite:
    return CustomerSite(OpenOrderLink(shop.orders, lambda: LINK_KEY, shop.clock), None, shop.links, None, _Log())


def get(site: CustomerSite, path: str, **headers: str) -> Any:
    query = {k: [v] for k, v in (p.split("=", 1) for p in urlsplit(path).query.split("&") if p)}
    return site.handle(WebRequest(method="GET", path=urlsplit(path).path, query=query,
                                  headers={"host": "shop.example", **headers}), "198.51.100.7")


def gift_order(shop, message: str = HOSTILE, language: str = "en", key: str = "key-gift-page1") -> str:
    order_id = shop.place({"MUG-CLASSIC": 2, "DATES-1KG": 1}, key=key,
                          contact={"email": "sara@example.com", "language": language},
                          gift={"wrap": True, "message": message, "recipient_name": "<b>Layla</b>"})
    shop.reserve(order_id)
    return order_id


def receipt_path(body: str) -> str:
    return re.search(r'data-testid="gift-receipt-link"[^>]*|href="([^"]+)" data-testid="gift-receipt-link"', body)[1]


def test_the_order_page_shows_the_gift_escaped_and_links_its_receipt(site, shop):
    order_id = gift_order(shop)
    order = shop.orders.get(order_id)
    body = get(site, f"/my-order/{shop.links.token(order)}").body
    assert ESCAPED in body and "<script>alert" not in body and "&lt;b&gt;Layla&lt;/b&gt;" in body
    assert 'class="gift-message" dir="auto"' in body and 'data-testid="gift-wrap-fee"' in body
    link = receipt_path(body)
    assert link.startswith("/my-order/") and link.endswith("/gift-receipt")
    assert link.split("/")[2] != shop.links.token(order)  # a token of its own, not the order's


def test_the_gift_receipt_has_no_prices_escapes_the_message_and_opens_nothing_else(site, shop):
    order_id = gift_order(shop)
    order = shop.orders.get(order_id)
    page_body = get(site, f"/my-order/{shop.links.token(order)}").body
    link = receipt_path(page_body)
    receipt = get(site, link)
    assert receipt.status == 200 and 'data-testid="gift-receipt"' in receipt.body
    assert ESCAPED in receipt.body and "<script>alert" not in receipt.body
    assert "2 \u00d7 Classic mug" in receipt.body and "Sukkari dates" in receipt.body
    assert "SAR" not in receipt.body and not re.search(r"\d+\.\d\d", receipt.body)  # no price, no total
    for line in order.lines:
        assert f"{line.unit_price.amount / 100:.2f}" not in receipt.body
    assert receipt.all_headers()["Referrer-Policy"] == "no-referrer"
    # The receipt's token opens no order page, and the order's token no receipt.
    gift_token = link.split("/")[2]
    assert get(site, f"/my-order/{gift_token}").status == 404
    assert get(site, f"/my-order/{shop.links.token(order)}/gift-receipt").status == 404


def test_the_receipt_reads_right_to_left_in_arabic_with_the_message_isolated(site, shop):
    order_id = gift_order(shop, message=ARABIC, language="ar", key="key-gift-page2")
    order = shop.orders.get(order_id)
    link = receipt_path(get(site, f"/my-order/{shop.links.token(order)}").body)
    body = get(site, link).body
    assert '<html lang="ar" dir="rtl">' in body and "هدية لك" in body and "كوب كلاسيكي" in body
    assert f'<p class="gift-message" dir="auto" data-testid="gift-message">{ARABIC}</p>' in body
    english = get(site, link + "?lang=en").body
    assert '<html lang="en" dir="ltr">' in english and "A gift for you" in english and ARABIC in english


def test_no_receipt_for_an_order_that_is_not_a_gift_or_was_cancelled_or_whose_links_were_revoked(site, shop):
    plain = shop.place({"MUG-CLASSIC": 1}, key="key-plain-page")
    token = order_link.issue_for(LINK_KEY, plain, 0, shop.clock.now(), scope="gift_receipt")
    assert get(site, f"/my-order/{token}/gift-receipt").status == 404
    assert 'data-testid="gift"' not in get(site, f"/my-order/{shop.links.token(shop.orders.get(plain))}").body
    order_id = gift_order(shop, key="key-gift-page3")
    order = shop.orders.get(order_id)
    link = receipt_path(get(site, f"/my-order/{shop.links.token(order)}").body)
    order.revoke_links()  # the order's links revoked: the receipt's too
    shop.uow.commit(order=order)
    assert get(site, link).status == 404
    with pytest.raises(OrderNotFound):
        OpenOrderLink(shop.orders, lambda: LINK_KEY, shop.clock).order(link.split("/")[2], scope="gift_receipt")


def test_the_storefronts_json_view_carries_the_gift_and_an_absolute_receipt_link(site, shop):
    order_id = gift_order(shop, key="key-gift-json1")
    order = shop.orders.get(order_id)
    answer = site.order_json(shop.links.token(order))
    assert answer["gift"]["message"] == HOSTILE and answer["totals"]["gift_wrap"]["amount"] == 1500
    assert answer["gift_receipt_url"].startswith("https://shop.example/v1/my-order/")
    assert customer_view(shop.orders.get(shop.place({"MUG-CLASSIC": 1}, key="key-plain-json")), [], [],
                         gift_receipt_url="x").gift_receipt_url is None


# --- the console's packing slip ------------------------------------------------------------------------------------

@pytest.fixture
def console(shop) -> Console:
    return console_for(shop, FakeAuditLog(shop.world), None)


def slip(console: Console, who: str, order_id: str, shipment_id: str) -> Any:
    return console.handle(WebRequest("GET", f"/admin/orders/{order_id}/shipments/{shipment_id}/packing-slip",
                                     cookies={SESSION_COOKIE: who}))


def test_a_gift_packing_slip_has_the_escaped_message_and_no_prices(console, shop):
    order_id = shop.place({"MUG-CLASSIC": 2}, key="key-gift-slip1",
                          gift={"wrap": True, "message": HOSTILE + "\n" + ARABIC, "recipient_name": "<i>Layla</i>"})
    [shipment] = shop.reserve(order_id).shipments
    answer = slip(console, "warehouse", order_id, shipment.shipment_id)
    assert answer.status == 200 and 'data-gift="yes"' in answer.body
    assert ESCAPED in answer.body and "<script>alert" not in answer.body and "&lt;i&gt;Layla&lt;/i&gt;" in answer.body
    assert ARABIC in answer.body and 'class="gift-message" dir="auto"' in answer.body
    assert "SAR" not in answer.body and "45.00" not in answer.body  # the mug's price
    assert re.search(r'data-sku="MUG-CLASSIC">.*?<td class="num">2</td>', answer.body)
    order_page = console.handle(WebRequest("GET", f"/admin/orders/{order_id}", cookies={SESSION_COOKIE: "agent"}))
    assert 'data-testid="gift"' in order_page.body and ESCAPED in order_page.body
    assert f"/shipments/{shipment.shipment_id}/packing-slip" in order_page.body


def test_an_ordinary_packing_slip_shows_prices_and_an_unknown_shipment_is_404(console, shop):
    order_id = shop.place({"MUG-CLASSIC": 2}, key="key-plain-slip")
    [shipment] = shop.reserve(order_id).shipments
    answer = slip(console, "agent", order_id, shipment.shipment_id)
    assert answer.status == 200 and 'data-gift="no"' in answer.body and "45.00" in answer.body
    assert 'data-testid="packing-gift"' not in answer.body
    assert slip(console, "agent", order_id, "shp_" + "0" * 20).status == 404


# --- messages ------------------------------------------------------------------------------------------------------

def messages_of(shop, order_id: str, kind: TimelineKind) -> list[dict[str, Any]]:
    """What the notifier sent for the order's event of this kind."""
    [event] = [e for e in shop.orders.timeline(order_id) if e.kind == kind]
    sent = len(shop.messenger.sent)
    shop.notify(event, sender="record-1")
    return shop.messenger.sent[sent:]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_confirmation_mentions_the_wrap_and_escapes_the_message_and_greets_nobody_by_the_recipients_name(
        shop, language):
    order_id = shop.place({"MUG-CLASSIC": 1}, key=f"key-gift-msg-{language}",
                          contact={"email": "sara@example.com", "phone": "+966501234567", "language": language,
                                   "preferred_channel": "both"},
                          shipping_address={"name": "Layla", "line1": "1 St", "city": "Riyadh", "country": "SA"},
                          gift={"wrap": True, "message": HOSTILE})
    shop.reserve(order_id)
    sent = {message["channel"]: message for message in messages_of(shop, order_id, TimelineKind.STOCK_RESERVED)}
    email, sms = sent["email"], sent["sms"]
    assert ESCAPED in email["html"] and "<script>alert" not in email["html"]
    assert HOSTILE in email["text"]  # plain text: the message as typed
    assert "15.00 SAR" in email["html"] and "Layla" not in email["html"]  # the address names the recipient
    receipt = re.search(r"https://shop\.example/v1/my-order/[A-Za-z0-9_-]+/gift-receipt", email["text"])[0]
    assert f'href="{receipt}"' in email["html"]
    assert ("gift-wrap" in email["text"]) if language == "en" else ("تغليف هدية" in email["text"])
    assert "script" not in sms["text"] and ("Gift-wrapped" in sms["text"] or "مغلّف كهدية" in sms["text"])


def test_the_shipped_message_says_it_is_packed_as_a_gift_without_repeating_the_message(shop):
    order_id = shop.place({"MUG-CLASSIC": 1}, key="key-gift-ship1", gift={"message": "Secret birthday note"})
    [planned] = shop.reserve(order_id).shipments
    shop.ship(order_id, planned.shipment_id)
    [email] = messages_of(shop, order_id, TimelineKind.SHIPMENT_SHIPPED)
    assert "packed as a gift" in email["text"] and "Secret birthday note" not in email["text"] + email["html"]
    plain_id = shop.place({"MUG-CLASSIC": 1}, key="key-plain-ship1")
    [planned] = shop.reserve(plain_id).shipments
    shop.ship(plain_id, planned.shipment_id)
    [plain] = messages_of(shop, plain_id, TimelineKind.SHIPMENT_SHIPPED)
    assert "gift" not in plain["text"].lower() and "Hello Sara," in plain["text"]


def test_a_request_with_a_gift_validates_like_the_storefronts_model():
    body = {**request({"MUG-CLASSIC": 1}).model_dump(mode="json"), "gift": {"wrap": True, "message": "Hi"}}
    assert PlaceOrderRequest.model_validate(body).gift == Gift(wrap=True, message="Hi")


def test_the_consoles_place_order_form_reads_the_gift_fieldset():
    from dawra.web import forms

    base = {"email": ["sara@example.com"], "name": ["Sara"], "line1": ["12 Olaya St"], "city": ["Riyadh"],
            "country": ["SA"], "sku_0": ["MUG-CLASSIC"], "quantity_0": ["1"], "payment": ["cash_on_delivery"],
            "customer_id": ["cust-1"]}
    plain = forms.agent_order(WebRequest("POST", "/admin/place-order", form=base))
    assert plain.gift is None
    typed = forms.agent_order(WebRequest("POST", "/admin/place-order", form={
        **base, "gift_wrap": ["yes"], "gift_message": ["Happy Eid!\r\nFrom all of us"], "gift_recipient": [""]}))
    assert typed.gift == Gift(wrap=True, message="Happy Eid!\nFrom all of us")
    with pytest.raises(forms.FormInvalid) as refused:
        forms.agent_order(WebRequest("POST", "/admin/place-order", form={**base, "gift": ["yes"],
                                                                        "gift_message": ["x" * 301]}))
    assert [field for field, _ in refused.value.problems] == ["gift.message"]
