"""The printable return label: one A6 page (105 x 148 mm) the customer prints and sticks on the parcel.

Rendered by Dawra from the carrier's return booking (dawra.ports.ReturnBooking), whatever the carrier, in two
steps: `label_text` (pure) decides every word the label prints, and dawra/web/label_pdf.py draws them with fpdf2,
a pure-Python PDF library, on the Noto fonts bundled in dawra/web/fonts (OFL). Arabic is shaped by HarfBuzz
(uharfbuzz, a wheel) and ordered by fpdf2's Unicode bidirectional algorithm: letters joined, right to left. Nothing
comes from the system (no Pango, no fontconfig, no fonts), so the label renders the same on Lambda's Python
runtime as here. A name or address a customer typed is drawn as text: there is no markup to inject.

Two readers: the customer, in their language (what is inside, until when the label is valid, what to do; an Arabic
label's customer part is right to left), and the carrier, in Latin script whatever the customer's language (the
service, the tracking number, its QR code, the references, the ISO date, the destination). The QR code encodes the
tracking number alone (segno's matrix, drawn as vector squares)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Literal

import segno
from babel import Locale
from babel.dates import format_date
from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.allocation import Location
from dawra.domain.customer import Address
from dawra.domain.order import Order
from dawra.ports import ReturnBooking
from dawra.web.formatting import Language, language_or_default

QR_ERROR = "m"  # medium error correction (segno raises it when the symbol has room): survives a crease or a smudge
# What fits on one A6 page whatever was typed (names and address lines may be 200 characters, an order many lines):
# longer text is cut with an ellipsis, and the lines past MAX_LINES_SHOWN are counted ("+ 3 more items").
MAX_CHARS = 60
MAX_TITLE_CHARS = 48
MAX_LINES_SHOWN = 3


class LabelParty(BaseModel):
    """Who sends or receives the parcel, as printed: a name, the address lines in the order they are written, and a
    phone number for the courier (printed left to right whatever the language around it)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: str = Field(min_length=1)
    lines: tuple[str, ...] = ()
    phone: str | None = None


class LabelLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    sku: str
    title: str  # in the customer's language
    quantity: int = Field(ge=1)


class ReturnLabel(BaseModel):
    """Everything a return label shows."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    return_id: str
    order_id: str
    booking: ReturnBooking
    sender: LabelParty  # the customer
    destination: LabelParty  # the merchant's location the parcel goes back to
    destination_code: str  # the location's id: the carrier's and the warehouse's sorting key
    lines: tuple[LabelLine, ...] = Field(min_length=1)
    language: Language = "en"
    merchant: str | None = None  # the shop's name, printed above the destination


def country_name(code: str) -> str:
    """The country's English name for the carrier, then its code ("Saudi Arabia (SA)")."""
    name = Locale("en").territories.get(code.upper())
    return f"{name} ({code.upper()})" if name else code.upper()


def party_of(address: Address) -> LabelParty:
    """The customer's address as they typed it (any script), the country in English for the carrier."""
    city = " ".join(part for part in (address.city, address.region, address.postal_code) if part)
    lines = (address.line1, address.line2, city, country_name(address.country))
    return LabelParty(name=address.name, lines=tuple(line for line in lines if line), phone=address.phone)


def destination_of(location: Location, address: Address | None = None) -> LabelParty:
    """A location as a destination: its street address when one is known, else its region and country."""
    if address is not None:
        return party_of(address).model_copy(update={"name": location.name})
    return LabelParty(name=location.name, lines=(location.region, country_name(location.country)))


def label_lines(order: Order, quantities: Mapping[str, int], language: str) -> tuple[LabelLine, ...]:
    """The returned lines of an order (sku -> quantity), titled in the customer's language, in the order's order."""
    return tuple(LabelLine(sku=line.sku, title=line.title_in(language), quantity=quantities[line.sku])
                 for line in order.lines if quantities.get(line.sku, 0) > 0)


@cache
def words(language: Language) -> dict[str, str]:
    """The label's words (dawra/web/i18n/label/<lang>.json; the same keys in both languages)."""
    folder = resources.files("dawra.web").joinpath("i18n").joinpath("label")
    loaded: dict[str, str] = json.loads(folder.joinpath(f"{language}.json").read_text(encoding="utf-8"))
    return loaded


def last_valid_day(expires_at: str) -> datetime:
    """The last (UTC) day the label can be used: the moment before it expires."""
    return datetime.fromisoformat(expires_at.replace("Z", "+00:00")).astimezone(UTC) - timedelta(microseconds=1)


def clip(text: str, limit: int = MAX_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _printed(party: LabelParty) -> LabelParty:
    return LabelParty(name=clip(party.name), lines=tuple(clip(line) for line in party.lines),
                      phone=clip(party.phone) if party.phone else None)




Direction = Literal["ltr", "rtl"]


class LabelText(BaseModel):
    """Every piece of text a label prints, in the words and the order it prints them: the pure half of the label
    (`label_text`), which the PDF drawing (dawra/web/label_pdf.py) only places on the page."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    language: Language
    direction: Direction  # the customer's half of the label; the carrier's half is always left to right
    title: str  # the document's title (PDF metadata)
    # The carrier's box, English and Latin script whatever the customer's language.
    kind: str
    service: str
    tracking_heading: str
    tracking_number: str
    refs: tuple[tuple[str, str], ...]  # (English name, value): return, order, valid until, pickup
    # The destination (read by the carrier: left to right) and the sender (in the customer's direction).
    to_heading: str
    destination_code: str
    merchant: str | None
    destination: LabelParty
    from_heading: str
    sender: LabelParty
    # The customer's part, in their language.
    inside_heading: str
    items: tuple[tuple[str, str], ...]  # (title, quantity) of the lines shown
    more: str | None  # "Other items: 3" when some lines are not shown
    use_by: str
    steps: str


def direction_of(text: str, default: Direction = "ltr") -> Direction:
    """The direction of a paragraph by its first strong character (Unicode's rule P2, as HTML's dir="auto")."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return default


def label_text(label: ReturnLabel) -> LabelText:
    """What the label says (pure): the customer's words in their language, the carrier's in English; names and
    addresses as typed, cut to fit; a pickup's day for the customer and its ISO day and window for the courier."""
    language = language_or_default(label.language)
    say, en = words(language), words("en")
    last_day = last_valid_day(label.booking.expires_at)
    locale = "ar_SA" if language == "ar" else "en"
    pickup = label.booking.pickup
    bilingual = language != "en"

    def t(key: str, **values: object) -> str:
        text = say.get(key) or en[key]
        return text.format(**values) if values else text

    refs = [(en["label.return_ref"], label.return_id), (en["label.order_ref"], label.order_id),
            (en["label.valid_until"], last_day.date().isoformat())]
    if pickup:
        refs.append((en["label.pickup"], f"{pickup.day.isoformat()} {pickup.window.value}"))
        day = format_date(pickup.day, "EEEE\u060c d MMMM" if language == "ar" else "EEEE d MMMM", locale=locale)
        steps = t("label.pickup_steps", day=day, window=t(f"label.window.{pickup.window.value}"))
    else:
        # A carrier's name is not broken across lines.
        steps = t("label.steps", carrier=label.booking.service.replace(" ", "\u00a0"))
    more = sum(line.quantity for line in label.lines[MAX_LINES_SHOWN:])
    return LabelText(
        language=language,
        direction="rtl" if language == "ar" else "ltr",
        title=f"{en['label.title']} {label.booking.tracking_number}",
        kind=en["label.return"],
        service=label.booking.service,
        tracking_heading=en["label.tracking"],
        tracking_number=label.booking.tracking_number,
        refs=tuple(refs),
        to_heading=en["label.to"].upper() + (f" · {t('label.to')}" if bilingual else ""),
        destination_code=label.destination_code,
        merchant=clip(label.merchant) if label.merchant else None,
        destination=_printed(label.destination),
        from_heading=(f"{t('label.from')} · " if bilingual else "") + en["label.from"].upper(),
        sender=_printed(label.sender),
        inside_heading=t("label.inside"),
        items=tuple((clip(line.title, MAX_TITLE_CHARS), t("label.quantity", quantity=line.quantity))
                    for line in label.lines[:MAX_LINES_SHOWN]),
        more=t("label.more", count=more) if more else None,
        use_by=t("label.use_by", date=format_date(last_day.date(), format="long", locale=locale)),
        steps=steps,
    )


def render_return_label(label: ReturnLabel) -> bytes:
    """The label as PDF bytes (one A6 page), drawn by fpdf2 with the fonts bundled in dawra/web/fonts."""
    from dawra.web.label_pdf import draw  # fpdf2 and HarfBuzz are loaded here, not when dawra.web is imported

    return draw(label_text(label), qr_modules(label.booking.tracking_number))


def qr_modules(text: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code of `text` as rows of dark (True) and light modules, without its quiet zone (the drawing leaves
    4 modules of white around it)."""
    return tuple(tuple(bool(bit) for bit in row) for row in segno.make(text, error=QR_ERROR, micro=False).matrix)
