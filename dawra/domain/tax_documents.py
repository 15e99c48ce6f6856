"""Tax invoices and credit notes: what they say, how they are numbered, and the Saudi simplified invoice's QR code.

Pure. An invoice is issued for each shipment whose share of the payment is captured (for cash on delivery: when it
ships), a credit note for each refund (or store credit) that gives money back; the order drafts them
(dawra/domain/invoicing.py) and the unit of work numbers them in the transaction that records the capture or the
refund, so a number exists if and only if that money moved: gapless, and never twice (decision 87).

Numbers are `<prefix>-<year>-<sequence>` (INV-2026-000123, CN-2026-000007): one gapless sequence per kind and per
calendar year (UTC) of issue, each counted by its own counter item.

Amounts are integer minor units in the document's currency. A line's amounts may be negative on a credit note's
deduction (a restocking fee kept back); a document's totals are always the sums of its lines.

The QR code of a Saudi simplified tax invoice (ZATCA, phase 1) is a TLV list, base64-encoded: tag 1 seller's name,
2 the VAT registration number, 3 the time of issue (ISO-8601), 4 the total with VAT, 5 the VAT; each tag and length
one byte, each value its UTF-8 bytes (`zatca_qr`, `read_zatca_qr`).
"""

from __future__ import annotations

import base64
import enum
import json
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MERCHANT_FILE = Path(__file__).with_name("merchant.json")
# ISO 4217 minor-unit exponents that differ from 2 (as dawra.rendering's)
_EXPONENT = {"KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "IQD": 3, "TND": 3, "LYD": 3, "JPY": 0}


class DocumentKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


PREFIX = {DocumentKind.INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CN"}
SEQUENCE_DIGITS = 6


def series_of(kind: DocumentKind, issued_at: str) -> str:
    """The sequence a document issued at `issued_at` (UTC ISO-8601) is numbered in: one per kind and year."""
    return f"{PREFIX[kind]}-{issued_at[:4]}"


def document_number(series: str, sequence: int) -> str:
    return f"{series}-{sequence:0{SEQUENCE_DIGITS}d}"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Seller(_Frozen):
    """The merchant as its tax registration names it (dawra/domain/merchant.json), copied onto every document at
    issue: a later change of name or address never rewrites a document already issued."""

    names: dict[str, str] = Field(min_length=1)  # the legal name per language ("ar": registered in Saudi Arabia)
    vat_number: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{8,20}$")]
    address: dict[str, tuple[str, ...]]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    commercial_registration: str | None = None

    def name_in(self, language: str) -> str:
        return self.names.get(language) or self.names.get("en") or next(iter(self.names.values()))

    def address_in(self, language: str) -> tuple[str, ...]:
        return self.address.get(language) or self.address.get("en") or ()

    @property
    def registered_name(self) -> str:
        """The name the tax authority knows (the QR code's): Arabic in Saudi Arabia, else English."""
        return self.name_in("ar" if self.country == "SA" else "en")


class Buyer(_Frozen):
    """Who bought, as the order says (the name and address the customer typed). A business buyer's VAT number makes a
    Saudi invoice a standard tax invoice instead of a simplified one."""

    name: str
    address: tuple[str, ...]
    country: str
    vat_number: str | None = None


class DocumentLine(_Frozen):
    sku: str | None = None  # None: a charge (shipping, fees) or an adjustment, not an item
    title: str
    titles: dict[str, str] = Field(default_factory=dict)
    quantity: int = 1
    unit_price: int  # before tax, minor units
    net: int  # before tax (unit_price x quantity for an item)
    tax_rate_bps: int = Field(ge=0)  # 1500 = 15%
    tax: int

    @property
    def gross(self) -> int:
        return self.net + self.tax

    def title_in(self, language: str) -> str:
        return self.titles.get(language, self.title)


class TaxDocument(_Frozen):
    """An invoice or a credit note. A draft has sequence 0 and no number; the unit of work numbers it."""

    kind: DocumentKind
    key: str  # what it was issued for, unique within the order: "ship:<shipment id>", "refund:<ref>", "return:<id>"
    series: str
    sequence: int = Field(default=0, ge=0)
    order_id: str
    issued_at: str  # UTC ISO-8601: when the money moved
    currency: str
    seller: Seller
    buyer: Buyer
    lines: tuple[DocumentLine, ...] = Field(min_length=1)
    net: int
    tax: int
    gross: int
    payment_method: str  # the order's payment provider (card sandbox, cash_on_delivery, ...)
    shipment_ids: tuple[str, ...] = ()  # the shipments an invoice covers
    refers_to: tuple[str, ...] = ()  # a credit note: the invoice numbers it corrects
    reason: str | None = None  # a credit note: why money went back (refund, return, claim, lost parcel)
    # A business buyer on terms (a later capability fills them): the purchase order and when payment is due.
    po_number: str | None = None
    due_date: str | None = None

    @model_validator(mode="after")
    def _sums(self) -> TaxDocument:
        if (self.net, self.tax, self.gross) != (sum(x.net for x in self.lines), sum(x.tax for x in self.lines),
                                                 sum(x.gross for x in self.lines)):
            raise ValueError("a document's totals are the sums of its lines")
        return self

    @property
    def number(self) -> str:
        return document_number(self.series, self.sequence) if self.sequence else ""

    @property
    def is_draft(self) -> bool:
        return self.sequence == 0

    @property
    def is_simplified(self) -> bool:
        """A Saudi simplified tax invoice (business to consumer): the buyer has no VAT number."""
        return self.buyer.vat_number is None

    def numbered(self, sequence: int) -> TaxDocument:
        return self.model_copy(update={"sequence": sequence})

    def ref(self) -> DocumentRef:
        return DocumentRef(kind=self.kind, number=self.number, issued_at=self.issued_at, gross=self.gross,
                           currency=self.currency, shipment_ids=self.shipment_ids, refers_to=self.refers_to)

    def qr_payload(self) -> str | None:
        """The ZATCA QR code's content, for a document of a seller registered in Saudi Arabia; None elsewhere."""
        if self.seller.country != "SA":
            return None
        return zatca_qr(self.seller.registered_name, self.seller.vat_number, self.issued_at,
                        decimal_amount(self.gross, self.currency), decimal_amount(self.tax, self.currency))


class DocumentRef(_Frozen):
    """What the order keeps of each document it issued: enough to list it (the document is an item of its own)."""

    kind: DocumentKind
    number: str
    issued_at: str
    gross: int
    currency: str
    shipment_ids: tuple[str, ...] = ()
    refers_to: tuple[str, ...] = ()


# --- the merchant ------------------------------------------------------------------------------------------------


@cache
def merchant_profile(path: Path = MERCHANT_FILE) -> Seller:
    """The seller every document names: data beside this module, validated when first read."""
    return Seller.model_validate(json.loads(path.read_text(encoding="utf-8")))


# --- amounts -----------------------------------------------------------------------------------------------------


def decimal_amount(minor: int, currency: str) -> str:
    """Minor units as the decimal the tax authority reads: 115000 SAR -> "1150.00" (no grouping, no currency)."""
    exponent = _EXPONENT.get(currency, 2)
    sign, minor = ("-" if minor < 0 else ""), abs(minor)
    if exponent == 0:
        return f"{sign}{minor}"
    whole, fraction = divmod(minor, 10**exponent)
    return f"{sign}{whole}.{fraction:0{exponent}d}"


def tax_in(gross: int, bps: int) -> int:
    """The tax inside a tax-inclusive amount, rounded half away from zero: 115.00 at 15% -> 15.00."""
    magnitude = (abs(gross) * bps * 2 + (10000 + bps)) // (2 * (10000 + bps))
    return magnitude if gross >= 0 else -magnitude


def rate_of(net: int, tax: int) -> int:
    """The rate (basis points, to the nearest 0.5%) an amount was taxed at: 10000 at 1500 -> 1500."""
    if net <= 0 or tax <= 0:
        return 0
    return round(tax * 10000 / net / 50) * 50


# --- the Saudi simplified tax invoice's QR code (ZATCA phase 1) --------------------------------------------------

ZATCA_TAGS = {1: "seller_name", 2: "vat_number", 3: "timestamp", 4: "total_with_vat", 5: "vat_total"}


def _tlv(tag: int, value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > 255:
        raise ValueError(f"tag {tag}: {len(data)} bytes is more than one length byte can say")
    return bytes([tag, len(data)]) + data


def zatca_qr(seller_name: str, vat_number: str, timestamp: str, total_with_vat: str, vat_total: str) -> str:
    """The five fields as TLV (tag and length one byte each, the value's UTF-8 bytes), base64-encoded."""
    fields = (seller_name, vat_number, timestamp, total_with_vat, vat_total)
    return base64.b64encode(b"".join(_tlv(tag, value) for tag, value in enumerate(fields, start=1))).decode("ascii")


def read_zatca_qr(payload: str) -> dict[str, str]:
    """The QR code's fields by name, read back from its base64 TLV (what a scanning app does)."""
    data, fields, at = base64.b64decode(payload, validate=True), {}, 0
    while at < len(data):
        if at + 2 > len(data):
            raise ValueError("a tag without its length")
        tag, length = data[at], data[at + 1]
        value = data[at + 2:at + 2 + length]
        if len(value) != length:
            raise ValueError(f"tag {tag} says {length} bytes, {len(value)} follow")
        fields[ZATCA_TAGS.get(tag, str(tag))] = value.decode("utf-8")
        at += 2 + length
    return fields
