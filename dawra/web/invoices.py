"""An order's tax invoices and credit notes on the web: the page (HTML) and the PDF, for the customer's order page
and the console alike.

A document is shown only for the order that lists it (`Order.documents`); anything else is OrderNotFound, the one
404. The PDF is drawn on the first request for a number and language, then kept in the documents bucket
(`DocumentFiles`, S3) and answered from there: a document never changes once issued, so nothing ever invalidates
it, and an order nobody asks an invoice of costs no rendering and no Lambda invocation (decision 87)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from dawra.domain.errors import OrderNotFound
from dawra.domain.money import Money
from dawra.domain.order import Order
from dawra.domain.tax_documents import DocumentKind, DocumentRef, TaxDocument
from dawra.ports import DocumentFiles, TaxDocuments
from dawra.rendering import order_reference
from dawra.web.invoice_view import document_title, invoice_text, qr_svg, render_invoice_pdf, words

NUMBER = r"(?:INV|CN)-\d{4}-\d{6}"
NOT_LISTED = "no such order"


def pdf_name(number: str, language: str) -> str:
    return f"{number}-{language}.pdf"


def file_key(order_id: str, number: str, language: str) -> str:
    """Where a rendered PDF is kept in the documents bucket."""
    return f"tax-documents/{order_id}/{pdf_name(number, language)}"


@dataclass(frozen=True)
class DocumentRow:
    """One line of the order page's list of documents."""

    number: str
    title: str
    kind: str
    issued_on: str
    total: Money
    page_url: str
    pdf_url: str


class InvoicePages:
    def __init__(self, documents: TaxDocuments, files: DocumentFiles | None = None):
        """files None: every PDF is drawn on request (tests, a stack without a documents bucket)."""
        self.documents, self.files = documents, files

    def document(self, order: Order, number: str) -> TaxDocument:
        if not any(ref.number == number for ref in order.documents):
            raise OrderNotFound(NOT_LISTED)
        document = self.documents.tax_document(order.order_id, number)
        if document is None:
            raise OrderNotFound(NOT_LISTED)
        return document

    def page_context(self, order: Order, number: str, language: str, pdf_url: str) -> dict[str, Any]:
        """What templates/_invoice.html shows: the document's text and its QR code as inline SVG."""
        document = self.document(order, number)
        text = invoice_text(document, language, order_reference(order.order_id))
        return {"doc": text, "doc_words": words(language), "pdf_url": pdf_url,
                "qr": Markup(qr_svg(text.qr_payload)) if text.qr_payload else None}  # noqa: S704 - segno's SVG

    def pdf(self, order: Order, number: str, language: str) -> bytes:
        """The PDF, from the bucket when it was drawn before; drawn and kept there otherwise."""
        document = self.document(order, number)
        key = file_key(order.order_id, number, language)
        if self.files is not None:
            kept = self.files.get(key)
            if kept is not None:
                return kept
        pdf = render_invoice_pdf(document, language, order_reference(order.order_id))
        if self.files is not None:
            self.files.put(key, pdf, "application/pdf")
        return pdf


def document_rows(order: Order, language: str, page_url: Any, pdf_url: Any) -> list[DocumentRow]:
    """The order's documents, oldest first, as the order pages list them (`page_url(number)`, `pdf_url(number)`)."""
    w = words(language)
    rows = []
    for ref in order.documents:
        rows.append(DocumentRow(number=ref.number, title=_title(ref, w), kind=ref.kind.value,
                                issued_on=ref.issued_at[:10], total=Money(amount=ref.gross, currency=ref.currency), page_url=page_url(ref.number),
                                pdf_url=pdf_url(ref.number)))
    return rows


def _title(ref: DocumentRef, w: dict[str, str]) -> str:
    return w["credit_note"] if ref.kind == DocumentKind.CREDIT_NOTE else w["invoice"]


__all__ = ["NUMBER", "DocumentRow", "InvoicePages", "document_rows", "document_title", "file_key", "pdf_name"]
