"""The printable return label: one A6 page (105 x 148 mm) the customer prints and sticks on the parcel.

Rendered by Dawra from the carrier's return booking (dawra.ports.ReturnBooking), whatever the carrier: HTML from a
Jinja2 template (dawra/web/templates/label/return_label.html, autoescaped, so a name or address a customer typed is
text, never markup), then PDF by WeasyPrint (Pango shapes the text: Arabic joined, right to left).

Two readers: the customer, in their language (what is inside, until when the label is valid, what to do; an Arabic
label is dir="rtl" and laid out with logical CSS properties), and the carrier, in Latin script whatever the
customer's language (the service, the tracking number, its QR code, the references, the ISO date, the
destination). The QR code encodes the tracking number alone (segno, inline SVG).

`return_label_html` is pure; `render_return_label` adds WeasyPrint, imported when first used (it loads Pango from
the system: apt libpango-1.0-0 and libpangoft2-1.0-0; the Lambda Python runtime has no Pango, see the notes of
issue 12 on what a deployment needs)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources

import segno
from babel import Locale
from babel.dates import format_date
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.allocation import Location
from dawra.domain.customer import Address
from dawra.domain.order import Order
from dawra.ports import ReturnBooking
from dawra.web.formatting import Language, language_or_default
from dawra.web.render import environment

TEMPLATE = "label/return_label.html"
QR_ERROR = "m"  # medium error correction (segno raises it when the symbol has room): survives a crease or a smudge
# What fits on one A6 page whatever was typed (names and address lines may be 200 characters, an order many lines):
# longer text is cut with an ellipsis, and the lines past MAX_LINES_SHOWN are counted ("+ 3 more items").
MAX_CHARS = 60
MAX_TITLE_CHARS = 48
MAX_LINES_SHOWN = 3


class LabelParty(BaseModel):
    """Who sends or receives the parcel, as printed: a name, the address lines in the order they are written, and a
    phone number for the courier (printed left to right whatever the language around it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    lines: tuple[str, ...] = ()
    phone: str | None = None


class LabelLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    title: str  # in the customer's language
    quantity: int = Field(ge=1)


class ReturnLabel(BaseModel):
    """Everything a return label shows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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


def qr_svg(text: str) -> str:
    """An inline SVG QR code of `text` (no size of its own: the label's CSS sizes it; a 4-module quiet zone)."""
    return str(segno.make(text, error=QR_ERROR, micro=False).svg_inline(
        scale=1, border=4, omitsize=True, svgclass="qr", lineclass=None, dark="#000"))


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


def return_label_html(label: ReturnLabel) -> str:
    language = language_or_default(label.language)
    say = words(language)
    last_day = last_valid_day(label.booking.expires_at)
    locale = "ar_SA" if language == "ar" else "en"
    pickup = label.booking.pickup

    def t(key: str, **values: object) -> str:
        text = say.get(key) or words("en")[key]
        return text.format(**values) if values else text

    shown = [line.model_copy(update={"title": clip(line.title, MAX_TITLE_CHARS)})
             for line in label.lines[:MAX_LINES_SHOWN]]
    more = sum(line.quantity for line in label.lines[MAX_LINES_SHOWN:])
    return environment().get_template(TEMPLATE).render({
        "label": label,
        "sender": _printed(label.sender),
        "destination": _printed(label.destination),
        "merchant": clip(label.merchant) if label.merchant else None,
        "shown": shown,
        "more": more,
        "lang": language,
        "dir": "rtl" if language == "ar" else "ltr",
        "bilingual": language != "en",
        "t": t,
        "en": words("en"),
        "qr": Markup(qr_svg(label.booking.tracking_number)),  # noqa: S704 - segno's SVG of a string: paths only
        "carrier": label.booking.service.replace(" ", "\u00a0"),  # a carrier's name is not broken across lines
        "use_by": format_date(last_day.date(), format="long", locale=locale),
        "use_by_iso": last_day.date().isoformat(),
        # A courier pickup: the day with its weekday in the customer's language, and for the courier the ISO day
        # and window in Latin script.
        "pickup_day": format_date(pickup.day, "EEEE\u060c d MMMM" if language == "ar" else "EEEE d MMMM",
                                  locale=locale) if pickup else None,
        "pickup_window": t(f"label.window.{pickup.window.value}") if pickup else None,
        "pickup_iso": f"{pickup.day.isoformat()} {pickup.window.value}" if pickup else None,
    })


def render_return_label(label: ReturnLabel) -> bytes:
    """The label as PDF bytes (one A6 page)."""
    from weasyprint import HTML  # Pango is loaded here, not when the web package is imported
    from weasyprint.urls import URLFetcher

    # The label is self-contained (styles inline, the QR code inline SVG, system fonts): nothing is ever fetched,
    # neither a file nor a URL, whatever the text says.
    nothing = URLFetcher(allowed_protocols=())
    pdf: bytes = HTML(string=return_label_html(label), url_fetcher=nothing).write_pdf()
    return pdf

