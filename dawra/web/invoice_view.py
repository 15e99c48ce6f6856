"""What a tax invoice or credit note says on the page and in its PDF, in Arabic (right to left) or English. Pure.

`invoice_text` decides every word and figure once; the HTML page (templates/_invoice.html, Jinja2, autoescaped)
and the PDF (dawra/web/invoice_pdf.py, fpdf2) both show that text, so they cannot disagree. The document itself
(dawra.domain.tax_documents.TaxDocument) was fixed when it was issued: the seller, the buyer and the prices as they
were then. Figures use Western digits in both languages (as Saudi invoices usually do) and the currency's code;
the time of issue is UTC, as the QR code says it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dawra.domain.tax_documents import DocumentKind, TaxDocument, decimal_amount
from dawra.web.formatting import Language

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "simplified": "Simplified Tax Invoice", "invoice": "Tax Invoice", "credit_note": "Credit Note",
        "number": "Number", "issued": "Date of issue", "order": "Order", "payment": "Payment",
        "po": "Purchase order", "due": "Due date", "corrects": "Credit for invoice", "reason": "Reason",
        "seller": "Seller", "buyer": "Buyer", "vat_number": "VAT number", "cr": "Commercial registration",
        "item": "Item", "quantity": "Qty", "unit_price": "Unit price", "net": "Net", "rate": "VAT %", "vat": "VAT",
        "total": "Total", "total_net": "Total excluding VAT", "total_vat": "VAT total",
        "total_gross": "Total including VAT", "credit_gross": "Total credited including VAT",
        "qr": "Scan to verify this invoice with the tax authority's app",
        "card": "Card", "cash_on_delivery": "Cash on delivery", "sandbox": "Card", "on_account": "On account",
        "refund": "Refund", "return": "Items returned", "claim": "Problem with a delivery",
        "lost_or_returned": "Parcel lost or returned",
        "amounts_in": "Amounts in {currency}", "download": "Download PDF",
        "documents": "Invoices and credit notes", "view": "View", "pdf": "PDF",
    },
    "ar": {
        "simplified": "فاتورة ضريبية مبسطة", "invoice": "فاتورة ضريبية", "credit_note": "إشعار دائن",
        "number": "الرقم", "issued": "تاريخ الإصدار", "order": "الطلب", "payment": "طريقة الدفع",
        "po": "أمر الشراء", "due": "تاريخ الاستحقاق", "corrects": "إشعار دائن للفاتورة", "reason": "السبب",
        "seller": "البائع", "buyer": "المشتري", "vat_number": "الرقم الضريبي", "cr": "السجل التجاري",
        "item": "الصنف", "quantity": "الكمية", "unit_price": "سعر الوحدة", "net": "المبلغ", "rate": "النسبة",
        "vat": "الضريبة", "total": "الإجمالي", "total_net": "الإجمالي غير شامل الضريبة",
        "total_vat": "إجمالي ضريبة القيمة المضافة", "total_gross": "الإجمالي شامل الضريبة",
        "credit_gross": "إجمالي المبلغ الدائن شامل الضريبة",
        "qr": "امسح الرمز للتحقق من الفاتورة عبر تطبيق هيئة الزكاة والضريبة والجمارك",
        "card": "بطاقة", "cash_on_delivery": "الدفع عند الاستلام", "sandbox": "بطاقة", "on_account": "على الحساب (آجل)",
        "refund": "استرداد", "return": "إرجاع منتجات", "claim": "مشكلة في التوصيل",
        "lost_or_returned": "شحنة مفقودة أو مرتجعة",
        "amounts_in": "المبالغ بعملة {currency}", "download": "تنزيل ملف PDF",
        "documents": "الفواتير والإشعارات الدائنة", "view": "عرض", "pdf": "PDF",
    },
}
COLUMNS = ("item", "quantity", "unit_price", "net", "rate", "vat", "total")


@dataclass(frozen=True)
class InvoiceText:
    """Every word and figure of one document in one language, in reading order."""

    language: Language
    direction: str  # rtl | ltr
    title: str
    number: str
    facts: tuple[tuple[str, str], ...]  # (label, value): number, date, order, payment, ...
    seller_heading: str
    seller: tuple[str, ...]  # name, address lines, VAT number, commercial registration
    buyer_heading: str
    buyer: tuple[str, ...]  # name (as typed), address lines, VAT number
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # one per line, in `columns`' order
    totals: tuple[tuple[str, str], ...]  # (label, amount)
    currency_note: str
    qr_payload: str | None
    qr_caption: str

    @property
    def is_rtl(self) -> bool:
        return self.direction == "rtl"


def words(language: str) -> dict[str, str]:
    return WORDS["ar" if language == "ar" else "en"]


def _amount(minor: int, currency: str) -> str:
    """1234567 SAR -> "12,345.67": grouped, the currency's decimals, a minus sign for a deduction."""
    plain = decimal_amount(minor, currency)
    sign, plain = ("-", plain[1:]) if plain.startswith("-") else ("", plain)
    whole, _, fraction = plain.partition(".")
    return f"{sign}{int(whole):,}" + (f".{fraction}" if fraction else "")


def _rate(bps: int) -> str:
    return f"{bps / 100:g}%"


def _issued(at: str) -> str:
    moment = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def document_title(document: TaxDocument, language: str) -> str:
    w = words(language)
    if document.kind == DocumentKind.CREDIT_NOTE:
        return w["credit_note"]
    return w["simplified"] if document.is_simplified and document.seller.country == "SA" else w["invoice"]


def invoice_text(document: TaxDocument, language: str, order_reference: str) -> InvoiceText:
    lang: Language = "ar" if language == "ar" else "en"
    w, currency = words(lang), document.currency
    facts = [(w["number"], document.number or "—"), (w["issued"], _issued(document.issued_at)),
             (w["order"], order_reference), (w["payment"], w.get(document.payment_method, w["card"]))]
    if document.refers_to:
        facts.append((w["corrects"], ", ".join(document.refers_to)))
    if document.reason:
        facts.append((w["reason"], w.get(document.reason, document.reason)))
    if document.po_number:
        facts.append((w["po"], document.po_number))
    if document.due_date:
        facts.append((w["due"], document.due_date))
    seller = document.seller
    seller_lines = (seller.name_in(lang), *seller.address_in(lang), f"{w['vat_number']}: {seller.vat_number}",
                    *([f"{w['cr']}: {seller.commercial_registration}"] if seller.commercial_registration else []))
    buyer = document.buyer
    buyer_lines = (buyer.name, *buyer.address,
                   *([f"{w['vat_number']}: {buyer.vat_number}"] if buyer.vat_number else []))
    rows = tuple((line.title_in(lang), str(line.quantity), _amount(line.unit_price, currency),
                  _amount(line.net, currency), _rate(line.tax_rate_bps), _amount(line.tax, currency),
                  _amount(line.gross, currency)) for line in document.lines)
    gross_label = w["credit_gross"] if document.kind == DocumentKind.CREDIT_NOTE else w["total_gross"]
    totals = ((w["total_net"], _amount(document.net, currency)), (w["total_vat"], _amount(document.tax, currency)),
              (gross_label, f"{_amount(document.gross, currency)} {currency}"))
    return InvoiceText(
        language=lang, direction="rtl" if lang == "ar" else "ltr", title=document_title(document, lang),
        number=document.number, facts=tuple(facts), seller_heading=w["seller"], seller=seller_lines,
        buyer_heading=w["buyer"], buyer=buyer_lines, columns=tuple(w[c] for c in COLUMNS), rows=rows, totals=totals,
        currency_note=w["amounts_in"].format(currency=currency), qr_payload=document.qr_payload(),
        qr_caption=w["qr"])


def qr_svg(payload: str) -> str:
    """The QR code as inline SVG markup (segno; no script, no external file: the page's CSP allows it)."""
    import segno

    return str(segno.make(payload, error="m", micro=False).svg_inline(scale=3))


def qr_matrix(payload: str) -> tuple[tuple[bool, ...], ...]:
    import segno

    return tuple(tuple(bool(bit) for bit in row) for row in segno.make(payload, error="m", micro=False).matrix)


def render_invoice_pdf(document: TaxDocument, language: str, order_reference: str) -> bytes:
    """The document as an A4 PDF (fpdf2, the bundled Noto fonts, Arabic shaped by HarfBuzz)."""
    from dawra.web.invoice_pdf import draw  # fpdf2 and HarfBuzz load here, on the first PDF, not at import

    text = invoice_text(document, language, order_reference)
    return draw(text, qr_matrix(text.qr_payload) if text.qr_payload else ())
