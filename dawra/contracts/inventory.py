"""What crosses the admin API for stock feeds and replenishment (dawra.domain.stock_feeds, dawra.domain.replenishment)."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from dawra.domain.customer import NO_CONTROL
from dawra.domain.stock_feeds import MAX_ROWS, FeedFormat, FeedReport, RowOutcome

FEED_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:#/@+=-]{0,199}$"
MAX_UPLOAD = 60 * 1024  # within the admin API's and the console's 64 KB bodies; bigger feeds go to the feeds bucket


class StockFeedUpload(BaseModel):
    """A stock feed: CSV text (`content`, a header with sku, location_id and on_hand or delta), JSON text
    (`content` with `format: json`: a list of rows or {"rows": [...]}) or the JSON rows themselves (`rows`).
    Absolute rows give `on_hand` (the count now), delta rows `delta` (+N received, -N gone); one mode per feed.
    `feed_id` is the sender's own id for this feed: sending it again answers the first import's report."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    feed_id: Annotated[str, StringConstraints(pattern=FEED_ID_PATTERN)]
    file_name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_CONTROL)] = "feed"
    format: FeedFormat = FeedFormat.CSV
    content: Annotated[str, StringConstraints(min_length=1, max_length=MAX_UPLOAD)] | None = None
    rows: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_ROWS)] | None = None

    @model_validator(mode="after")
    def _one_body(self) -> StockFeedUpload:
        if (self.content is None) == (self.rows is None):
            raise ValueError("give the feed as content (CSV or JSON text) or as rows, one of them")
        return self

    def text(self) -> tuple[FeedFormat, str]:
        if self.rows is not None:
            return FeedFormat.JSON, json.dumps({"rows": self.rows}, sort_keys=True, separators=(",", ":"))
        return self.format, self.content or ""


class StockFeedReportView(FeedReport):
    """A feed's report. `duplicate`: the feed id was imported before; this is its first report, nothing was applied
    now. Each row: its line (CSV: the file's line, 1 being the header; JSON: the row's position from 1; 0: the file
    itself), what happened (applied, unchanged, refused), and for a refused row the field at fault and why."""

    counts: dict[str, int] = Field(description="Rows per outcome: applied, unchanged, refused")


def feed_view(report: FeedReport) -> StockFeedReportView:
    return StockFeedReportView.model_validate({**report.model_dump(), "counts": {
        outcome.value: report.count(outcome) for outcome in RowOutcome}})


class StockFeedList(BaseModel):
    model_config = ConfigDict(defer_build=True)

    feeds: list[StockFeedReportView] = Field(description="The latest feeds, newest first")


class CreatedObject(BaseModel):
    """An object created in a bucket, as an S3 event notification names it (its key URL-decoded)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    bucket: str
    key: str
    etag: str
    size: int = 0


def objects_created(body: str) -> list[CreatedObject]:
    """The objects an S3 event notification (an SQS message's body) says were created; none for S3's test event
    (sent once when the notification is configured) or any other event."""
    message = json.loads(body)
    found: list[CreatedObject] = []
    for record in message.get("Records", []) if isinstance(message, dict) else []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record["s3"]
        found.append(CreatedObject(bucket=s3["bucket"]["name"], key=unquote_plus(s3["object"]["key"]),
                                   etag=str(s3["object"].get("eTag", "")).strip('"'),
                                   size=int(s3["object"].get("size", 0))))
    return found
