"""Stock feeds: an ERP's or a 3PL's stock levels imported, uploaded by a manager (the admin API, the console) or
dropped into the feeds bucket (an object created: its notification reaches the stock-feeds function).

Idempotent by feed id: the feed's marker is written conditionally before its first row is applied; a feed id seen
before answers its first import's report, marked `duplicate`, and applies nothing (the same id with other content is
refused). Each row is decided alone against its stock item as read (dawra.domain.stock_feeds.decide) and committed
in one transaction with its audit entry (`stock_feed`, keyed by the feed id and the row's line), over the counters it
was decided on; a row that raced a reservation is re-read and decided again, so it is never half-applied and never
breaks a reservation. A bad row is reported (line, field, why) and the good ones are applied. A first import that
died half-way is finished by the same feed again: the rows it applied find their audit entries and are reported as
applied, never applied twice."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from dawra.app.backorders import ServeWaitingOrders
from dawra.app.common import now_iso, retry_on_race
from dawra.app.replenishment import tell_low
from dawra.domain.access import Actor, Permission, authorize
from dawra.domain.audit import AuditEntry, stock_subject
from dawra.domain.inventory import counters, crossed_below, may_serve_waiters
from dawra.domain.stock_feeds import (
    FEED_ID,
    MAX_FEED_BYTES,
    FeedFormat,
    FeedIdReused,
    FeedInvalid,
    FeedNotFound,
    FeedReport,
    FeedRow,
    RowOutcome,
    RowRefused,
    RowResult,
    content_digest,
    decide,
    feed_ref,
    format_of,
    read_feed,
)
from dawra.ports import (
    AuditLog,
    Clock,
    FeedClaim,
    FeedFiles,
    InventoryRepository,
    OpsAlerts,
    StockFeeds,
    UnitOfWork,
)

WORKERS = 8  # rows applied at a time (each names its own stock item: no two rows of a feed race each other)
ACTION = "stock_feed"  # as the rows' audit entries name it
BUCKET_ACTOR = ("stock-feeds-bucket", "feeds bucket (S3)")  # who a feed dropped into the bucket is audited as
FILE_ALERT = "stock-feed"  # the "order id" a feed's alert is filed under (it is about stock, not an order)


class StockFeedImports:
    def __init__(self, inventory: InventoryRepository, feeds: StockFeeds, uow: UnitOfWork, audit: AuditLog,
                 alerts: OpsAlerts, clock: Clock, *, workers: int = WORKERS,
                 waiting: ServeWaitingOrders | None = None):
        """waiting: serves the orders waiting for a sku (backorders, preorders) when a row brings units to a stock
        item that says somebody waits (None: their workflows' timers do)."""
        self.inventory, self.feeds, self.uow, self.audit = inventory, feeds, uow, audit
        self.alerts, self.clock, self.workers, self.waiting = alerts, clock, workers, waiting

    # --- importing ------------------------------------------------------------------------------------------------
    def upload(self, actor: Actor, feed_id: str, file_name: str, fmt: FeedFormat, content: str) -> FeedReport:
        """A feed uploaded by an operator. A feed that cannot be read at all is refused (FeedInvalid), nothing
        kept: the same feed id may be sent again, corrected."""
        authorize(actor, Permission.IMPORT_STOCK_FEEDS)
        if not FEED_ID.match(feed_id):
            raise FeedInvalid("a feed id is 1 to 200 letters, digits and . _ : # / @ + = -", field="feed_id")
        return self._import(feed_id, "api", file_name, fmt, content, (actor.user_id, actor.username),
                            sorted(actor.roles))

    def from_bucket(self, key: str, etag: str, raw: bytes | str) -> FeedReport:
        """A feed dropped into the feeds bucket (no operator: the bucket's writers are the ERP and 3PLs). Its id is
        its key and ETag, so a notification delivered twice imports it once and a new upload under the same key is a
        new feed. A feed that cannot be read is kept as a report saying why, and operations are told."""
        feed_id = f"s3:{key}#{etag}"
        fmt = format_of(key)
        content = raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace")
        try:
            if fmt is None:
                raise FeedInvalid("a feed's key ends in .csv or .json", field="file")
            if isinstance(raw, bytes):
                if len(raw) > MAX_FEED_BYTES:
                    raise FeedInvalid(f"the feed is larger than {MAX_FEED_BYTES // 1024} KB: split it", field="file")
                try:
                    content = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise FeedInvalid("the feed is not UTF-8 text", field="file") from None
            report = self._import(feed_id, "s3", key, fmt, content, BUCKET_ACTOR, [])
        except FeedInvalid as unreadable:
            report = self._unreadable(feed_id, key, fmt or FeedFormat.CSV, content, unreadable)
        if report.refused and not report.duplicate:
            self.alerts.alert(FILE_ALERT, f"stock feed {report.ref} ({key[:120]}): {len(report.refused)} row(s) "
                                          f"refused, {report.count(RowOutcome.APPLIED)} applied")
        return report

    def _import(self, feed_id: str, source: str, file_name: str, fmt: FeedFormat, content: str,
                actor: tuple[str, str], roles: Sequence[str]) -> FeedReport:
        digest, ref, at = content_digest(content), feed_ref(feed_id), now_iso(self.clock)
        earlier = self.feeds.feed(ref)
        if earlier is not None and earlier.report is not None:
            return self._replayed(earlier, digest)
        rows, refused = read_feed(content, fmt)  # unreadable: refused before any marker is written
        existing = self.feeds.claim(FeedClaim(feed_id=feed_id, ref=ref, digest=digest, started_at=at))
        if existing is not None and existing.report is not None:
            return self._replayed(existing, digest)
        if existing is not None and existing.digest != digest:
            raise FeedIdReused(f"feed {feed_id} was imported with other content")
        resumed = existing is not None  # a first import that did not finish (or is running): rows may be done
        good, unknown = self._known(rows)
        done = self._apply_all(good, feed_id, ref, at, actor, roles, resumed)
        results = sorted([*refused, *unknown, *done], key=lambda r: r.line)
        report = FeedReport(feed_id=feed_id, ref=ref, digest=digest, source=source, file_name=file_name[:200],
                            format=fmt, mode=rows[0].mode if rows else None, received_at=at,
                            imported_by=actor[0], rows=results)
        self.feeds.finish(report)
        return report

    def _replayed(self, earlier: FeedClaim, digest: str) -> FeedReport:
        if earlier.digest != digest or earlier.report is None:
            raise FeedIdReused(f"feed {earlier.feed_id} was imported with other content")
        return earlier.report.model_copy(update={"duplicate": True})

    def _unreadable(self, feed_id: str, key: str, fmt: FeedFormat, content: str, why: FeedInvalid) -> FeedReport:
        ref, digest = feed_ref(feed_id), content_digest(content)
        existing = self.feeds.claim(FeedClaim(feed_id=feed_id, ref=ref, digest=digest, started_at=now_iso(self.clock)))
        if existing is not None and existing.report is not None:
            return existing.report.model_copy(update={"duplicate": True})
        report = FeedReport(feed_id=feed_id, ref=ref, digest=digest, source="s3", file_name=key[:200], format=fmt,
                            mode=None, received_at=now_iso(self.clock), imported_by=BUCKET_ACTOR[0],
                            rows=[RowResult(line=0, outcome=RowOutcome.REFUSED, field=why.field or "file",
                                            message=why.message)])
        self.feeds.finish(report)
        return report

    def _known(self, rows: list[FeedRow]) -> tuple[list[FeedRow], list[RowResult]]:
        """Rows naming a sku the catalog has and a location that exists; the others refused."""
        skus = sorted({row.sku for row in rows})
        catalog = {sku for start in range(0, len(skus), 100) for sku in self.inventory.catalog(skus[start:start + 100])}
        locations = {location.location_id for location in self.inventory.locations()}
        good: list[FeedRow] = []
        unknown: list[RowResult] = []
        for row in rows:
            if row.sku not in catalog or row.location_id not in locations:
                field, message = (("sku", f"unknown SKU {row.sku}") if row.sku not in catalog else
                                  ("location_id", f"unknown location {row.location_id}"))
                unknown.append(RowResult(line=row.line, outcome=RowOutcome.REFUSED, sku=row.sku,
                                         location_id=row.location_id, field=field, message=message))
            else:
                good.append(row)
        return good, unknown

    def _apply_all(self, rows: list[FeedRow], feed_id: str, ref: str, at: str, actor: tuple[str, str],
                   roles: Sequence[str], resumed: bool) -> list[RowResult]:
        def apply(row: FeedRow) -> RowResult:
            return self._apply(row, feed_id, ref, at, actor, roles, resumed)

        if self.workers > 1 and len(rows) > 1:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(rows))) as pool:
                return list(pool.map(apply, rows))
        return [apply(row) for row in rows]

    def _apply(self, row: FeedRow, feed_id: str, ref: str, at: str, actor: tuple[str, str], roles: Sequence[str],
               resumed: bool) -> RowResult:
        subject = stock_subject(row.sku, row.location_id)
        audit_id = hashlib.sha256(f"feed|{feed_id}|{row.line}".encode()).hexdigest()[:32]
        base = RowResult(line=row.line, outcome=RowOutcome.APPLIED, sku=row.sku, location_id=row.location_id)
        raced = [resumed]  # after a lost race, this row's entry may have been written by a concurrent import

        def attempt() -> RowResult:
            if raced[0]:
                done = self.audit.entry(subject, audit_id)
                if done is not None:
                    return base.model_copy(update={"on_hand_before": done.before.get("on_hand"),
                                                   "on_hand_after": done.after.get("on_hand")})
            raced[0] = True
            level = self.inventory.stock(row.sku, row.location_id)
            on_hand = level.on_hand if level else 0
            try:
                change = decide(level, row)
            except RowRefused as refused:
                return base.model_copy(update={"outcome": RowOutcome.REFUSED, "field": refused.field,
                                               "message": refused.message, "on_hand_before": on_hand})
            if change is None:
                return base.model_copy(update={"outcome": RowOutcome.UNCHANGED, "on_hand_before": on_hand,
                                               "on_hand_after": on_hand})
            entry = AuditEntry(audit_id=audit_id, subject=subject, action=ACTION, actor_id=actor[0],
                               actor_name=actor[1], roles=list(roles), at=at,
                               reason=f"stock feed {feed_id[:200]}, line {row.line}", before=counters(level),
                               after={**counters(change.after), "feed": ref, "line": row.line,
                                      "mode": row.mode.value, "quantity": row.quantity})
            self.uow.commit(stock=[change], audit=[entry])
            if self.waiting is not None and may_serve_waiters(change):  # dawra.app.backorders
                self.waiting(row.sku)
            if crossed_below(change) and change.after.reorder_point is not None:
                tell_low(self.alerts, [(row.sku, row.location_id, change.after.available,
                                        change.after.reorder_point)])
            return base.model_copy(update={"on_hand_before": on_hand, "on_hand_after": change.after.on_hand})

        return retry_on_race(attempt, f"stock feed {ref} line {row.line}")

    # --- reading --------------------------------------------------------------------------------------------------
    def report(self, actor: Actor, ref: str) -> FeedReport:
        authorize(actor, Permission.IMPORT_STOCK_FEEDS)
        found = self.feeds.feed(ref) if len(ref) == 32 else None
        if found is None or found.report is None:
            raise FeedNotFound("no stock feed was imported with this reference")
        return found.report

    def recent(self, actor: Actor, limit: int = 20) -> list[FeedReport]:
        authorize(actor, Permission.IMPORT_STOCK_FEEDS)
        return self.feeds.recent(limit)


class BucketFeeds:
    """The feeds bucket's notifications: each object created in it imported as a stock feed, read as notified."""

    def __init__(self, imports: StockFeedImports, files: FeedFiles, bucket: str):
        self.imports, self.files, self.bucket = imports, files, bucket

    def __call__(self, bucket: str, key: str, etag: str) -> str:
        if bucket != self.bucket:
            return "another bucket: ignored"
        raw = self.files.read(key, etag, MAX_FEED_BYTES)
        if raw is None:
            return "gone or replaced since: its own notification imports the new object"
        report = self.imports.from_bucket(key, etag, raw)
        if report.duplicate:
            return f"feed {report.ref} was imported before"
        return (f"feed {report.ref}: {report.count(RowOutcome.APPLIED)} applied, "
                f"{report.count(RowOutcome.UNCHANGED)} unchanged, {len(report.refused)} refused")
