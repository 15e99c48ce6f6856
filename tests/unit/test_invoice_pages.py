"""An order's invoices and credit notes on the customer's page: listed with links, shown as an escaped HTML page
(Arabic right to left, English left to right) with the QR code, drawn as a PDF whose text reads back (pypdf) in
both languages, kept once drawn, and never shown for another order's link."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from fakes import LINK_KEY
from pypdf import PdfReader

from dawra.app.order_page import OpenOrderLink
from dawra.domain.tax_documents import merchant_profile, read_zatca_qr
from dawra.web.customer import CustomerSite
from dawra.web.http import WebRequest
from dawra.web.invoices import InvoicePages, file_key

HOSTILE = '<script>alert("x")</script>'


class Files:
    """DocumentFiles in memory, counting what was asked."""

    def __init__(self):
        self.kept: dict[str, bytes] = {}
        self.puts = 0

    def get(self, key):
        return self.kept.get(key)

    def put(self, key, body, content_type):
        assert content_type == "application/pdf"
        self.kept[key] = body
        self.puts += 1


class Log:
    def info(self, msg, *args, **kwargs):
        pass


@pytest.fixture
def files():
    return Files()


@pytest.fixture
def site(shop, files):
    return CustomerSite(OpenOrderLink(shop.orders, lambda: LINK_KEY, shop.clock), None, shop.links, None, Log(),
                        invoices=InvoicePages(shop.orders, files))


def shipped(shop, name="Sara", line1="12 Olaya St", language="en", key="key-00000001"):
    order_id = shop.place({"MUG-CLASSIC": 2}, key=key, contact={"email": "sara@example.com", "language": language},
                          shipping_address={"name": name, "line1": line1, "city": "Riyadh", "country": "SA"})
    for planned in shop.reserve(order_id).shipments:
        shop.ship(order_id, planned.shipment_id)
    order = shop.orders.get(order_id)
    return order, shop.links.token(order)


def get(site, path):
    return site.handle(WebRequest(method="GET", path=urlsplit(path).path, query=parse_qs(urlsplit(path).query),
                                  headers={"host": "shop.example"}), "198.51.100.7")


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_order_page_lists_its_invoice_with_its_page_and_its_pdf(site, shop):
    order, token = shipped(shop)
    [ref] = order.documents
    body = get(site, f"/my-order/{token}").body
    assert 'data-testid="documents"' in body and ref.number in body
    assert f"/my-order/{token}/invoices/{ref.number}" in body and f"/invoices/{ref.number}/pdf" in body


def test_the_invoice_page_escapes_what_the_customer_typed_and_carries_the_qr_code(site, shop):
    order, token = shipped(shop, name=HOSTILE, line1=f"{HOSTILE} St")
    [ref] = order.documents
    page = get(site, f"/my-order/{token}/invoices/{ref.number}")
    assert page.status == 200 and "<script" not in page.body and "style=" not in page.body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.body
    assert "Simplified Tax Invoice" in page.body and ref.number in page.body and "<svg" in page.body
    payload = page.body.split('data-payload="', 1)[1].split('"', 1)[0]
    assert read_zatca_qr(payload)["vat_number"] == merchant_profile().vat_number


def test_the_arabic_page_reads_right_to_left(site, shop):
    order, token = shipped(shop, language="ar")
    page = get(site, f"/my-order/{token}/invoices/{order.documents[0].number}")
    assert '<html lang="ar" dir="rtl">' in page.body and 'dir="rtl"' in page.body
    assert "فاتورة ضريبية مبسطة" in page.body and merchant_profile().names["ar"] in page.body


def test_the_pdf_reads_back_in_english_and_in_arabic_and_is_kept_once_drawn(site, shop, files):
    order, token = shipped(shop, name="سارة القحطاني")
    number = order.documents[0].number
    english = get(site, f"/my-order/{token}/invoices/{number}/pdf?lang=en")
    assert english.status == 200 and english.content_type == "application/pdf"
    assert english.headers["Content-Disposition"] == f'attachment; filename="{number}-en.pdf"'
    text = text_of(english.body)
    assert "Simplified Tax Invoice" in text and number in text and "Classic mug" in text
    total = f"{order.totals.total.amount // 100:,}.{order.totals.total.amount % 100:02d}"
    assert f"{total} SAR" in text and "سارة القحطاني" in text and "300000000000003" in text
    arabic = text_of(get(site, f"/my-order/{token}/invoices/{number}/pdf?lang=ar").body)
    assert "فاتورة ضريبية مبسطة" in arabic and "كوب كلاسيكي" in arabic and merchant_profile().names["ar"] in arabic
    assert "الإجمالي شامل الضريبة" in arabic and number in arabic
    assert files.puts == 2 and set(files.kept) == {file_key(order.order_id, number, "en"),
                                                  file_key(order.order_id, number, "ar")}
    again = get(site, f"/my-order/{token}/invoices/{number}/pdf?lang=en")
    assert again.body == english.body and files.puts == 2  # answered from the bucket, not drawn again


def test_another_orders_document_or_a_made_up_number_is_the_same_404(site, shop):
    first, _ = shipped(shop)
    _, token = shipped(shop, key="key-00000002")
    for number in (first.documents[0].number, "INV-2026-999999", "CN-2026-000001"):
        assert get(site, f"/my-order/{token}/invoices/{number}").status == 404
        assert get(site, f"/my-order/{token}/invoices/{number}/pdf").status == 404


def test_the_label_api_serves_the_invoice_pdf_too(site, shop):
    order, token = shipped(shop)
    number = order.documents[0].number
    request = WebRequest(method="GET", path=f"/my-order/{token}/invoices/{number}/pdf", query={},
                         headers={"host": "labels.example"})
    answer = site.label_download(request)
    assert answer.status == 200 and bytes(answer.body).startswith(b"%PDF")
    other = WebRequest(method="GET", path=f"/my-order/{token}/invoices/INV-2026-999999/pdf", query={}, headers={})
    assert site.label_download(other).status == 404


@pytest.mark.parametrize(("language", "words"), [("en", "Your tax invoice"), ("ar", "الفاتورة الضريبية")])
def test_the_shipped_email_links_the_invoice_in_both_languages(shop, language, words):
    order, _ = shipped(shop, language=language)
    [event] = [e for e in shop.orders.timeline(order.order_id) if e.kind == "shipment_shipped"]
    shop.notify(event, "sender-1")
    [email] = [m for m in shop.messenger.sent if m["channel"] == "email"]
    number = order.documents[0].number
    link = f"https://shop.example/v1/my-order/{shop.links.token(order)}/invoices/{number}"
    assert words in email["html"] and f'href="{link}"' in email["html"]
    assert f"{number}: {link}" in email["text"]


# --- the console ---------------------------------------------------------------------------------------------------

AGENT_CLAIMS = {"sub": "u-agent", "cognito:username": "agent", "cognito:groups": "agent", "iat": 1}


def console_get(console, path):
    from dawra.web.security import SESSION_COOKIE

    return console.handle(WebRequest("GET", path, cookies={SESSION_COOKIE: "agent"}, headers={"host": "x"}))


@pytest.fixture
def console(shop):
    from dataclasses import dataclass

    from fakes import FakeAuditLog

    from dawra.app.backoffice import ViewOrderFile
    from dawra.web.console import Console

    @dataclass(frozen=True)
    class Office:
        view_order: ViewOrderFile

    return Console(Office(ViewOrderFile(shop.orders, FakeAuditLog(shop.world))),  # type: ignore[arg-type]
                   lambda token: AGENT_CLAIMS, lambda *_: None, lambda: b"console-key", Log(),  # type: ignore
                   invoices=InvoicePages(shop.orders))


def test_the_console_lists_an_orders_documents_and_shows_each_one(console, shop):
    order, _ = shipped(shop, name=HOSTILE)
    order.refund(order.payment.captured.model_copy(update={"amount": 500}), "2026-11-23T10:00:00.000Z", "bo-1")
    shop.uow.commit(order=order)
    invoice, note = shop.orders.get(order.order_id).documents
    page = console_get(console, f"/admin/orders/{order.order_id}")
    assert page.status == 200 and 'data-testid="documents"' in page.body
    for ref in (invoice, note):
        assert f"/admin/orders/{order.order_id}/invoices/{ref.number}" in page.body
    shown = console_get(console, f"/admin/orders/{order.order_id}/invoices/{note.number}")
    assert shown.status == 200 and "Credit Note" in shown.body and invoice.number in shown.body
    assert "<script>alert" not in shown.body and "&lt;script&gt;" in shown.body
    other, _ = shipped(shop, key="key-00000002")
    assert console_get(console, f"/admin/orders/{other.order_id}/invoices/{note.number}").status == 404


def qr_drawn(pdf: bytes) -> set[tuple[int, int]]:
    """The QR code's dark modules (column, row) as the first page draws them: one filled rectangle per horizontal run
    of dark modules, all one module high (the table's grey bands are taller)."""
    import re

    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data().decode("latin-1")
    found = [tuple(map(float, f)) for f in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) (-[\d.]+) re f", content)]
    module = min(-height for *_, height in found)
    runs = [run for run in found if abs(-run[3] - module) < 0.01]
    left, top = min(x for x, *_ in runs), max(y for _, y, *_ in runs)
    dark = set()
    for x, y, width, _ in runs:
        col, row = round((x - left) / module), round((top - y) / module)
        dark |= {(col + i, row) for i in range(round(width / module))}
    return dark


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_pdf_draws_the_qr_code_of_the_documents_payload(site, shop, language):
    import segno

    order, token = shipped(shop)
    number = order.documents[0].number
    payload = shop.orders.tax_document(order.order_id, number).qr_payload()
    pdf = get(site, f"/my-order/{token}/invoices/{number}/pdf?lang={language}").body
    matrix = segno.make(payload, error="m", micro=False).matrix
    assert qr_drawn(pdf) == {(col, row) for row, bits in enumerate(matrix) for col, bit in enumerate(bits) if bit}
