"""Draws a return label (dawra.web.return_label.LabelText) on one A6 page with fpdf2.

Pure wheels only, nothing from the system: fpdf2 (Python), HarfBuzz through uharfbuzz (shaping: Arabic letters
joined, marks placed), fpdf2's own Unicode bidirectional algorithm (right to left, digits and Latin words inside
Arabic in their order), and the Noto fonts in dawra/web/fonts (Noto Sans for Latin, Noto Sans Arabic; each falls
back to the other glyph by glyph, so a line may mix both scripts). The identifiers the carrier reads (tracking
number, references, the destination's code) are in Courier, one of PDF's standard fonts (ASCII only, never
embedded).

The layout is the one the HTML label had: the carrier's box (kind, service, tracking number, QR code, references),
the destination, the sender, then the customer's part (what is inside, the last day, what to do). Every line that
must stay one line is cut with an ellipsis to its width; the instructions wrap. Automatic page breaks stay on, so
text that did not fit would open a second page, which the tests look for, instead of running off the sheet."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from dawra.web.return_label import Direction, LabelParty, LabelText, direction_of

FONTS = Path(__file__).resolve().parent / "fonts"
PAGE_MM = (105.0, 148.0)  # A6 portrait
MARGIN = 5.0
WIDTH = PAGE_MM[0] - 2 * MARGIN
PAD = 2.5  # inside the boxes
RULE = 0.6  # the boxes' lines
QR_MM = 24.0
QR_QUIET = 4  # modules of white around the code
MONO = "courier"
PT = 25.4 / 72  # one point in millimetres
LEADING = 1.32  # line height / font size: room for the dots below an Arabic letter and the marks above it


def _document(title: str, page_mm: tuple[float, float] = PAGE_MM, margin: float = MARGIN, *,
              break_pages: bool = True) -> FPDF:
    """A page of `page_mm` with the Noto fonts (Arabic falling back); the invoice draws on it too (A4, its rows
    breaking pages themselves: `break_pages=False`)."""
    pdf = FPDF(unit="mm", format=page_mm)
    pdf.set_margins(margin, margin, margin)
    if break_pages:
        pdf.set_auto_page_break(True, margin=margin)
    else:
        pdf.set_auto_page_break(False)
    pdf.c_margin = 0
    pdf.set_creator("Dawra")
    pdf.set_title(title)
    for family, name in (("sans", "NotoSans"), ("arabic", "NotoSansArabic")):
        pdf.add_font(family, "", str(FONTS / f"{name}-Regular.ttf"))
        pdf.add_font(family, "B", str(FONTS / f"{name}-Bold.ttf"))
    pdf.set_fallback_fonts(["sans", "arabic"], exact_match=False)
    pdf.add_page()
    return pdf


class _Page:
    """A cursor over one fpdf2 page: one-line text cut to a width, wrapped paragraphs, in either direction."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf

    def font(self, text: str, size: float, bold: bool = False, mono: bool = False) -> None:
        family = MONO if mono else "arabic" if direction_of(text) == "rtl" else "sans"
        self.pdf.set_font(family, "B" if bold else "", size)

    def fit(self, text: str, width: float) -> str:
        """`text`, or its longest beginning that fits `width` with an ellipsis."""
        if self.pdf.get_string_width(text) <= width:
            return text
        low, high = 0, len(text)
        while low < high:  # the longest prefix that fits with "…"
            middle = (low + high + 1) // 2
            if self.pdf.get_string_width(text[:middle].rstrip() + "…") <= width:
                low = middle
            else:
                high = middle - 1
        return text[:low].rstrip() + "…"

    def line(self, text: str, size: float, x: float, width: float, *, bold: bool = False, mono: bool = False,
             direction: Direction | None = None, align: str | None = None) -> float:
        """One line of text at the cursor's height, cut to `width`, in its own direction (by its first strong
        character, as HTML's dir="auto") unless told; aligned at that direction's start unless told. Returns the
        line's height."""
        paragraph = direction or direction_of(text)
        self.font(text, size, bold, mono)
        self.pdf.set_text_shaping(use_shaping_engine=not mono, direction=paragraph)
        height = size * PT * LEADING
        self.pdf.set_x(x)
        self.pdf.cell(width, height, self.fit(text, width), align=align or ("R" if paragraph == "rtl" else "L"),
                      new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return height

    def paragraph(self, text: str, size: float, x: float, width: float, direction: Direction, *,
                  bold: bool = False) -> None:
        self.font(text, size, bold)
        self.pdf.set_text_shaping(use_shaping_engine=True, direction=direction)
        self.pdf.set_x(x)
        self.pdf.multi_cell(width, size * PT * LEADING, text, align="R" if direction == "rtl" else "L",
                            new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def space(self, mm: float) -> None:
        self.pdf.set_y(self.pdf.get_y() + mm)


def draw(text: LabelText, qr: Sequence[Sequence[bool]]) -> bytes:
    """The label as PDF bytes."""
    pdf = _document(text.title)
    page = _Page(pdf)
    _carrier_box(page, text, qr)
    _party(page, text.to_heading, text.destination, "ltr", code=text.destination_code, merchant=text.merchant,
           name_size=10.5)
    _party(page, text.from_heading, text.sender, text.direction)
    _customer(page, text)
    return bytes(pdf.output())


def _carrier_box(page: _Page, text: LabelText, qr: Sequence[Sequence[bool]]) -> None:
    pdf = page.pdf
    top = pdf.get_y()
    inner = MARGIN + PAD
    left_width = WIDTH - 2 * PAD - QR_MM - 2
    pdf.set_y(top + PAD)
    page.line(text.kind, 16, inner, left_width, bold=True, direction="ltr")
    page.space(0.5)
    page.line(text.service, 9, inner, left_width, direction="ltr")
    page.space(0.5)
    page.line(text.tracking_heading, 6.5, inner, left_width, direction="ltr")
    page.line(text.tracking_number, 14, inner, left_width, bold=True, mono=True, direction="ltr")
    _qr(pdf, qr, MARGIN + WIDTH - PAD - QR_MM, top + PAD)
    pdf.set_y(max(pdf.get_y(), top + PAD + QR_MM) + 1)
    _refs(page, text.refs, inner, WIDTH - 2 * PAD)
    bottom = pdf.get_y() + PAD - 1
    pdf.set_line_width(RULE)
    pdf.rect(MARGIN + RULE / 2, top + RULE / 2, WIDTH - RULE, bottom - top - RULE / 2)
    pdf.set_y(bottom)


def _refs(page: _Page, refs: Sequence[tuple[str, str]], x: float, width: float) -> None:
    """Name and value pairs in a row, wrapping to a new row when the next pair would not fit."""
    pdf = page.pdf
    size, gap = 7.0, 4.0
    height = size * PT * LEADING
    row_x = x
    for name, value in refs:
        page.font(name, size, bold=True)
        pdf.set_text_shaping(use_shaping_engine=True, direction="ltr")
        name_width = pdf.get_string_width(name + " ")
        pdf.set_font(MONO, "", size)
        value_width = pdf.get_string_width(value)
        if row_x > x and row_x + name_width + value_width > x + width:
            pdf.set_y(pdf.get_y() + height)
            row_x = x
        y = pdf.get_y()
        pdf.set_xy(row_x, y)
        page.font(name, size, bold=True)
        pdf.cell(name_width, height, name + " ")
        pdf.set_font(MONO, "", size)
        pdf.set_text_shaping(use_shaping_engine=False)
        pdf.cell(min(value_width, x + width - row_x - name_width), height, value)
        pdf.set_xy(x, y)
        row_x += name_width + value_width + gap
    pdf.set_y(pdf.get_y() + height)


def _qr(pdf: FPDF, modules: Sequence[Sequence[bool]], x: float, y: float, size: float = QR_MM) -> None:
    """The QR code as filled squares, `size` mm on a side, one rectangle per horizontal run of dark modules, with
    its quiet zone (the invoice draws it too, larger)."""
    count = len(modules) + 2 * QR_QUIET
    module = size / count
    pdf.set_fill_color(0)
    for row, bits in enumerate(modules):
        col = 0
        while col < len(bits):
            if not bits[col]:
                col += 1
                continue
            start = col
            while col < len(bits) and bits[col]:
                col += 1
            pdf.rect(x + (start + QR_QUIET) * module, y + (row + QR_QUIET) * module, (col - start) * module, module,
                     style="F")


def _party(page: _Page, heading: str, party: LabelParty, direction: Direction, *, code: str | None = None,
           merchant: str | None = None, name_size: float = 8.5) -> None:
    """A destination or a sender: its heading (with the destination's sorting code at the end), then its lines,
    each in its own direction, boxed on three sides under the box above."""
    pdf = page.pdf
    top = pdf.get_y()
    inner, width = MARGIN + PAD, WIDTH - 2 * PAD
    pdf.set_y(top + 1.5)
    heading_width = width
    if code:
        page.font(code, 9, bold=True, mono=True)
        code_width = pdf.get_string_width(code) + 2
        code_x = inner if direction == "rtl" else inner + width - code_width
        y = pdf.get_y()
        page.line(code, 9, code_x, code_width, bold=True, mono=True, align="L" if direction == "rtl" else "R")
        pdf.set_y(y)
        heading_width = width - code_width
        heading_x = inner + code_width if direction == "rtl" else inner
    else:
        heading_x = inner
    page.line(heading, 7, heading_x, heading_width, bold=True, direction=direction)
    page.space(0.3)
    side = "R" if direction == "rtl" else "L"  # each line in its own direction, all on the section's side
    if merchant:
        page.line(merchant, 7.5, inner, width, align=side)
    page.line(party.name, name_size, inner, width, bold=True, align=side)
    for line in party.lines:
        page.line(line, 7.5, inner, width, align=side)
    if party.phone:
        page.line(party.phone, 7.5, inner, width, mono=True, direction="ltr", align=side)
    bottom = pdf.get_y() + 1.5
    pdf.set_line_width(RULE)
    half = RULE / 2
    pdf.line(MARGIN + half, top, MARGIN + half, bottom)
    pdf.line(MARGIN + WIDTH - half, top, MARGIN + WIDTH - half, bottom)
    pdf.line(MARGIN + half, bottom - half, MARGIN + WIDTH - half, bottom - half)
    pdf.set_y(bottom)


def _customer(page: _Page, text: LabelText) -> None:
    """The customer's part, in their language and direction: what is inside (title at the start, quantity at the
    end of each line), the last day, what to do."""
    pdf = page.pdf
    rtl = text.direction == "rtl"
    page.space(2)
    page.line(text.inside_heading, 8, MARGIN, WIDTH, bold=True, direction=text.direction)
    for title, quantity in text.items:
        y = pdf.get_y()
        page.font(quantity, 7.5, bold=True)
        pdf.set_text_shaping(use_shaping_engine=True, direction=text.direction)
        quantity_width = pdf.get_string_width(quantity) + 1
        title_width = WIDTH - quantity_width - 2
        page.line(title, 7.5, MARGIN + (quantity_width + 2 if rtl else 0), title_width, direction=text.direction)
        pdf.set_y(y)
        height = page.line(quantity, 7.5, MARGIN if rtl else MARGIN + WIDTH - quantity_width, quantity_width,
                           bold=True, direction=text.direction, align="L" if rtl else "R")
        pdf.set_draw_color(153)
        pdf.set_line_width(0.2)
        pdf.line(MARGIN, y + height + 0.2, MARGIN + WIDTH, y + height + 0.2)
        pdf.set_draw_color(0)
        page.space(0.6)
    if text.more:
        page.line(text.more, 7.5, MARGIN, WIDTH, direction=text.direction)
    page.space(1.5)
    page.paragraph(text.use_by, 7.5, MARGIN, WIDTH, text.direction, bold=True)
    page.space(1)
    page.paragraph(text.steps, 7.5, MARGIN, WIDTH, text.direction)
