"""Stock feeds: an ERP's or a 3PL's stock per sku x location, absolute ("on hand is now N") or delta ("+N", "-N"),
as CSV or JSON, read row by row into what each row asks and, for each bad row, its line, field and why.

A feed is one mode: every row sets on hand (`on_hand`) or every row moves it (`delta`); a row that gives the other
(or both) is refused as mixed. A row is decided alone against its stock item as read (`decide`): on hand becomes N
(absolute) or moves by N (delta), available moves with it, reserved never changes, and a row that would leave on
hand below the units reserved for orders is refused, never applied. Pure: no I/O."""

from __future__ import annotations

import csv
import enum
import hashlib
import io
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.errors import DomainError
from dawra.domain.inventory import CounterChange, StockLevel, empty_level, is_low

MAX_ROWS = 2000  # a bigger feed is split by its sender (the report of each must stay readable and storable)
MAX_FEED_BYTES = 512 * 1024
MAX_NAME = 64  # a sku's or location id's length
FEED_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:#/@+=-]{0,199}$")
_INTEGER = re.compile(r"^[+-]?[0-9]{1,9}$")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-"})  # a minus sign typed or exported as such


class FeedMode(enum.StrEnum):
    ABSOLUTE = "absolute"  # on hand is now N
    DELTA = "delta"  # on hand moves by N (+N received, -N gone)


class FeedFormat(enum.StrEnum):
    CSV = "csv"
    JSON = "json"


class FeedInvalid(DomainError):
    """The feed as a whole cannot be read (no rows, no header, too big, not JSON): nothing of it is applied."""


class FeedIdReused(DomainError):
    """The feed id was imported before with other content."""


class FeedNotFound(DomainError):
    pass


class FeedRow(BaseModel):
    """One good row: what it asks of one stock item."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    line: int  # the CSV line (1 is the header) or the JSON row's position (1 is the first)
    sku: str
    location_id: str
    mode: FeedMode
    quantity: int  # absolute: the new on hand (>= 0); delta: the signed change


class RowOutcome(enum.StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"  # already as asked (absolute), or a delta of 0
    REFUSED = "refused"  # invalid, unknown, a repeated stock item, or it would break reservations


class RowResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    line: int
    outcome: RowOutcome
    sku: str | None = None
    location_id: str | None = None
    field: str | None = None  # the field at fault, when refused
    message: str | None = None
    on_hand_before: int | None = None
    on_hand_after: int | None = None


class FeedReport(BaseModel):
    """What a feed did, row by row (kept once every row is through; a replay of the feed answers it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    feed_id: str
    ref: str  # feed_ref(feed_id): what links and the store name the feed by
    digest: str  # of the content: the same id with other content is refused
    source: str  # "api" (an upload) or "s3" (the feeds bucket)
    file_name: str
    format: FeedFormat
    mode: FeedMode | None  # None: no good row said
    received_at: str
    imported_by: str
    rows: list[RowResult] = Field(default_factory=list)  # by line
    duplicate: bool = False  # a replay: this is the first import's report, nothing was applied again

    def count(self, outcome: RowOutcome | str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def refused(self) -> list[RowResult]:
        return [row for row in self.rows if row.outcome == RowOutcome.REFUSED]


def feed_ref(feed_id: str) -> str:
    return hashlib.sha256(feed_id.encode()).hexdigest()[:32]


def content_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def format_of(file_name: str) -> FeedFormat | None:
    lowered = file_name.lower()
    if lowered.endswith(".json"):
        return FeedFormat.JSON
    if lowered.endswith((".csv", ".txt")):
        return FeedFormat.CSV
    return None


# --- reading ----------------------------------------------------------------------------------------------------

SKU_COLUMNS = ("sku",)
LOCATION_COLUMNS = ("location_id", "location")
MODE_COLUMNS = {FeedMode.ABSOLUTE: "on_hand", FeedMode.DELTA: "delta"}


def read_feed(text: str, fmt: FeedFormat) -> tuple[list[FeedRow], list[RowResult]]:
    """The feed's good rows and, for each bad one, a refused result saying its line, field and why. The feed's mode
    is its first good row's; a row of the other mode is refused as mixed. A stock item named twice is refused at
    its second row (the order rows would apply in is not the feed's to decide)."""
    if len(text.encode()) > MAX_FEED_BYTES:
        raise FeedInvalid(f"the feed is larger than {MAX_FEED_BYTES // 1024} KB: split it", field="file")
    raw = _csv_rows(text) if fmt == FeedFormat.CSV else _json_rows(text)
    if not raw:
        raise FeedInvalid("the feed has no rows", field="file")
    if len(raw) > MAX_ROWS:
        raise FeedInvalid(f"the feed has more than {MAX_ROWS} rows: split it", field="file")
    rows: list[FeedRow] = []
    refused: list[RowResult] = []
    mode: tuple[FeedMode, int] | None = None  # the feed's mode and the line that set it
    seen: dict[tuple[str, str], int] = {}
    for line, cells in raw:
        try:
            row = _row(line, cells)
            if mode is None:
                mode = (row.mode, line)
            elif row.mode != mode[0]:
                raise _Bad(MODE_COLUMNS[row.mode], f"mixed modes: this feed is {mode[0].value} (line {mode[1]}), "
                                                   f"this row is {row.mode.value}", row.sku, row.location_id)
            first = seen.setdefault((row.sku, row.location_id), line)
            if first != line:
                raise _Bad("sku", f"{row.sku} at {row.location_id} is already in this feed (line {first})", row.sku,
                           row.location_id)
            rows.append(row)
        except _Bad as bad:
            refused.append(RowResult(line=line, outcome=RowOutcome.REFUSED, sku=bad.sku, location_id=bad.location_id,
                                     field=bad.field, message=bad.message))
    return rows, refused


class _Bad(Exception):
    def __init__(self, field: str, message: str, sku: str | None = None, location_id: str | None = None):
        super().__init__(message)
        self.field, self.message, self.sku, self.location_id = field, message, sku, location_id


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise FeedInvalid("the feed is empty", field="file") from None
    except csv.Error as error:
        raise FeedInvalid(f"the header cannot be read: {error}", field="file") from None
    names = [cell.strip().lower().replace(" ", "_") for cell in header]
    if "sku" not in names or not set(LOCATION_COLUMNS) & set(names) or not set(MODE_COLUMNS.values()) & set(names):
        raise FeedInvalid("the header needs sku, location_id and on_hand (absolute) or delta", field="file")
    found: list[tuple[int, dict[str, Any]]] = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(found) >= MAX_ROWS:
                raise FeedInvalid(f"the feed has more than {MAX_ROWS} rows: split it", field="file")
            found.append((reader.line_num, {name: cell for name, cell in zip(names, record, strict=False)
                                            if cell.strip()}))
    except csv.Error as error:
        raise FeedInvalid(f"line {reader.line_num} cannot be read: {error}", field="file") from None
    return found


def _json_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    """A list of rows, or {"rows": [...]} (other members, such as the sender's own feed id, are ignored)."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise FeedInvalid(f"the feed is not JSON: {error}", field="file") from None
    return rows_of(document)


def rows_of(document: Any) -> list[tuple[int, dict[str, Any]]]:
    rows = document.get("rows") if isinstance(document, dict) else document
    if not isinstance(rows, list):
        raise FeedInvalid('a JSON feed is a list of rows or {"rows": [...]}', field="file")
    if len(rows) > MAX_ROWS:
        raise FeedInvalid(f"the feed has more than {MAX_ROWS} rows: split it", field="file")
    return [(position, row if isinstance(row, dict) else {"": row}) for position, row in enumerate(rows, start=1)]


def _row(line: int, cells: dict[str, Any]) -> FeedRow:
    if "" in cells:
        raise _Bad("row", "a row is an object with sku, location_id and on_hand or delta")
    sku = _name(cells, SKU_COLUMNS, "sku", None, None)
    location = _name(cells, LOCATION_COLUMNS, "location_id", sku, None)
    given = [mode for mode, column in MODE_COLUMNS.items() if cells.get(column) not in (None, "")]
    if not given:
        raise _Bad("on_hand", "give on_hand (absolute) or delta", sku, location)
    if len(given) > 1:
        raise _Bad("delta", "mixed modes: give on_hand or delta, not both", sku, location)
    mode = given[0]
    column = MODE_COLUMNS[mode]
    quantity = _integer(cells[column], column, sku, location)
    if mode == FeedMode.ABSOLUTE and quantity < 0:
        raise _Bad(column, f"on hand cannot be negative ({quantity})", sku, location)
    return FeedRow(line=line, sku=sku, location_id=location, mode=mode, quantity=quantity)


def _name(cells: dict[str, Any], columns: tuple[str, ...], field: str, sku: str | None,
          location: str | None) -> str:
    value = next((cells[c] for c in columns if cells.get(c) not in (None, "")), None)
    if value is None:
        raise _Bad(field, f"{field} is missing", sku, location)
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text or len(text) > MAX_NAME or any(ord(ch) < 32 for ch in text):
        raise _Bad(field, f"{field} must be 1 to {MAX_NAME} printable characters", sku, location)
    return text


def _integer(value: Any, field: str, sku: str, location: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _Bad(field, f"{field} is not an integer: {json.dumps(value)[:20]}", sku, location)
    if isinstance(value, int):
        if abs(value) > 999_999_999:
            raise _Bad(field, f"{field} is out of range", sku, location)
        return value
    text = value.strip().translate(_MINUS_SIGNS)
    if not _INTEGER.match(text):
        raise _Bad(field, f"{field} is not an integer: {value.strip()[:20]!r}", sku, location)
    return int(text)


# --- deciding a row ---------------------------------------------------------------------------------------------


class RowRefused(DomainError):
    """This row cannot be applied to its stock item as it is (the message says why)."""


def decide(level: StockLevel | None, row: FeedRow) -> CounterChange | None:
    """The row's change to its stock item, or None when it is already as asked. Reserved units are never touched:
    on hand may not go below them (available below zero)."""
    current = level or empty_level(row.sku, row.location_id)
    target = row.quantity if row.mode == FeedMode.ABSOLUTE else current.on_hand + row.quantity
    delta = target - current.on_hand
    if delta == 0:
        return None
    if target < current.reserved or current.available + delta < 0:
        field = MODE_COLUMNS[row.mode]
        if current.reserved:
            raise RowRefused(f"on hand {target} would leave fewer than the {current.reserved} reserved units "
                             f"(on hand is {current.on_hand})", field=field)
        raise RowRefused(f"on hand cannot go below zero (it is {current.on_hand}, the delta is {row.quantity})",
                         field=field)
    after = current.model_copy(update={"on_hand": target, "available": current.available + delta})
    return CounterChange(before=level, after=after.model_copy(update={"low": is_low(after)}))
