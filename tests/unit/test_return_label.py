"""Return parcels: the sandbox carrier's return booking (deterministic, idempotent, tracked through the same webhook)
and the printable return label (one A6 PDF page; the customer's text escaped; Arabic right to left; a QR code that
encodes the tracking number)."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

import pytest
import segno

from dawra.adapters.carriers.sandbox import RETURN_LABEL_VALID_DAYS, SandboxCarrier, return_tracking_number
from dawra.domain.customer import Address
from dawra.domain.tracking import TrackingStatus
from dawra.local.seed import LOCATIONS
from dawra.web.return_label import (
    MAX_LINES_SHOWN,
    LabelLine,
    ReturnLabel,
    destination_of,
    label_lines,
    party_of,
    qr_svg,
    render_return_label,
    return_label_html,
    words,
)

RETURN_ID = "ret_0123456789abcdef0123"
ORDER_ID = "ord_7f3a9c2e41"
MONDAY_MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SARA = Address(name="Sara Al-Otaibi", line1="12 Olaya St", city="Riyadh", postal_code="12211", country="SA",
               phone="+966501234567")
SARA_AR = Address(name="سارة العتيبي", line1="١٢ شارع العليا", city="الرياض", postal_code="12211", country="SA",
                  phone="+966501234567")
RIYADH = next(location for location in LOCATIONS if location.location_id == "riyadh-dc")


def carrier_at(moment: datetime) -> SandboxCarrier:
    return SandboxCarrier(now=lambda: moment)


def a_label(sender: Address = SARA, language: str = "en", lines: tuple[LabelLine, ...] | None = None,
            return_id: str = RETURN_ID) -> ReturnLabel:
    booking = carrier_at(MONDAY_MORNING).book_return(return_id, sender, RIYADH.location_id, 800)
    return ReturnLabel(return_id=return_id, order_id=ORDER_ID, booking=booking, sender=party_of(sender),
                       destination=destination_of(RIYADH), destination_code=RIYADH.location_id,
                       lines=lines or (LabelLine(sku="MUG-CLASSIC", title="Classic mug", quantity=2),),
                       language=language, merchant="Dawra Test Shop")


def pdf_or_skip(label: ReturnLabel) -> bytes:
    try:
        return render_return_label(label)
    except OSError as exc:  # WeasyPrint loads Pango from the system (apt: libpango-1.0-0 libpangoft2-1.0-0)
        pytest.skip(f"WeasyPrint cannot load Pango here: {exc}")


# --- The sandbox carrier's return booking -----------------------------------------------------------------------


def test_booking_a_return_is_deterministic_and_idempotent():
    carrier = carrier_at(MONDAY_MORNING)
    first = carrier.book_return(RETURN_ID, SARA, "riyadh-dc", 800)
    assert first == carrier.book_return(RETURN_ID, SARA, "riyadh-dc", 800)
    # Another process the same day (a retried task on another Lambda) books the very same return.
    assert carrier_at(MONDAY_MORNING.replace(hour=23)).book_return(RETURN_ID, SARA, "riyadh-dc", 800) == first
    assert first.carrier == "sandbox"
    assert first.tracking_number == return_tracking_number(RETURN_ID)
    assert re.fullmatch(r"SBX[0-9A-F]{12}", first.tracking_number)
    # Valid until the end of the 14th day after the booking (UTC).
    assert RETURN_LABEL_VALID_DAYS == 14
    assert first.expires_at == "2026-12-08T00:00:00.000Z"


def test_a_repeat_booking_on_a_later_day_returns_the_first_booking():
    moments = [MONDAY_MORNING, datetime(2026, 11, 30, 9, 0, tzinfo=UTC)]
    carrier = SandboxCarrier(now=lambda: moments[0])
    first = carrier.book_return(RETURN_ID, SARA, "riyadh-dc", 800)
    moments[0] = moments[1]
    assert carrier.book_return(RETURN_ID, SARA, "riyadh-dc", 800) == first
    assert carrier.book_return("ret_ffffffffffffffffffff", SARA, "riyadh-dc", 800).expires_at == \
        "2026-12-15T00:00:00.000Z"


def test_distinct_returns_get_distinct_tracking_numbers_and_none_is_a_shipments():
    carrier = carrier_at(MONDAY_MORNING)
    ids = [f"ret_{n:020x}" for n in range(200)]
    numbers = {carrier.book_return(return_id, SARA, "riyadh-dc", 0).tracking_number for return_id in ids}
    assert len(numbers) == len(ids)
    # The same id booked outbound (as a shipment) and as a return gives two parcels, not one.
    assert carrier.book(RETURN_ID, "SA", 0).tracking_number != return_tracking_number(RETURN_ID)


def test_a_return_parcel_is_reported_through_the_same_webhook_by_its_tracking_number():
    tracking = carrier_at(MONDAY_MORNING).book_return(RETURN_ID, SARA, "riyadh-dc", 800).tracking_number
    reported = []
    for event_id, status in (("ret-1", "PICKED_UP"), ("ret-2", "IN_TRANSIT"), ("ret-3", "DELIVERED")):
        body = json.dumps({"event_id": event_id, "tracking_number": tracking, "status": status,
                           "occurred_at": "2026-11-24T08:00:00Z", "location": "Riyadh distribution centre"})
        [event] = SandboxCarrier().parse(body.encode())
        assert event.tracking_number == tracking
        reported.append(event.status)
    assert reported == [TrackingStatus.IN_TRANSIT, TrackingStatus.IN_TRANSIT, TrackingStatus.DELIVERED]


# --- The label's HTML -------------------------------------------------------------------------------------------


def test_a_name_and_address_a_customer_typed_are_text_not_markup():
    sender = SARA.model_copy(update={"name": "Sara <script>alert(1)</script>", "line1": '12 "Olaya" <b>St</b> & Co'})
    html = return_label_html(a_label(sender))
    assert "<script>" not in html and "<b>" not in html
    assert "Sara &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "12 &#34;Olaya&#34; &lt;b&gt;St&lt;/b&gt; &amp; Co" in html


def test_an_arabic_label_is_right_to_left_with_the_carriers_fields_left_to_right():
    html = return_label_html(a_label(SARA_AR, "ar", (LabelLine(sku="MUG-CLASSIC", title="كوب كلاسيكي", quantity=2),)))
    assert re.search(r'<html lang="ar" dir="rtl">', html)
    assert re.search(r'<section class="carrier" lang="en" dir="ltr">', html)
    assert "كوب كلاسيكي" in html and "محتويات الطرد" in html  # the lines and the customer's words in Arabic
    assert "سارة العتيبي" in html
    assert "7 ديسمبر 2026" in html  # the last day the label is valid, in Arabic
    assert ">2026-12-07<" in html  # and for the carrier, ISO
    assert '<bdi dir="ltr">+966501234567</bdi>' in html  # a phone number reads left to right inside Arabic
    english = return_label_html(a_label())
    assert re.search(r'<html lang="en" dir="ltr">', english)
    assert "December 7, 2026" in english and "محتويات" not in english


def test_the_order_lines_are_titled_in_the_customers_language(shop):
    order_id = shop.place({"MUG-CLASSIC": 2, "DATES-1KG": 1, "PRAYER-MAT": 1})
    order = shop.orders.get(order_id)
    lines = label_lines(order, {"MUG-CLASSIC": 1, "PRAYER-MAT": 1, "DATES-1KG": 0}, "ar")
    assert [(line.sku, line.title, line.quantity) for line in lines] == [
        ("MUG-CLASSIC", "كوب كلاسيكي", 1), ("PRAYER-MAT", "سجادة صلاة", 1)]
    assert [line.title for line in label_lines(order, {"MUG-CLASSIC": 1}, "en")] == ["Classic mug"]


def test_the_parties_are_printed_as_written_with_the_country_for_the_carrier():
    sender = party_of(SARA_AR)
    assert sender.name == "سارة العتيبي"
    assert sender.lines == ("١٢ شارع العليا", "الرياض 12211", "Saudi Arabia (SA)")
    assert sender.phone == "+966501234567"
    destination = destination_of(RIYADH)
    assert destination.name == "Riyadh distribution centre"
    assert destination.lines == ("SA-01", "Saudi Arabia (SA)")
    street = Address(name="ignored", line1="Exit 18, Industrial Area 2", city="Riyadh", country="SA")
    assert destination_of(RIYADH, street).lines == ("Exit 18, Industrial Area 2", "Riyadh", "Saudi Arabia (SA)")
    assert destination_of(RIYADH, street).name == "Riyadh distribution centre"


def qr_matrix_of_svg(svg: str) -> set[tuple[int, int]]:
    """The dark modules (column, row) drawn by segno's path: absolute M, relative m, horizontal runs h."""
    [path] = re.findall(r' d="([^"]+)"', svg)
    x = y = 0.0
    dark = set()
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            dark |= {(int(x) + i, int(y)) for i in range(int(float(a)))}
            x += float(a)
    return dark


def expected_modules(text: str, border: int = 4) -> set[tuple[int, int]]:
    matrix = segno.make(text, error="m", micro=False).matrix
    return {(col + border, row + border) for row, bits in enumerate(matrix) for col, bit in enumerate(bits) if bit}


def test_the_qr_code_on_the_label_encodes_the_tracking_number():
    label = a_label()
    html = return_label_html(label)
    [svg] = re.findall(r'<div class="qr" data-field="qr">(<svg.*?</svg>)</div>', html, flags=re.S)
    drawn = qr_matrix_of_svg(svg)
    assert drawn == expected_modules(label.booking.tracking_number)
    assert drawn != expected_modules(return_tracking_number("ret_another"))
    assert qr_matrix_of_svg(qr_svg("SBX000000000000")) == expected_modules("SBX000000000000")


def test_long_text_and_many_lines_are_cut_to_fit_and_counted():
    long = "W" * 200
    sender = SARA.model_copy(update={"name": long, "line1": long})
    lines = tuple(LabelLine(sku=f"SKU-{n}", title=f"Item {n} " + "x" * 190, quantity=n) for n in range(1, 9))
    html = return_label_html(a_label(sender, lines=lines))
    assert long not in html and "W" * 59 + "…" in html
    assert html.count('<span class="qty">') == MAX_LINES_SHOWN
    assert "Other items: 30" in html  # 4 + 5 + 6 + 7 + 8 units of the lines not shown


def test_the_labels_words_are_the_same_in_both_languages_and_cover_the_template():
    from pathlib import Path

    english, arabic = words("en"), words("ar")
    assert set(english) == set(arabic)
    template = Path(__file__).resolve().parents[2] / "dawra" / "web" / "templates" / "label" / "return_label.html"
    text = template.read_text()
    used = set(re.findall(r"""\bt\(["']([a-z0-9_.]+[a-z0-9])["']""", text))
    used |= set(re.findall(r"""\ben\[["']([a-z0-9_.]+[a-z0-9])["']\]""", text))
    assert used and used - set(english) == set()
    assert [key for key, value in arabic.items() if not re.search(r"[\u0600-\u06ff]", value)] == ["label.quantity"]


# --- The PDF ----------------------------------------------------------------------------------------------------


def test_the_label_is_one_a6_pdf_page_with_the_tracking_number_and_the_order_reference():
    from pypdf import PdfReader

    label = a_label()
    pdf = pdf_or_skip(label)
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (105, 148)  # A6, in mm
    text = reader.pages[0].extract_text()
    assert label.booking.tracking_number in text
    assert ORDER_ID in text
    assert RETURN_ID in text


def test_an_arabic_label_and_a_label_at_every_limit_still_fit_on_one_page():
    from pypdf import PdfReader

    arabic = a_label(SARA_AR, "ar", (LabelLine(sku="MUG-CLASSIC", title="كوب كلاسيكي", quantity=2),))
    long = "م" * 200
    crowded = a_label(SARA_AR.model_copy(update={"name": long, "line1": long, "line2": long, "city": long}), "ar",
                      tuple(LabelLine(sku=f"S{n}", title=long, quantity=n) for n in range(1, 12)))
    street = SARA.model_copy(update={"line1": "W" * 200, "line2": "W" * 200, "region": "W" * 100, "city": "W" * 200})
    crowded = crowded.model_copy(update={"destination": destination_of(RIYADH, street), "merchant": "M" * 200})
    for label in (arabic, crowded):
        reader = PdfReader(io.BytesIO(pdf_or_skip(label)))
        assert len(reader.pages) == 1
        assert label.booking.tracking_number in reader.pages[0].extract_text()

