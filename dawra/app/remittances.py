"""Cash on delivery after the door: a courier's remittance file reconciled against the parcels it delivered, the
parcels whose cash is still owed, and the check that flags one not remitted in time.

Importing a file is idempotent by file: its digest (dawra.domain.cod.file_digest) names it, and a file imported
before answers its first report, marked `duplicate`, applying nothing. Each row is judged and, when it is for a COD
parcel not yet remitted, applied in one commit of its own (the parcel's remittance and its timeline event, over the
versions read): a row is never half-applied, and a bad row does not stop the good ones. The report is kept once all
rows are through; a first import that died half-way is finished by importing the same file again (the rows it
applied are recognised as this file's and reported as they were, never applied twice). Short payments, over-payments
and unknown tracking numbers go to operations in one alert per file."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from dawra.app.common import load, now_iso, retry_on_race
from dawra.domain.access import Actor, Permission, authorize
from dawra.domain.cod import (
    CodRemittance,
    RemittanceNotFound,
    RemittanceReport,
    RemittanceRow,
    RowOutcome,
    RowResult,
    file_digest,
    from_minor,
    judge,
    read_remittance_file,
)
from dawra.domain.money import Money
from dawra.domain.order import Order
from dawra.domain.time import iso
from dawra.ports import Clock, OpsAlerts, OrderRepository, RemittanceImports, UnitOfWork

WORKERS = 8  # rows applied at a time (each its own parcel: no two race); a thousand rows in a few seconds
MAX_OWED = 200  # parcels listed as owed at most (oldest first): the list is for chasing, not for accounting
FILE_ALERT = "remittance"  # the "order id" a file's alert is filed under (it is about many orders, or none)


@dataclass(frozen=True)
class OwedParcel:
    """A parcel paid in cash at the door, delivered, and not remitted."""

    order_id: str
    shipment_id: str
    carrier: str
    tracking_number: str
    delivered_at: str
    due: Money
    collected_at_door: Money | None
    days: int  # whole days since delivery


@dataclass(frozen=True)
class RemittanceOverview:
    owed: list[OwedParcel]  # delivered more than `days` days ago and not remitted, oldest first
    days: int
    truncated: bool  # more owed parcels than listed
    imports: list[RemittanceReport]  # the latest files, newest first


class Remittances:
    def __init__(self, orders: OrderRepository, uow: UnitOfWork, imports: RemittanceImports, alerts: OpsAlerts,
                 clock: Clock, *, currency: str = "SAR", remittance_days: int = 7, workers: int = WORKERS):
        self.orders, self.uow, self.imports, self.alerts, self.clock = orders, uow, imports, alerts, clock
        self.currency, self.days, self.workers = currency, remittance_days, workers

    # --- importing a file -------------------------------------------------------------------------------------
    def import_file(self, actor: Actor, file_name: str, text: str) -> RemittanceReport:
        authorize(actor, Permission.RECONCILE_COD)
        digest = file_digest(text)
        earlier = self.imports.imported(digest)
        if earlier is not None:
            return earlier.model_copy(update={"duplicate": True})
        rows, problems = read_remittance_file(text, self.currency)
        at = now_iso(self.clock)
        results = [RowResult(line=p.line, tracking_number=p.tracking_number, outcome=RowOutcome.INVALID,
                             message=p.message) for p in problems]
        seen: dict[str, int] = {}
        first: list[RemittanceRow] = []
        for row in rows:
            if row.tracking_number in seen:
                results.append(RowResult(line=row.line, tracking_number=row.tracking_number,
                                         outcome=RowOutcome.DUPLICATE_ROW, reference=row.reference,
                                         message=f"the same parcel as line {seen[row.tracking_number]}"))
                continue
            seen[row.tracking_number] = row.line
            first.append(row)
        if self.workers > 1 and len(first) > 1:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(first))) as pool:
                results += pool.map(lambda row: self._apply(row, digest, at), first)
        else:
            results += [self._apply(row, digest, at) for row in first]
        report = RemittanceReport(digest=digest, file_name=_file_name(file_name), imported_at=at,
                                  imported_by=actor.user_id, currency=self.currency,
                                  rows=sorted(results, key=lambda r: r.line))
        if not self.imports.record(report):  # the same file, imported at the same time by someone else
            stored = self.imports.imported(digest)
            return stored.model_copy(update={"duplicate": True}) if stored else report
        self._alert(report)
        return report

    def _apply(self, row: RemittanceRow, digest: str, at: str) -> RowResult:
        found = self.orders.find_shipment(row.tracking_number)
        if found is None:
            return RowResult(line=row.line, tracking_number=row.tracking_number, outcome=RowOutcome.UNKNOWN,
                             reference=row.reference, collected=row.collected, fee=row.fee, remitted=row.remitted,
                             message="no parcel has this tracking number")
        order_id, shipment_id = found
        return retry_on_race(lambda: self._remit(order_id, shipment_id, row, digest, at),
                             f"remitting {shipment_id}")

    def _remit(self, order_id: str, shipment_id: str, row: RemittanceRow, digest: str, at: str) -> RowResult:
        order = load(self.orders, order_id)
        shipment = order.shipment(shipment_id)
        base = RowResult(line=row.line, tracking_number=row.tracking_number, outcome=RowOutcome.EXACT,
                         order_id=order_id, shipment_id=shipment_id, due=shipment.amount,
                         collected_at_door=shipment.cod_collected, collected=row.collected, fee=row.fee,
                         remitted=row.remitted, reference=row.reference, remitted_on=row.remitted_on.isoformat(),
                         delivered=shipment.is_delivered)
        if not order.is_cash_on_delivery:
            return base.model_copy(update={"outcome": RowOutcome.NOT_COD,
                                           "message": "the order was not paid in cash on delivery"})
        done = shipment.cod_remittance
        outcome, difference, why = judge(row, shipment.amount, shipment.cod_collected)
        if done is not None and done.file_digest == digest:  # this file applied it (a first import that died)
            return base.model_copy(update={"outcome": outcome, "difference": difference, "message": why})
        if done is not None:
            return base.model_copy(update={
                "outcome": RowOutcome.ALREADY_REMITTED,
                "message": f"remitted on {done.remitted_on} under {done.reference}"})
        order.remit(shipment_id, CodRemittance(
            reference=row.reference, remitted_on=row.remitted_on.isoformat(), collected=row.collected, fee=row.fee,
            remitted=row.remitted, file_digest=digest, recorded_at=at), outcome.value, difference)
        self.uow.commit(order=order)
        if not shipment.is_delivered:
            why = "; ".join(part for part in (why, "not reported delivered yet") if part)
        return base.model_copy(update={"outcome": outcome, "difference": difference, "message": why})

    def _alert(self, report: RemittanceReport) -> None:
        short, over, unknown = (report.count(o) for o in (RowOutcome.SHORT, RowOutcome.OVER, RowOutcome.UNKNOWN))
        if not (short or over or unknown):
            return
        lacking = from_minor(report.short_by.amount, report.currency)
        self.alerts.alert(FILE_ALERT, f"remittance file {report.digest[:12]}: {short} short payment(s) "
                                      f"({lacking} {report.currency} short), {over} over-payment(s), {unknown} "
                                      "unknown tracking number(s)")

    # --- reading ------------------------------------------------------------------------------------------------
    def report(self, actor: Actor, digest: str) -> RemittanceReport:
        authorize(actor, Permission.RECONCILE_COD)
        found = self.imports.imported(digest) if len(digest) <= 64 else None
        if found is None:
            raise RemittanceNotFound("no remittance file was imported with this digest")
        return found

    def overview(self, actor: Actor, now: datetime, recent: int = 10) -> RemittanceOverview:
        """The parcels delivered more than the merchant's days ago and not remitted (one query on an index, then
        their orders), and the latest files."""
        authorize(actor, Permission.RECONCILE_COD)
        found = self.imports.unremitted(iso(now - timedelta(days=self.days)), MAX_OWED + 1)
        owed: list[OwedParcel] = []
        orders: dict[str, Order] = {}
        for order_id, shipment_id in found[:MAX_OWED]:
            order = orders.get(order_id) or self.orders.get(order_id)
            if order is None:
                continue
            orders[order_id] = order
            shipment = order.shipment(shipment_id)
            if shipment.cod_remittance is not None or not shipment.delivered_at:  # the index lags its items
                continue
            delivered = datetime.fromisoformat(shipment.delivered_at)
            owed.append(OwedParcel(order_id=order_id, shipment_id=shipment_id, carrier=shipment.carrier or "",
                                   tracking_number=shipment.tracking_number or "",
                                   delivered_at=shipment.delivered_at, due=shipment.amount,
                                   collected_at_door=shipment.cod_collected,
                                   days=(now - delivered).days))
        return RemittanceOverview(owed=owed, days=self.days, truncated=len(found) > MAX_OWED,
                                  imports=self.imports.recent(recent))

    # --- the job for later --------------------------------------------------------------------------------------
    def check(self, order_id: str, shipment_id: str) -> str:
        """Days after a COD parcel's delivery: flagged (the timeline, operations alerted) if still not remitted."""
        flagged = retry_on_race(lambda: self._flag(order_id, shipment_id), f"remittance check {shipment_id}")
        if flagged:
            self.alerts.alert(order_id, f"cash on delivery: parcel {shipment_id} was delivered {self.days} days ago "
                                        "and its cash is not remitted")
            return "overdue"
        return "nothing to flag"

    def _flag(self, order_id: str, shipment_id: str) -> bool:
        order = load(self.orders, order_id)
        if not order.remittance_overdue(shipment_id, now_iso(self.clock), self.days):
            return False
        self.uow.commit(order=order)
        return True


def _file_name(name: str) -> str:
    """The file's name as an operator gave it, for the report only: printable, at most 100 characters."""
    kept = "".join(ch for ch in name if ch.isprintable() and ch not in "\\/")[:100].strip()
    return kept or "remittance.csv"
