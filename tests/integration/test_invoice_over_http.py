"""A tax invoice on the local stack, as a customer meets it: the order ships, the shipped email links the invoice's
page, the page links its PDF on the return label's HTTP API (which answers the bytes), and the PDF, drawn on that
first download, is kept in the documents bucket and answered from there after.

Uses the module-scoped, seeded `local_stack` of tests/conftest.py."""

from __future__ import annotations

import io
import re
import time
import uuid

import pytest
from pages import call
from pypdf import PdfReader

from dawra.contracts.api import EXAMPLE_ORDER
from dawra.local.actors import Storefront
from dawra.web.invoices import file_key

pytestmark = pytest.mark.timeout(180)
INVOICE_LINK = re.compile(r"(http://127\.0\.0\.1:\d+/my-order/[A-Za-z0-9_-]{52}/invoices/(INV-\d{4}-\d{6}))")


def shipped_email(stack, address: str, timeout_s: float = 30):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [m for m in stack.outbox() if m.to == address and "on its way" in m.subject]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no shipped email to {address}")


def test_the_shipped_email_links_the_invoice_whose_pdf_is_drawn_once_and_kept(local_stack):
    email = f"c-{uuid.uuid4().hex[:10]}@example.com"
    store = Storefront(local_stack.gateway_url)
    placed = store.place_order({**EXAMPLE_ORDER, "contact": {"email": email, "preferred_channel": "email"}},
                               f"key-{uuid.uuid4().hex}")
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    store.wait_for(order_id, {"SHIPPED"})
    match = INVOICE_LINK.search(shipped_email(local_stack, email).body)
    assert match, "the shipped email links no invoice"
    page_url, number = match[1], match[2]

    page = call("GET", page_url)
    assert page.status == 200 and "Simplified Tax Invoice" in page.text and number in page.text
    [pdf_url] = re.findall(r'href="([^"]+/pdf\?lang=en)" data-testid="invoice-pdf"', page.text)
    assert pdf_url.startswith(local_stack.cloud.http_api_urls["return-label-api"] + "/my-order/")  # its own origin
    pdf = call("GET", pdf_url.replace("&amp;", "&"))
    assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body)).pages)
    assert number in text and "Simplified Tax Invoice" in text

    s3 = local_stack.cloud.client("s3")
    bucket = local_stack.cloud.resolve_ref("bucket", "documents", "name")
    kept = s3.get_object(Bucket=bucket, Key=file_key(order_id, number, "en"))["Body"].read()
    assert kept == pdf.body
    s3.put_object(Bucket=bucket, Key=file_key(order_id, number, "en"), Body=b"%PDF-kept")  # what the bucket holds
    assert call("GET", pdf_url.replace("&amp;", "&")).body == b"%PDF-kept"  # is what the next download answers
    other = re.sub(r"INV-\d{4}-\d{6}", "INV-2020-000001", pdf_url)
    assert call("GET", other).status == 404
