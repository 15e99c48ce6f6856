"""The customer's returns on their order page (dawra/web/customer.py, dawra/web/customer_returns.py), with the
returns use cases wired to the in-memory shop: what the form offers (and why not), the review's estimate, a confirm
that makes one return however often it is sent, bad input that creates nothing, the return's own section, and the
label PDF of that order's return only. Also the storefront's JSON."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from fakes import LINK_KEY, FakeOrderSearch, FakeRateLimits
from returning import AGENT, WAREHOUSE, Returns, delivered
from test_customer_page import Log, RecordingActions, get, post

from dawra.app.order_page import OpenOrderLink, SendOrderLink
from dawra.app.returns import ReturnChoices
from dawra.domain.returns import InspectionOutcome, RefundBreakdown, Return, ReturnRequest
from dawra.web.customer import CustomerSite


@dataclass
class PageReturns:
    """What bootstrap's `Returns` gives the page: the H7 use cases, and `start` = request + the return's workflow."""

    uses: Returns
    started: list[str]

    def returnable_lines(self, order_id: str) -> ReturnChoices:
        return self.uses.choices(order_id)

    def estimate(self, order_id: str, request: ReturnRequest) -> RefundBreakdown:
        return self.uses.estimate(order_id, request)

    def start(self, order_id: str, request_key: str, request: ReturnRequest) -> Return:
        ret = self.uses.request(order_id, request_key, request)
        self.started.append(ret.return_id)
        return ret


@pytest.fixture
def site(shop: Any) -> CustomerSite:
    uses = Returns(shop)
    send = SendOrderLink(FakeOrderSearch(shop.world), shop.orders, shop.uow, FakeRateLimits(), lambda: LINK_KEY,
                         shop.clock, ["SA"])
    made = CustomerSite(OpenOrderLink(shop.orders, lambda: LINK_KEY, shop.clock), send, shop.links,
                        RecordingActions(shop, offered=frozenset({"change_contact"})), Log(),
                        returns=PageReturns(uses, []), locations=lambda: list(shop.world.locations))
    made.uses = uses  # type: ignore[attr-defined]
    return made


def hidden(body: str, testid: str) -> dict[str, str]:
    form = re.search(rf'<form[^>]*data-testid="{testid}".*?</form>', body, re.S)[0]
    found = re.findall(r'<input type="hidden" name="([a-zA-Z_.-]+)" value="([^"]*)"', form)
    return {name: html.unescape(value) for name, value in found}  # as a browser sends it back


def a_delivered_order(shop: Any, language: str = "en", lines: dict[str, int] | None = None) -> tuple[str, str]:
    """Delivered: a prayer mat (the default policy: no approval, the label costs 15.00) x2 and dates (final sale)."""
    key = f"key-order-{len(shop.world.headers):04d}"
    order_id = delivered(shop, lines or {"PRAYER-MAT": 2, "DATES-1KG": 1}, key=key)
    order = shop.orders.get(order_id)
    if order.contact.language != language:
        order.contact = order.contact.model_copy(update={"language": language})
        order._header_changed = True
        shop.uow.commit(order=order)
    return order_id, shop.links.token(shop.orders.get(order_id))


def choose(fields: dict[str, str], **chosen: str) -> dict[str, str]:
    return {**fields, "qty.PRAYER-MAT": "1", "reason.PRAYER-MAT": "changed_mind",
            "comment.PRAYER-MAT": "<b>too small</b>", "method": "label", "refund_method": "original_payment",
            **chosen}


def test_a_delivered_order_offers_a_return_and_the_form_says_what_cannot_go_back(site, shop):
    _order_id, token = a_delivered_order(shop)
    page = get(site, f"/my-order/{token}")
    assert 'data-testid="start-return"' in page.body and f"/my-order/{token}/return?lang=en" in page.body
    assert "return" in site.order_json(token)["actions"]
    form = get(site, f"/my-order/{token}/return")
    assert form.status == 200 and 'data-testid="return-form"' in form.body
    mug = re.search(r'data-sku="PRAYER-MAT".*?</fieldset>', form.body, re.S)[0]
    dates = re.search(r'data-sku="DATES-1KG".*?</fieldset>', form.body, re.S)[0]
    assert '<option value="2">2</option>' in mug and '<option value="3">' not in mug  # as many as delivered
    assert 'data-why="final_sale"' in dates and "cannot be returned" in dates and "<select" not in dates
    assert 'value="store"' in form.body and "Jeddah store" in form.body  # the store locations to bring it to
    assert 'value="bank_transfer"' not in form.body  # a card order is refunded to the card or as store credit


def test_an_order_not_delivered_offers_no_return(site, shop):
    order_id = shop.place({"MUG-CLASSIC": 1})
    shop.reserve(order_id)
    token = shop.links.token(shop.orders.get(order_id))
    assert 'data-testid="start-return"' not in get(site, f"/my-order/{token}").body
    assert 'data-testid="return-none"' in get(site, f"/my-order/{token}/return").body


def test_the_review_shows_the_estimate_in_parts_and_one_confirm_makes_one_return(site, shop):
    order_id, token = a_delivered_order(shop)
    fields = hidden(get(site, f"/my-order/{token}/return").body, "return-form")
    review = post(site, f"/my-order/{token}/return", choose(fields))
    assert review.status == 200 and 'data-testid="return-review"' in review.body
    assert not shop.orders.get(order_id).returns  # reviewing creates nothing
    estimate = site.uses.estimate(order_id, _request())
    assert re.search(r'data-testid="estimate-total">[^<]*' + re.escape(f"{estimate.total.amount / 100:,.2f}"),
                     review.body)
    assert "Return shipping" in review.body and "Restocking fee" in review.body
    assert "&lt;b&gt;too small&lt;/b&gt;" in review.body and "<b>too small" not in review.body
    confirm = hidden(review.body, "return-confirm-form")
    assert confirm["step"] == "confirm" and confirm["qty.PRAYER-MAT"] == "1" and len(confirm["key"]) >= 16
    first = post(site, f"/my-order/{token}/return", confirm)
    again = post(site, f"/my-order/{token}/return", confirm)  # a double click
    [ret] = shop.orders.get(order_id).returns
    assert first.status == again.status == 303
    assert first.headers["Location"] == f"/my-order/{token}?done=return_requested&lang=en#return-{ret.return_id}"
    assert ret.lines[0].comment == "<b>too small</b>" and ret.estimate == estimate
    assert site.returns.started == [ret.return_id, ret.return_id]  # asked twice, one return (its workflow's name)

    page = get(site, f"/my-order/{token}?done=return_requested").body
    section = re.search(rf'id="return-{ret.return_id}".*?</article>', page, re.S)[0]
    assert 'data-status="approved"' in section and "&lt;b&gt;too small&lt;/b&gt;" in section
    assert 'data-kind="return_requested"' in section and "Your return request is recorded" in page
    assert site.order_json(token)["returns"][0]["return_id"] == ret.return_id


def _request() -> ReturnRequest:
    from returning import asking

    from dawra.domain.returns import ReturnReason

    return asking({"PRAYER-MAT": (1, ReturnReason.CHANGED_MIND)})


@pytest.mark.parametrize("change, field", [
    ({"qty.PRAYER-MAT": "3"}, "How many"),
    ({"qty.PRAYER-MAT": "0"}, "Items"),
    ({"reason.PRAYER-MAT": "because"}, "Reason"),
    ({"method": "teleport"}, "How you send it back"),
    ({"refund_method": "bank_transfer", "iban": "SA00"}, "How you get your money back"),
    ({"method": "store", "store": "riyadh-dc"}, "Store"),  # a warehouse is not a store
    ({"qty.DATES-1KG": "1", "reason.DATES-1KG": "changed_mind"}, "Items"),  # final sale
])
def test_bad_input_shows_the_form_again_with_the_problem_and_creates_nothing(site, shop, change, field):
    order_id, token = a_delivered_order(shop)
    fields = hidden(get(site, f"/my-order/{token}/return").body, "return-form")
    for step in ("review", "confirm"):
        answer = post(site, f"/my-order/{token}/return", {**choose(fields, **change), "step": step,
                                                          "key": "k" * 20})
        assert answer.status == 422 and 'data-testid="problem"' in answer.body
        assert f"<strong>{field}</strong>" in answer.body.replace("&#39;", "'")
        assert 'data-testid="return-form"' in answer.body  # the form again, with what was typed
    assert shop.orders.get(order_id).returns == []


def test_a_cash_on_delivery_order_is_refunded_by_bank_transfer_to_a_valid_iban(site, shop):
    order_id, token = a_delivered_order(shop)
    order = shop.orders.get(order_id)
    order.payment = order.payment.model_copy(update={"provider": "cash_on_delivery"})
    order._header_changed = True
    shop.uow.commit(order=order)
    form = get(site, f"/my-order/{token}/return").body
    assert 'value="bank_transfer"' in form and 'value="original_payment"' not in form and 'name="iban"' in form
    fields = hidden(form, "return-form")
    wrong = post(site, f"/my-order/{token}/return", choose(fields, refund_method="bank_transfer",
                                                           iban="SA03 8000 0000 6080 1016 7518"))
    assert wrong.status == 422 and "IBAN" in wrong.body
    review = post(site, f"/my-order/{token}/return", choose(fields, refund_method="bank_transfer",
                                                            iban="SA03 8000 0000 6080 1016 7519"))
    assert review.status == 200 and "•••• 7519" in review.body
    assert post(site, f"/my-order/{token}/return", hidden(review.body, "return-confirm-form")).status == 303
    [ret] = shop.orders.get(order_id).returns
    assert ret.bank_account == "SA0380000000608010167519"
    assert "SA0380000000608010167519" not in get(site, f"/my-order/{token}").body  # never shown again


def test_the_return_form_refuses_cross_site_posts_and_foreign_tokens(site, shop):
    order_id, token = a_delivered_order(shop)
    _, other = a_delivered_order(shop, lines={"MUG-CLASSIC": 1})
    fields = choose(hidden(get(site, f"/my-order/{token}/return").body, "return-form"))
    foreign = hidden(get(site, f"/my-order/{other}/return").body, "return-form")
    refused = [post(site, f"/my-order/{token}/return", {**fields, "csrf": foreign["csrf"]}),
               post(site, f"/my-order/{token}/return", {k: v for k, v in fields.items() if k != "csrf"}),
               post(site, f"/my-order/{token}/return", fields, **{"sec-fetch-site": "cross-site"})]
    assert [r.status for r in refused] == [403, 403, 403]
    assert post(site, f"/my-order/{token[:-2]}xx/return", fields).status == 404
    assert shop.orders.get(order_id).returns == []


def test_a_store_drop_off_shows_the_stores_instructions_and_no_label(site, shop):
    order_id, token = a_delivered_order(shop, language="ar")
    fields = hidden(get(site, f"/my-order/{token}/return").body, "return-form")
    review = post(site, f"/my-order/{token}/return", choose(fields, method="store", store="jeddah-store"))
    assert review.status == 200 and "Jeddah store" in review.body and 'dir="rtl"' in review.body
    assert post(site, f"/my-order/{token}/return", hidden(review.body, "return-confirm-form")).status == 303
    [ret] = shop.orders.get(order_id).returns
    assert ret.location_id == "jeddah-store" and ret.estimate.return_shipping.amount == 0  # a drop-off is free
    site.uses.issue_label(order_id, ret.return_id)
    page = get(site, f"/my-order/{token}").body
    assert 'data-testid="drop-off"' in page and "Jeddah store" in page and 'data-testid="return-label"' not in page
    assert get(site, f"/my-order/{token}/returns/{ret.return_id}/label.pdf").status == 404


def test_the_label_pdf_is_served_for_that_orders_return_only(site, shop):
    order_id, token = a_delivered_order(shop)
    _, other = a_delivered_order(shop, lines={"MUG-CLASSIC": 1})
    ret = site.returns.start(order_id, "key-return-0001", _request())
    assert get(site, f"/my-order/{token}/returns/{ret.return_id}/label.pdf").status == 404  # no label yet
    site.uses.issue_label(order_id, ret.return_id)
    page = get(site, f"/my-order/{token}").body
    assert f'href="/my-order/{token}/returns/{ret.return_id}/label.pdf"' in page
    pdf = get(site, f"/my-order/{token}/returns/{ret.return_id}/label.pdf")
    assert pdf.status == 200 and pdf.content_type == "application/pdf" and pdf.body[:5] == b"%PDF-"
    assert pdf.all_headers()["Content-Disposition"] == f'attachment; filename="return-{ret.return_id}.pdf"'
    assert get(site, f"/my-order/{other}/returns/{ret.return_id}/label.pdf").status == 404  # another order's link
    assert get(site, f"/my-order/{token}/returns/ret_{'0' * 20}/label.pdf").status == 404


def test_a_declined_and_an_inspected_return_say_so_escaped(site, shop):
    order_id, token = a_delivered_order(shop, lines={"DALLAH-BRASS": 1, "PRAYER-MAT": 1})
    from returning import asking

    from dawra.domain.returns import ReturnReason

    needs = site.returns.start(order_id, "key-return-0001", asking({"DALLAH-BRASS": (1, ReturnReason.OTHER)}))
    assert needs.status.value == "requested"  # homeware: an agent decides
    page = get(site, f"/my-order/{token}").body
    assert "Waiting for our approval" in page
    site.uses.decide.decline(AGENT, order_id, needs.return_id, "key-decide-0001", "<i>used</i> item")
    shop.clock.advance(minutes=5)
    mug = site.returns.start(order_id, "key-return-0002", asking({"PRAYER-MAT": (1, ReturnReason.DAMAGED)}))
    site.uses.back(order_id, mug.return_id)
    site.uses.inspect(WAREHOUSE, order_id, mug.return_id, "key-inspect-01",
                      {"PRAYER-MAT": (InspectionOutcome.DAMAGED, "torn fringe")})
    site.uses.refund(order_id, mug.return_id)
    page = get(site, f"/my-order/{token}").body
    assert "&lt;i&gt;used&lt;/i&gt; item" in page and "<i>used" not in page
    refunded = re.search(rf'id="return-{mug.return_id}".*?</article>', page, re.S)[0]
    assert 'data-status="refunded"' in refunded and 'data-testid="return-refunded"' in refunded
    assert "damaged" in refunded
    as_json = json.loads(json.dumps(site.order_json(token)))
    assert [r["status"] for r in as_json["returns"]] == ["refunded", "declined"]


def test_the_form_offers_another_size_in_the_customers_language_and_the_review_says_nothing_is_paid(site, shop):
    from dawra.domain.money import Money
    from dawra.domain.pricing import CatalogItem

    mat = shop.world.catalog["PRAYER-MAT"]
    shop.world.catalog["PRAYER-MAT"] = mat.model_copy(update={"exchangeable_for": ("PRAYER-MAT-L",)})
    shop.world.catalog["PRAYER-MAT-L"] = CatalogItem(
        sku="PRAYER-MAT-L", title="Prayer mat, large", titles={"ar": "سجادة صلاة كبيرة"},
        unit_price=Money(amount=12000, currency="SAR"), weight_g=1100, category="textiles")
    shop.world.set_stock("PRAYER-MAT-L", "riyadh-dc", 2)
    order_id, token = a_delivered_order(shop, language="ar")
    form = get(site, f"/my-order/{token}/return")
    mat_line = re.search(r'data-sku="PRAYER-MAT".*?</fieldset>', form.body, re.S)[0]
    assert re.search(r'<select name="exchange.PRAYER-MAT" data-testid="return-exchange">\s*<option value="">[^<]+'
                     r'</option>\s*<option value="PRAYER-MAT-L">سجادة صلاة كبيرة</option>', mat_line)
    assert 'value="exchange"' in form.body
    fields = hidden(form.body, "return-form")
    review = post(site, f"/my-order/{token}/return", choose(fields, refund_method="exchange",
                                                           **{"exchange.PRAYER-MAT": "PRAYER-MAT-L"}))
    assert review.status == 200 and 'data-testid="estimate-exchange"' in review.body
    assert 'data-testid="estimate"' not in review.body  # no refund in parts: nothing to pay or refund
    assert re.search(r'data-testid="review-exchange">[^<]*: سجادة صلاة كبيرة<', review.body)
    confirm = hidden(review.body, "return-confirm-form")
    assert confirm["exchange.PRAYER-MAT"] == "PRAYER-MAT-L"
    assert post(site, f"/my-order/{token}/return", confirm).status == 303
    [ret] = shop.orders.get(order_id).returns
    assert [line.exchange.sku for line in ret.lines] == ["PRAYER-MAT-L"] and ret.estimate.total.amount == 0
    page = get(site, f"/my-order/{token}").body  # the return's section says so too, not "an estimate of 0.00"
    assert re.search(r'data-testid="return-estimate">استبدال: لا تدفع شيئاً ولا يُسترد مبلغ<', page)
