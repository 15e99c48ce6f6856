"""Draws a tax invoice or credit note (dawra.web.invoice_view.InvoiceText) on A4 pages with fpdf2.

The same tools as the return label (dawra/web/label_pdf.py, decision 78): fpdf2 in pure Python, HarfBuzz (uharfbuzz)
shaping the Arabic, fpdf2's bidirectional algorithm ordering it, the Noto fonts bundled in dawra/web/fonts; nothing
from the system, so Lambda's Python runtime draws it exactly as here. An Arabic document is laid out right to left
(the seller at the right, the first column of the table at the right, figures at each column's end); an English
one left to right. The QR code (Saudi Arabia) is drawn as vector squares from segno's matrix. Rows that do not fit
continue on a new page under the table's headings again."""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF

from dawra.web.invoice_view import InvoiceText
from dawra.web.label_pdf import LEADING, PT, _document, _Page, _qr

PAGE_MM = (210.0, 297.0)  # A4 portrait
MARGIN = 15.0
WIDTH = PAGE_MM[0] - 2 * MARGIN
QR_MM = 32.0
# The table's columns (item, qty, unit price, net, rate, VAT, total) in millimetres, in reading order.
COLUMN_MM = (62.0, 12.0, 22.0, 22.0, 16.0, 20.0, 26.0)
ROW_PT = 8.5
GREY = 235


class _Sheet:
    """Positions given from the reading start (left in English, right in Arabic), turned into page coordinates."""

    def __init__(self, pdf: FPDF, text: InvoiceText) -> None:
        self.pdf, self.page, self.text = pdf, _Page(pdf), text
        self.rtl = text.is_rtl
        self.start_align, self.end_align = ("R", "L") if self.rtl else ("L", "R")

    def x(self, offset: float, width: float) -> float:
        return MARGIN + WIDTH - offset - width if self.rtl else MARGIN + offset

    def say(self, text: str, size: float, offset: float, width: float, *, bold: bool = False,
            align: str | None = None) -> float:
        """One line, in its own direction (by its first strong character), at the reading start unless told."""
        return self.page.line(text, size, self.x(offset, width), width, bold=bold, align=align or self.start_align)


def draw(text: InvoiceText, qr: Sequence[Sequence[bool]]) -> bytes:
    """The document as PDF bytes."""
    # Rows break pages themselves (headings again); nothing else runs that long.
    pdf = _document(f"{text.title} {text.number}", PAGE_MM, MARGIN, break_pages=False)
    sheet = _Sheet(pdf, text)
    top = pdf.get_y()
    block = WIDTH - QR_MM - 6 if qr else WIDTH
    sheet.say(text.title, 18, 0, block, bold=True)
    pdf.set_y(pdf.get_y() + 1)
    for label, value in text.facts:
        _fact(sheet, label, value, block)
    if qr:  # at the reading end of the heading
        _qr(pdf, qr, MARGIN if sheet.rtl else MARGIN + WIDTH - QR_MM, top, QR_MM)
        pdf.set_y(max(pdf.get_y(), top + QR_MM + 1))
    pdf.set_y(pdf.get_y() + 4)
    _parties(sheet)
    pdf.set_y(pdf.get_y() + 5)
    _table(sheet)
    pdf.set_y(pdf.get_y() + 3)
    _totals(sheet)
    pdf.set_y(pdf.get_y() + 6)
    sheet.say(text.currency_note, 8, 0, WIDTH)
    if qr:
        sheet.say(text.qr_caption, 8, 0, WIDTH)
    return bytes(pdf.output())


def _fact(sheet: _Sheet, label: str, value: str, width: float) -> None:
    pdf = sheet.pdf
    y = pdf.get_y()
    label_width = 42.0
    sheet.say(label, 9, 0, label_width, bold=True)
    pdf.set_y(y)
    sheet.say(value, 9, label_width, width - label_width)


def _parties(sheet: _Sheet) -> None:
    """The seller at the reading start, the buyer beside it, each under its heading."""
    pdf, text = sheet.pdf, sheet.text
    top = pdf.get_y()
    half = (WIDTH - 8) / 2
    bottoms = []
    for offset, heading, lines in ((0.0, text.seller_heading, text.seller), (half + 8, text.buyer_heading,
                                                                             text.buyer)):
        pdf.set_y(top)
        sheet.say(heading, 8, offset, half, bold=True)
        pdf.set_draw_color(160)
        pdf.set_line_width(0.2)
        pdf.line(sheet.x(offset, half), pdf.get_y(), sheet.x(offset, half) + half, pdf.get_y())
        pdf.set_draw_color(0)
        pdf.set_y(pdf.get_y() + 0.8)
        for index, line in enumerate(lines):
            sheet.say(line, 10 if index == 0 else 9, offset, half, bold=index == 0, align=sheet.start_align)
        bottoms.append(pdf.get_y())
    pdf.set_y(max(bottoms))


def _row(sheet: _Sheet, cells: Sequence[str], *, bold: bool = False, fill: bool = False) -> None:
    pdf = sheet.pdf
    height = ROW_PT * PT * LEADING + 1.2
    y = pdf.get_y()
    if fill:
        pdf.set_fill_color(GREY)
        pdf.rect(MARGIN, y, WIDTH, height, style="F")
    offset = 0.0
    for index, (cell, width) in enumerate(zip(cells, COLUMN_MM, strict=True)):
        pdf.set_y(y + 0.6)
        inner = width - 2.0
        align = sheet.start_align if index == 0 else "C" if index in (1, 4) else sheet.end_align
        sheet.say(cell, ROW_PT, offset + 1.0, inner, bold=bold, align=align)
        offset += width
    pdf.set_draw_color(190)
    pdf.set_line_width(0.2)
    pdf.line(MARGIN, y + height, MARGIN + WIDTH, y + height)
    pdf.set_draw_color(0)
    pdf.set_y(y + height)


def _table(sheet: _Sheet) -> None:
    pdf, text = sheet.pdf, sheet.text
    _row(sheet, text.columns, bold=True, fill=True)
    for cells in text.rows:
        if pdf.get_y() > PAGE_MM[1] - MARGIN - 40:  # room for the totals below the last row
            pdf.add_page()
            _row(sheet, text.columns, bold=True, fill=True)
        _row(sheet, cells)


def _totals(sheet: _Sheet) -> None:
    """The three totals at the reading end, the last one (with VAT) in bold."""
    pdf, text = sheet.pdf, sheet.text
    width = 95.0
    offset = WIDTH - width
    for index, (label, amount) in enumerate(text.totals):
        last = index == len(text.totals) - 1
        y = pdf.get_y()
        if last:
            pdf.set_fill_color(GREY)
            pdf.rect(sheet.x(offset, width), y, width, 10 * PT * LEADING + 1, style="F")
            pdf.set_y(y + 0.5)
        sheet.say(label, 10 if last else 9, offset + 1, 60, bold=last)
        pdf.set_y(y + (0.5 if last else 0))
        sheet.say(amount, 10 if last else 9, offset + 61, width - 62, bold=last, align=sheet.end_align)
        pdf.set_y(pdf.get_y() + (0.5 if last else 0.3))
