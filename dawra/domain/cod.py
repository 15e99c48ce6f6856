"""Cash on delivery after the door: what the courier collected, what the courier remitted, and how a courier's
remittance file is read and judged. Pure (plain data in, decisions out); dawra/app/remittances.py does the reading
and writing.

A COD parcel's `amount` (its share of the order's total) is what is **due** at the door. The carrier's delivered
report may say what the courier **collected** (`Shipment.cod_collected`); a collected amount that is not what was
due is flagged then. Days later the courier **remits** the cash, less its fee, and sends a remittance file: one row
per parcel (tracking number, amount collected, courier fee, remittance reference, remittance date). Each row is
matched to its shipment by tracking number and judged against what that parcel should have brought in: the larger
of what was due and what the courier reported collecting at the door (a row saying less is a short payment, more an
over-payment). A parcel is remitted once: a row for a parcel already remitted by another file is reported, never
applied again."""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict

from dawra.domain.errors import DomainError
from dawra.domain.money import Money

# Digits after the decimal point in each currency the shops sell in (ISO 4217): a file's "12.50" is 1250 halalas,
# a Kuwaiti file's "12.500" is 12500 fils.
MINOR_DIGITS = {"SAR": 2, "AED": 2, "QAR": 2, "EGP": 2, "USD": 2, "KWD": 3, "BHD": 3, "OMR": 3}
MAX_FILE_BYTES = 60 * 1024  # within the admin API's and the console's 64 KB bodies: about a thousand rows
MAX_ROWS = 1000  # a courier's file per remittance; the report is kept whole in one item (DynamoDB: 400 KB)
COLUMNS = ("tracking_number", "amount_collected", "courier_fee", "remittance_reference", "remittance_date")
OPTIONAL_COLUMNS = ("currency",)
TRACKING = re.compile(r"^[A-Za-z0-9-]{4,40}$")
REFERENCE = re.compile(r"^[A-Za-z0-9._/#-]{1,64}$")
DIGEST_LENGTH = 32  # hex characters of the file's SHA-256 that name it


class RemittanceFileInvalid(DomainError):
    """The file as a whole cannot be read (no header, a column missing, too large, not text): nothing applied."""


class RemittanceNotFound(DomainError):
    pass


class CodRemittance(BaseModel):
    """What the courier remitted for one parcel, as its file said (and which file)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    reference: str
    remitted_on: str  # YYYY-MM-DD, the courier's remittance date
    collected: Money  # what the courier says it collected at the door
    fee: Money  # the courier's fee, kept back from what it collected
    remitted: Money  # collected - fee: what reached the merchant
    file_digest: str
    recorded_at: str  # UTC ISO-8601: when the row was applied


class RowOutcome(enum.StrEnum):
    EXACT = "exact"  # collected as expected; remitted less the fee
    SHORT = "short"  # the courier says it collected less than the parcel should have brought in
    OVER = "over"  # ... more
    UNKNOWN = "unknown"  # no parcel has this tracking number
    NOT_COD = "not_cod"  # the parcel's order was not paid in cash on delivery: nothing to remit
    ALREADY_REMITTED = "already_remitted"  # remitted by an earlier file: not applied again
    DUPLICATE_ROW = "duplicate_row"  # the same tracking number earlier in this file: not applied twice
    INVALID = "invalid"  # the row cannot be read (the report says which field and why)


APPLIED = frozenset({RowOutcome.EXACT, RowOutcome.SHORT, RowOutcome.OVER})  # rows that marked a parcel remitted


class RemittanceRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    line: int  # the line number in the file (the header is line 1)
    tracking_number: str
    collected: Money
    fee: Money
    reference: str
    remitted_on: date

    @property
    def remitted(self) -> Money:
        return self.collected - self.fee


class RowResult(BaseModel):
    """One row of the file and what became of it."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    line: int
    tracking_number: str
    outcome: RowOutcome
    message: str = ""  # why, for a row not applied or not exact
    order_id: str | None = None
    shipment_id: str | None = None
    due: Money | None = None  # what was due at the door
    collected_at_door: Money | None = None  # what the carrier's delivered report said, if it said
    collected: Money | None = None  # what the file says was collected
    fee: Money | None = None
    remitted: Money | None = None
    difference: int | None = None  # collected (file) - expected, in minor units: < 0 short, > 0 over
    reference: str | None = None
    remitted_on: str | None = None
    delivered: bool | None = None  # the parcel was reported delivered when its row was applied


class RemittanceReport(BaseModel):
    """A file's reconciliation: every row's outcome, counts and sums. Kept as it was first made; importing the same
    file again answers this report with `duplicate` true and applies nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    digest: str
    file_name: str
    imported_at: str
    imported_by: str  # the operator's user id
    currency: str
    rows: list[RowResult]
    duplicate: bool = False

    def count(self, outcome: RowOutcome) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {outcome.value: self.count(outcome) for outcome in RowOutcome}

    @property
    def applied(self) -> list[RowResult]:
        return [row for row in self.rows if row.outcome in APPLIED]

    def total(self, field: str) -> Money:
        amounts = [getattr(row, field) for row in self.applied if getattr(row, field) is not None]
        return Money(amount=sum(amount.amount for amount in amounts), currency=self.currency)

    @property
    def short_by(self) -> Money:
        """What the short rows lack altogether."""
        return Money(amount=-sum(row.difference or 0 for row in self.rows if row.outcome == RowOutcome.SHORT),
                     currency=self.currency)


class RowProblem(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    line: int
    tracking_number: str
    message: str


def confirmation_code(order_id: str) -> str:
    """The four digits a customer replies with to confirm a cash-on-delivery order by SMS (with their phone, it
    names the order: not a secret, and never enough alone)."""
    return f"{int(hashlib.sha256(f'cod-confirm:{order_id}'.encode()).hexdigest()[:8], 16) % 10000:04d}"


def file_digest(text: str) -> str:
    """What names a file: its content's SHA-256, with line endings, a byte order mark and trailing blank lines made
    alike (the same file saved on another system is the same file)."""
    normal = "\n".join(line.rstrip() for line in text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
                       .split("\n")).strip("\n")
    return hashlib.sha256(normal.encode()).hexdigest()[:DIGEST_LENGTH]


def to_minor(text: str, currency: str) -> int:
    """A file's amount ("12.50", "1,250.00", "12") in minor units; ValueError for anything else (negative, more
    decimals than the currency has, not a number)."""
    digits = MINOR_DIGITS.get(currency, 2)
    cleaned = text.strip().replace(",", "")
    if not re.fullmatch(rf"\d{{1,12}}(\.\d{{1,{digits}}})?", cleaned):
        raise ValueError(f"not an amount in {currency} with at most {digits} decimals")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("not an amount") from None
    return int(value.scaleb(digits))


def from_minor(amount: int, currency: str) -> str:
    digits = MINOR_DIGITS.get(currency, 2)
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    return f"{sign}{amount // 10**digits}.{amount % 10**digits:0{digits}d}"


def _column(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lstrip("\ufeff").lower())


def read_remittance_file(text: str, currency: str) -> tuple[list[RemittanceRow], list[RowProblem]]:
    """The file's good rows and, for each bad one, its line number and what is wrong with it. A bad row is never
    half-read: either every field of it is good, or it is a problem. The file itself must have the five columns
    (any order, any case; `currency` may be a sixth), at most MAX_ROWS rows and MAX_FILE_BYTES bytes."""
    if len(text.encode()) > MAX_FILE_BYTES:
        raise RemittanceFileInvalid(f"the file is larger than {MAX_FILE_BYTES // 1024} KB: split it", field="file")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise RemittanceFileInvalid("the file is empty", field="file") from None
    except csv.Error as error:
        raise RemittanceFileInvalid(f"the header cannot be read: {error}", field="file") from None
    names = [_column(name) for name in header]
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        raise RemittanceFileInvalid(f"the header lacks {', '.join(missing)} (it needs {', '.join(COLUMNS)})",
                                    field="file")
    at = {name: names.index(name) for name in (*COLUMNS, *OPTIONAL_COLUMNS) if name in names}
    rows: list[RemittanceRow] = []
    problems: list[RowProblem] = []
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) + len(problems) >= MAX_ROWS:
                raise RemittanceFileInvalid(f"the file has more than {MAX_ROWS} rows: split it", field="file")
            row, problem = _row(record, at, line, currency)
            if row is not None:
                rows.append(row)
            if problem is not None:
                problems.append(problem)
    except csv.Error as error:
        raise RemittanceFileInvalid(f"line {reader.line_num} cannot be read: {error}", field="file") from None
    return rows, problems


def _row(record: list[str], at: dict[str, int], line: int, currency: str
         ) -> tuple[RemittanceRow | None, RowProblem | None]:
    def cell(name: str) -> str:
        index = at.get(name)
        return record[index].strip() if index is not None and index < len(record) else ""

    tracking = cell("tracking_number")
    wrong: list[str] = []
    if not TRACKING.fullmatch(tracking):
        wrong.append("tracking_number: 4 to 40 letters, digits or '-'")
    if cell("currency") and cell("currency").upper() != currency:
        wrong.append(f"currency: {cell('currency')[:3]!r}, not {currency}")
    amounts: dict[str, int] = {}
    for name in ("amount_collected", "courier_fee"):
        try:
            amounts[name] = to_minor(cell(name), currency)
        except ValueError as error:
            wrong.append(f"{name}: {error}")
    if not wrong and amounts["courier_fee"] > amounts["amount_collected"]:
        wrong.append("courier_fee: more than the amount collected")
    reference = cell("remittance_reference")
    if not REFERENCE.fullmatch(reference):
        wrong.append("remittance_reference: 1 to 64 letters, digits or . _ / # -")
    try:
        remitted_on = date.fromisoformat(cell("remittance_date"))
    except ValueError:
        wrong.append("remittance_date: a date as YYYY-MM-DD")
    shown = tracking[:40]
    if wrong:
        return None, RowProblem(line=line, tracking_number=shown, message="; ".join(wrong))
    return RemittanceRow(line=line, tracking_number=tracking.upper(), reference=reference, remitted_on=remitted_on,
                         collected=Money(amount=amounts["amount_collected"], currency=currency),
                         fee=Money(amount=amounts["courier_fee"], currency=currency)), None


def expected_from(due: Money, collected_at_door: Money | None) -> Money:
    """What a parcel should bring in: what was due, or what the courier reported collecting if that was more (a
    courier that said it took more at the door owes it)."""
    if collected_at_door is not None and collected_at_door.amount > due.amount:
        return collected_at_door
    return due


def judge(row: RemittanceRow, due: Money, collected_at_door: Money | None) -> tuple[RowOutcome, int, str]:
    """(outcome, difference in minor units, why) of a row for a COD parcel not yet remitted."""
    expected = expected_from(due, collected_at_door)
    difference = row.collected.amount - expected.amount
    if difference < 0:
        return RowOutcome.SHORT, difference, f"{-difference} less than the {expected.amount} expected"
    if difference > 0:
        return RowOutcome.OVER, difference, f"{difference} more than the {expected.amount} expected"
    return RowOutcome.EXACT, 0, ""
