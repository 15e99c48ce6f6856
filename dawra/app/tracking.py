"""Carrier tracking: verify a stored webhook, normalise it, and apply each report once.

Webhooks arrive twice, late and out of order: each report is applied at most once (the parcel, shipment or
return, keeps a digest of each report's carrier, tracking number and event id, committed with its effect over the
parcel's version), a shipment never moves backwards, and delivery resumes the order's workflow whichever comes last:
the report, or the wait parking on the shipment (WaitForDelivery's own write refused when the report is there
first: then DeliveryReportedFirst answers). A parcel back at its location is counted back into that
location's stock in the same commit as its report, and its waiting task ends (ReturnedToSender) so that the workflow
settles it. A report on a customer's return parcel (its label's tracking number) moves the return: on its way (in
transit), then received when delivered to our location, which resumes the return's workflow waiting for the parcel;
each report once, by the digests kept on the return. A courier that did not come for a
return's pickup is put on the return's timeline (the customer is told, and may choose another day) once per day
booked; nothing moves. A report's time is the carrier's only when believable
(dawra.domain.tracking); the time the webhook reached us is what it is checked against.

Cash on delivery: a delivered report that says what the courier collected records it on the parcel once
(dawra.domain.cod), in the report's commit; an amount that is not what was due is flagged on the timeline and sent to
operations. A parcel paid in cash and delivered gets a job for later (`cod-remit-<shipment id>`, scheduled again on a
repeated report, which the scheduler ignores while pending) that flags it if its cash is still not remitted after
the merchant's days (dawra.app.remittances.CheckRemittance). Other orders' reports cost nothing more.

Requests (issue 15; docs/decisions.md 104): a tracking number, once booked, always names the same parcel, so the
parcels found are kept for the container's life (KnownParcels: the 2nd..nth report of a parcel makes no index
Query; a number not found is never kept). What follows a report's commit (resuming the workflow, clearing its
token, a return's resume) works on the order as that commit left it instead of reading it
again; a commit of it that loses a race reads it again, as retry_on_race does."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dawra.app.common import load, now_iso, retry_on_race
from dawra.app.deliver import RETURNED_TO_SENDER, came_back, delivered_output
from dawra.app.risk import RefusalsAtTheDoor
from dawra.contracts.jobs import remittance_check
from dawra.contracts.webhook import CarrierWebhookEnvelope, within_limit
from dawra.domain.errors import ConcurrentChange, TransientError, WebhookRejected
from dawra.domain.inventory import StockChange, adjust
from dawra.domain.order import Order
from dawra.domain.returns import ReturnEvent, ReturnStatus, pickup_missed, step
from dawra.domain.shipment import ShipmentStatus
from dawra.domain.time import iso
from dawra.domain.tracking import TrackingEvent, TrackingStatus
from dawra.ports import (
    Carriers,
    Clock,
    InventoryRepository,
    Later,
    OpsAlerts,
    OrderRepository,
    RiskCount,
    Secrets,
    UnitOfWork,
    WebhookRejections,
    Workflow,
)

# A return parcel's reports that move the return (the others are recorded, once, and change nothing).
RETURN_STEPS = {TrackingStatus.IN_TRANSIT: ReturnEvent.IN_TRANSIT,
                TrackingStatus.OUT_FOR_DELIVERY: ReturnEvent.IN_TRANSIT,
                TrackingStatus.DELIVERED: ReturnEvent.RECEIVE}


DEFAULT_REMITTANCE_DAYS = 7
KNOWN_PARCELS = 4096  # tracking numbers kept per container (a few hundred bytes each)


@dataclass(frozen=True)
class CashNews:
    """What a report on a cash-on-delivery parcel leaves to do after its commit."""

    delivered_at: str | None  # delivered and its cash not remitted yet: when (the check for later counts from it)
    mismatch: str | None = None  # the courier collected what was not due: the alert's text


@dataclass(frozen=True)
class Recorded:
    """A report's commit: what happened, what it leaves to do for cash on delivery, and the order as that commit
    left it (None for a duplicate: this attempt changed nothing, and what follows reads the order again)."""

    outcome: str
    cash: CashNews | None = None
    order: Order | None = None


@dataclass(frozen=True)
class Parcel:
    """What a tracking number names: a shipment of an order, or a customer's return parcel."""

    order_id: str
    child_id: str  # the shipment id, or the return id
    is_return: bool = False


class KnownParcels:
    """Tracking number -> the parcel it names, kept for the container's life (the least recently used goes past
    `size`). Once booked, a number always names the same shipment or return, so what the by-tracking-number index
    answered is never stale. A number not found is not kept: its booking may not be visible yet, and the report is
    retried (then looked up again)."""

    def __init__(self, orders: OrderRepository, size: int = KNOWN_PARCELS):
        self.orders, self.size = orders, size
        self._known: OrderedDict[str, Parcel] = OrderedDict()
        self._lock = threading.Lock()  # the local cloud may run one container's invocations on threads

    def find(self, tracking_number: str) -> Parcel | None:
        with self._lock:
            known = self._known.get(tracking_number)
            if known is not None:
                self._known.move_to_end(tracking_number)
                return known
        found = self._look_up(tracking_number)
        if found is not None:
            with self._lock:
                self._known[tracking_number] = found
                while len(self._known) > self.size:
                    self._known.popitem(last=False)
        return found

    def _look_up(self, tracking_number: str) -> Parcel | None:
        if (shipment := self.orders.find_shipment(tracking_number)) is not None:
            return Parcel(*shipment)
        if (a_return := self.orders.find_return(tracking_number)) is not None:
            return Parcel(*a_return, is_return=True)
        return None


class ApplyTracking:
    def __init__(self, orders: OrderRepository, uow: UnitOfWork, workflow: Workflow, carriers: Carriers,
                 secrets: Secrets, secret_names: dict[str, str], rejections: WebhookRejections, clock: Clock,
                 inventory: InventoryRepository, *, alerts: OpsAlerts | None = None, later: Later | None = None,
                 remittance_days: int = DEFAULT_REMITTANCE_DAYS, refusals: RefusalsAtTheDoor | None = None,
                 parcels: KnownParcels | None = None):
        self.orders, self.uow, self.workflow, self.carriers = orders, uow, workflow, carriers
        self.parcels = parcels if parcels is not None else KnownParcels(orders)  # bootstrap: one per container
        self.refusals = refusals  # a COD parcel back undelivered counts against the phone (dawra.app.risk)
        self.secrets, self.secret_names, self.rejections, self.clock = secrets, secret_names, rejections, clock
        self.inventory, self.alerts, self.later, self.remittance_days = inventory, alerts, later, remittance_days

    def handle_stored(self, stored: str, message_id: str) -> list[str]:
        """A webhook as the route stored it: applied, or rejected for good (recorded with its reason, dropped).
        Only processing failures raise, so only they are retried (and, in the end, reach the DLQ)."""
        carrier = "?"
        try:
            envelope, raw = CarrierWebhookEnvelope.opened(stored)
            carrier = envelope.carrier
            return self.handle_webhook(carrier, within_limit(raw), envelope.signature,
                                       envelope.received_at_epoch_ms)
        except WebhookRejected as rejected:
            self.rejections.record(carrier[:32], rejected.reason, rejected.message[:200], self.clock.now(),
                                   message_id)
            return [f"rejected: {rejected.reason}"]

    def handle_webhook(self, carrier_name: str, raw_body: bytes, signature: str | None,
                       received_at_epoch_ms: int) -> list[str]:
        """Verify, normalise and apply one stored webhook; returns what happened to each report."""
        carrier = self.carriers.named(carrier_name)
        secret_name = self.secret_names.get(carrier.name)
        if not secret_name:
            raise WebhookRejected(f"no webhook secret configured for carrier {carrier.name!r}", "carrier")
        carrier.verify(raw_body, signature, self.secrets.get(secret_name).encode(), received_at_epoch_ms)
        received_at = iso(datetime.fromtimestamp(received_at_epoch_ms / 1000, UTC))
        return [self.apply(report.model_copy(update={"received_at": received_at}))
                for report in carrier.parse(raw_body)]

    def apply(self, report: TrackingEvent) -> str:
        parcel = self.parcels.find(report.tracking_number)
        if parcel is None:
            # Our booking may not be visible yet; retrying (then the DLQ) is right for an unknown number.
            raise TransientError(f"no shipment has tracking number {report.tracking_number} (yet)")
        if parcel.is_return:
            return self._apply_to_return(parcel.order_id, parcel.child_id, report)
        order_id, shipment_id = parcel.order_id, parcel.child_id
        recorded = retry_on_race(lambda: self._record(order_id, shipment_id, report), f"tracking {shipment_id}")
        if recorded.cash is not None:
            self._after_cash(order_id, shipment_id, recorded.cash)
        if report.status == TrackingStatus.DELIVERED:  # duplicates too: the first may have died before resuming
            self._resume_if_waiting(order_id, shipment_id, recorded.order)
        if report.status == TrackingStatus.RETURNED:  # the same: the first may have died before ending the wait
            self._end_wait_if_back(order_id, shipment_id, recorded.order)
        return recorded.outcome

    def _record(self, order_id: str, shipment_id: str, report: TrackingEvent) -> Recorded:
        order = load(self.orders, order_id)
        if report.applied_to(order.shipment(shipment_id).reports):  # applied before (perhaps by us, answer lost)
            cash = self._cash(order, shipment_id, report)
            return Recorded("duplicate", CashNews(cash.delivered_at) if cash else None)
        moved = order.record_tracking(shipment_id, report)
        cash = self._cash(order, shipment_id, report)
        restock: list[StockChange] = []
        refused: list[RiskCount] = []
        if moved == ShipmentStatus.RETURNED:  # back on hand and available where it left from
            shipment = order.shipment(shipment_id)
            restock = [adjust(self.inventory.stock(line.sku, shipment.location_id), line.sku, shipment.location_id,
                              line.quantity) for line in shipment.lines]
            if order.is_cash_on_delivery and not shipment.delivered_at and self.refusals is not None:
                refused = [c for c in [self.refusals.count(order.contact.phone)] if c is not None]
        # The report's digest is on the shipment, committed over the version read: a copy applied meanwhile makes
        # this a race, and the retry finds it applied.
        self.uow.commit(order=order, stock=restock, markers=refused)
        return Recorded(f"moved to {moved.value}" if moved else "recorded", cash, order)

    def _cash(self, order: Order, shipment_id: str, report: TrackingEvent) -> CashNews | None:
        """A delivered report on a parcel paid in cash at the door: what the courier collected is recorded (once);
        None for every other report and order."""
        shipment = order.shipment(shipment_id)
        if report.status != TrackingStatus.DELIVERED or not order.is_cash_on_delivery or not shipment.is_delivered:
            return None
        mismatch = None
        if report.cod_collected is not None and order.collect_cash(
                shipment_id, report.cod_collected, shipment.delivered_at or now_iso(self.clock)):
            collected = report.cod_collected
            mismatch = (f"cash on delivery: the courier collected {collected.amount} {collected.currency} (minor "
                        f"units) for parcel {shipment_id}; {shipment.amount.amount} {shipment.amount.currency} "
                        "was due")
        return CashNews(None if shipment.cod_remittance else shipment.delivered_at, mismatch)

    def _after_cash(self, order_id: str, shipment_id: str, cash: CashNews) -> None:
        if cash.mismatch and self.alerts is not None:
            self.alerts.alert(order_id, cash.mismatch)
        if cash.delivered_at and self.later is not None:
            delivered = datetime.fromisoformat(cash.delivered_at)
            delivered = delivered if delivered.tzinfo else delivered.replace(tzinfo=UTC)
            self.later.at(f"cod-remit-{shipment_id}"[:64], delivered + timedelta(days=self.remittance_days),
                          remittance_check(order_id, shipment_id))

    def _apply_to_return(self, order_id: str, return_id: str, report: TrackingEvent) -> str:
        outcome, moved, order = retry_on_race(lambda: self._record_return(order_id, return_id, report),
                                              f"tracking {return_id}")
        if moved == ReturnStatus.RECEIVED or (outcome == "duplicate" and RETURN_STEPS.get(report.status)
                                              == ReturnEvent.RECEIVE):
            # The workflow waiting for the parcel goes on to the inspection. A duplicate of the arrival resumes it
            # too, while that wait still holds the token: the first delivery of this report may have died between
            # its commit and the resume (a duplicate reads the order again; an arrival has it as it committed it).
            ret = (order if order is not None else load(self.orders, order_id)).return_of(return_id)
            if ret.status == ReturnStatus.RECEIVED and ret.resume_token and ret.resume_for == "parcel":
                self.workflow.resume(ret.resume_token, {"return_id": return_id, "status": ret.status.value,
                                                        "received": True})
        return outcome

    def _record_return(self, order_id: str, return_id: str,
                       report: TrackingEvent) -> tuple[str, ReturnStatus | None, Order | None]:
        """The report's step, if the return is where it can take it, committed with the report's digest kept on the
        return. A report the return is past (a scan after it arrived) or that
        moves nothing is recorded only. Also returns the order as committed (None for a duplicate)."""
        order = load(self.orders, order_id)
        ret = order.return_of(return_id)
        if report.applied_to(ret.reports):
            return "duplicate", None, None  # applied before (perhaps by a first attempt that died before resuming)
        order.keep_return_report(return_id, report)
        event, moved = RETURN_STEPS.get(report.status), None
        if event is not None and ret.can(event):
            at = now_iso(self.clock)
            if event == ReturnEvent.RECEIVE:
                ret.received_at = at
            moved = step(order, return_id, event, at, {"location_id": ret.location_id}).status
        missed = report.status == TrackingStatus.PICKUP_MISSED and pickup_missed(
            order, return_id, report.believable_time(not_before=ret.label_issued_at)[0]) is not None
        self.uow.commit(order=order)  # over the return's version: a copy applied meanwhile is a race, then found
        return (f"return moved to {moved.value}" if moved else "pickup missed" if missed else "recorded"), moved, order

    def _resume_if_waiting(self, order_id: str, shipment_id: str, order: Order | None) -> None:
        """`order`: as the report's commit left it (None: read it). Its shipment and token are what is stored: that
        commit was over their versions, and a wait parked after it finds the parcel delivered and resumes itself."""
        order = order if order is not None else load(self.orders, order_id)
        shipment = order.shipment(shipment_id)
        if not shipment.is_delivered:
            return
        token = shipment.resume_token
        if token:  # the report's commit completed the order if this was its last parcel (Order.record_tracking)
            self.workflow.resume(token, delivered_output(shipment))
            self._on_latest(order, lambda latest: self._stop_waiting(latest, shipment_id, token),
                            f"clearing {shipment_id}")

    def _end_wait_if_back(self, order_id: str, shipment_id: str, order: Order | None) -> None:
        """A parcel back at its location: the task waiting on it ends with ReturnedToSender, and the workflow
        settles it by the merchant's policy. With no task waiting (it was settled already, or a person has the
        order), its units are back in stock and nothing more happens automatically."""
        shipment = (order if order is not None else load(self.orders, order_id)).shipment(shipment_id)
        token = shipment.resume_token
        if token and came_back(shipment):
            self.workflow.fail(token, RETURNED_TO_SENDER, "the parcel is back at the location it left from")

    def _on_latest(self, order: Order, change: Callable[[Order], None], what: str) -> None:
        """Decide and commit `change` on `order` as this consumer last committed or read it (no read); if that
        commit loses a race, read the order again and decide again, as retry_on_race does."""
        try:
            change(order)
            return
        except ConcurrentChange:
            pass
        retry_on_race(lambda: change(load(self.orders, order.order_id)), what)

    def _stop_waiting(self, order: Order, shipment_id: str, token: str) -> None:
        if order.shipment(shipment_id).resume_token == token:
            order.stop_waiting(shipment_id)
            self.uow.commit(order=order)
