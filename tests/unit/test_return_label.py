"""Return parcels: the sandbox carrier's return booking (deterministic, idempotent, tracked through the same webhook)
and the printable return label (one A6 PDF page drawn by fpdf2 with bundled fonts, so these tests always run; the
customer's text printed as typed; Arabic shaped and right to left; a QR code that encodes the tracking number)."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime

import segno
from fontTools.ttLib import TTFont
from pypdf import PageObject, PdfReader

from dawra.adapters.carriers.sandbox import RETURN_LABEL_VALID_DAYS, SandboxCarrier, return_tracking_number
from dawra.domain.customer import Address
from dawra.domain.returns import PickupSlot, PickupWindow
from dawra.domain.tracking import TrackingStatus
from dawra.local.seed import LOCATIONS
from dawra.web.label_pdf import FONTS, PAGE_MM
from dawra.web.return_label import (
    MAX_LINES_SHOWN,
    LabelLine,
    ReturnLabel,
    destination_of,
    direction_of,
    label_lines,
    label_text,
    party_of,
    qr_modules,
    render_return_label,
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


def page_of(pdf: bytes) -> PageObject:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0]


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


# --- What the label says ----------------------------------------------------------------------------------------


def test_a_name_and_address_a_customer_typed_are_printed_as_typed():
    sender = SARA.model_copy(update={"name": "Sara <script>alert(1)</script>", "line1": '12 "Olaya" <b>St</b> & Co'})
    label = a_label(sender)
    assert label_text(label).sender.name == "Sara <script>alert(1)</script>"
    printed = page_of(render_return_label(label)).extract_text()
    assert "Sara <script>alert(1)</script>" in printed  # drawn as text: there is no markup to interpret
    assert '12 "Olaya" <b>St</b> & Co' in printed


def test_an_arabic_label_is_right_to_left_with_the_carriers_fields_in_english():
    text = label_text(a_label(SARA_AR, "ar", (LabelLine(sku="MUG-CLASSIC", title="كوب كلاسيكي", quantity=2),)))
    assert text.direction == "rtl"
    assert text.items == (("كوب كلاسيكي", "\u00d7 2"),) and text.inside_heading == "محتويات الطرد"
    assert text.sender.name == "سارة العتيبي" and text.sender.phone == "+966501234567"
    assert text.use_by == "استخدم هذا الملصق حتى 7 ديسمبر 2026، وبعدها يصبح غير صالح."  # the last day, in Arabic
    assert ("Valid until", "2026-12-07") in text.refs  # and for the carrier, ISO
    assert (text.kind, text.tracking_heading) == ("RETURN", "Tracking number")
    assert text.to_heading == "TO · إلى" and text.from_heading == "من · FROM"
    english = label_text(a_label())
    assert english.direction == "ltr" and english.to_heading == "TO" and english.from_heading == "FROM"
    assert english.use_by == "Use this label by December 7, 2026. After that it is no longer valid."
    assert direction_of("١٢ شارع العليا") == "rtl" and direction_of("+966 12 Olaya") == "ltr"
    assert direction_of("12211") == "ltr" and direction_of("12211", "rtl") == "rtl"  # digits alone: the default


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


def qr_drawn(pdf: bytes) -> set[tuple[int, int]]:
    """The dark modules (column, row) of the QR code as the page draws it (one filled rectangle per horizontal run
    of dark modules; the only filled rectangles on the page), from the top-left module of the finder pattern."""
    content = page_of(pdf).get_contents().get_data().decode("latin-1")
    runs = [tuple(map(float, found)) for found in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) (-[\d.]+) re f", content)]
    module = -runs[0][3]
    left, top = min(x for x, *_ in runs), max(y for _, y, *_ in runs)
    dark = set()
    for x, y, width, _ in runs:
        col, row = round((x - left) / module), round((top - y) / module)
        dark |= {(col + i, row) for i in range(round(width / module))}
    return dark


def expected_modules(text: str) -> set[tuple[int, int]]:
    matrix = segno.make(text, error="m", micro=False).matrix
    return {(col, row) for row, bits in enumerate(matrix) for col, bit in enumerate(bits) if bit}


def test_the_qr_code_on_the_label_encodes_the_tracking_number():
    label = a_label()
    drawn = qr_drawn(render_return_label(label))
    assert drawn == expected_modules(label.booking.tracking_number)
    assert drawn != expected_modules(return_tracking_number("ret_another"))
    # A full QR code (a phone or a scanner reads it; a Micro QR code many cannot): 21 modules a side for version 1.
    assert len(qr_modules(label.booking.tracking_number)) == 21 and len(qr_modules("SBX000000000000")[0]) == 21


def test_long_text_and_many_lines_are_cut_to_fit_and_counted():
    long = "W" * 200
    sender = SARA.model_copy(update={"name": long, "line1": long})
    lines = tuple(LabelLine(sku=f"SKU-{n}", title=f"Item {n} " + "x" * 190, quantity=n) for n in range(1, 9))
    text = label_text(a_label(sender, lines=lines))
    assert text.sender.name == "W" * 59 + "…" and text.sender.lines[0] == "W" * 59 + "…"
    assert len(text.items) == MAX_LINES_SHOWN and text.items[0][0].endswith("…")
    assert text.more == "Other items: 30"  # 4 + 5 + 6 + 7 + 8 units of the lines not shown
    printed = page_of(render_return_label(a_label(sender, lines=lines))).extract_text()
    assert long not in printed and "Other items: 30" in printed
    assert re.search(r"W{10,}…", printed)  # cut again to the line's width on the page


def test_the_labels_words_are_the_same_in_both_languages_and_all_used():
    from pathlib import Path

    english, arabic = words("en"), words("ar")
    assert set(english) == set(arabic)
    module = Path(__file__).resolve().parents[2] / "dawra" / "web" / "return_label.py"
    text = module.read_text()
    used = set(re.findall(r"""\bt\(["']([a-z0-9_.]+[a-z0-9])["']""", text))
    used |= set(re.findall(r"""\ben\[["']([a-z0-9_.]+[a-z0-9])["']\]""", text))
    used |= {f"label.window.{window.value}" for window in PickupWindow}
    assert used == set(english)
    assert [key for key, value in arabic.items() if not re.search(r"[\u0600-\u06ff]", value)] == ["label.quantity"]


# --- The PDF ----------------------------------------------------------------------------------------------------


def test_the_label_is_one_a6_pdf_page_with_the_tracking_number_and_the_order_reference():
    label = a_label()
    pdf = render_return_label(label)
    assert pdf.startswith(b"%PDF-")
    page = page_of(pdf)
    box = page.mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (105, 148)  # A6, in mm
    assert PAGE_MM == (105.0, 148.0)
    text = page.extract_text()
    for printed in (label.booking.tracking_number, ORDER_ID, RETURN_ID, "Sandbox Returns", "riyadh-dc",
                    "Riyadh distribution centre", "Sara Al-Otaibi", "+966501234567", "Classic mug", "\u00d7 2",
                    "2026-12-07", "Use this label by December 7, 2026."):
        assert printed in text, printed


def arabic_glyphs(pdf: bytes) -> set[str]:
    """The glyph names of the Arabic font subsets embedded in the PDF (what was drawn, after shaping)."""
    names: set[str] = set()
    fonts = page_of(pdf)["/Resources"]["/Font"]
    for font in (ref.get_object() for ref in fonts.values()):
        if "Arabic" in str(font["/BaseFont"]):
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            names |= set(TTFont(io.BytesIO(descriptor["/FontFile2"].get_data())).getGlyphOrder())
    return names


def test_arabic_is_shaped_and_right_to_left():
    pdf = render_return_label(a_label(SARA_AR, "ar", (LabelLine(sku="MUG-CLASSIC", title="كوب كلاسيكي", quantity=2),)))
    glyphs = arabic_glyphs(pdf)
    # Joined letters: kaf (U+0643) drawn in its initial and medial forms (U+FEDB, U+FEDC: "كوب", "كلاسيكي"), lam in
    # its medial form, yeh in its final form; without shaping only the isolated forms would be there.
    assert {"uniFEDB", "uniFEDC", "uniFEE0", "uniFEF2"} <= glyphs
    text = page_of(pdf).extract_text()
    assert "سارة العتيبي" in text and "كوب كلاسيكي" in text and "محتويات الطرد" in text
    # Right to left: pypdf reads the page left to right, so a right-to-left line "من · FROM" (Arabic first) reads
    # "FROM · من", and the city before its postal code reads "12211 الرياض"; the carrier's lines stay in order.
    assert "FROM · من" in text and "12211 الرياض" in text
    assert "TO · " in text and "Return ret_0123456789abcdef0123" in text
    assert "Arabic" not in str(arabic_glyphs(render_return_label(a_label())))  # English: no Arabic font drawn


def test_an_arabic_label_and_a_label_at_every_limit_still_fit_on_one_page():
    arabic = a_label(SARA_AR, "ar", (LabelLine(sku="MUG-CLASSIC", title="كوب كلاسيكي", quantity=2),))
    long = "م" * 200
    crowded = a_label(SARA_AR.model_copy(update={"name": long, "line1": long, "line2": long, "city": long}), "ar",
                      tuple(LabelLine(sku=f"S{n}", title=long, quantity=n) for n in range(1, 12)))
    street = SARA.model_copy(update={"line1": "W" * 200, "line2": "W" * 200, "region": "W" * 100, "city": "W" * 200})
    crowded = crowded.model_copy(update={"destination": destination_of(RIYADH, street), "merchant": "M" * 200})
    # A courier pickup adds a reference and longer instructions.
    pickup = SandboxCarrier(now=lambda: MONDAY_MORNING).book_return(
        RETURN_ID, SARA_AR, "riyadh-dc", 800, pickup=PickupSlot(day=date(2026, 11, 26), window=PickupWindow.MORNING))
    for label in (arabic, crowded, crowded.model_copy(update={"booking": pickup}),
                  crowded.model_copy(update={"language": "en", "booking": pickup})):
        text = page_of(render_return_label(label)).extract_text()  # one page: nothing pushed onto a second one
        assert label.booking.tracking_number in text


def test_the_fonts_are_bundled_with_their_licence():
    assert sorted(path.name for path in FONTS.glob("*.ttf")) == [
        "NotoSans-Bold.ttf", "NotoSans-Regular.ttf", "NotoSansArabic-Bold.ttf", "NotoSansArabic-Regular.ttf"]
    assert "SIL OPEN FONT LICENSE Version 1.1" in (FONTS / "OFL.txt").read_text()
