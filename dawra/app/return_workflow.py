"""A return's own workflow (statemachines/return_lifecycle.asl.json), around the steps of dawra.app.returns: the
customer's request starts it; it reads how long each of its waits lasts; it parks on the return while a person or a
parcel is awaited (and goes on at once if that happened before it parked); it tells operations when a return waits
too long for the warehouse.

The waits' lengths are the merchant's settings (ReturnTimings); the label's validity is the carrier's, shortened to
the merchant's when that is shorter (MerchantLabelValidity)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from dawra.app.common import load, retry_on_race
from dawra.app.deliver import RETURNED_TO_SENDER, delivered_output
from dawra.app.returns import (
    ExpireReturnLabel,
    IssueReturnLabel,
    RequestReturn,
    ReturnCarrier,
    WaitForReturn,
    _find,
)
from dawra.contracts.returns import ParcelWait, ReturnOpened, Waiting
from dawra.domain.customer import Address
from dawra.domain.returns import PickupSlot, Return, ReturnRequest, ReturnStatus
from dawra.domain.shipment import ShipmentStatus
from dawra.domain.time import iso
from dawra.ports import Clock, OpsAlerts, OrderRepository, ReturnBooking, UnitOfWork, Workflow

S = ReturnStatus
# The statuses a wait parks in; found in any other, what it waits for has happened already.
WAITING_IN: dict[str, frozenset[ReturnStatus]] = {
    "approval": frozenset({S.REQUESTED}),
    "parcel": frozenset({S.APPROVED, S.LABEL_ISSUED, S.IN_TRANSIT, S.AWAITING_DROP_OFF}),
    "inspection": frozenset({S.RECEIVED}),
}
NOTHING_TO_WAIT_FOR = frozenset({S.DECLINED, S.EXPIRED, S.LABEL_EXPIRED})


@dataclass(frozen=True)
class ReturnTimings:
    """How long the return's workflow waits: for an agent's approval (then the request expires), for the warehouse
    (then operations are alerted, again each time), for a parcel past its label or one the customer brings to a
    store (then it looks again), and how long a label is valid at most."""

    approval: timedelta = timedelta(hours=72)
    inspection_alert: timedelta = timedelta(hours=48)
    parcel_wait: timedelta = timedelta(days=14)
    label_valid: timedelta = timedelta(days=14)


def seconds(span: timedelta) -> int:
    """Whole seconds for a Step Functions timeout (at least one)."""
    return max(1, math.ceil(span.total_seconds()))


class StartReturn:
    """The customer's request, then its workflow: one request key, one return, one execution (named after the
    return), however often it is asked. A failure to start leaves the request stored; asking again starts it."""

    def __init__(self, request: RequestReturn, workflow: Workflow):
        self.request, self.workflow = request, workflow

    def __call__(self, order_id: str, request_key: str, request: ReturnRequest) -> Return:
        ret = self.request(order_id, request_key, request)
        self.workflow.start_return(order_id, ret.return_id)
        return ret


class OpenReturnWorkflow:
    """ReturnRequested: where the return stands (approved by its policy, or waiting for an agent) and how long the
    workflow's waits last."""

    def __init__(self, orders: OrderRepository, timings: ReturnTimings):
        self.orders, self.timings = orders, timings

    def __call__(self, order_id: str, return_id: str) -> ReturnOpened:
        ret = _find(load(self.orders, order_id), return_id)
        exchange = "none" if not ret.is_exchange else "first" if ret.ship_exchange_first else "on_receipt"
        return ReturnOpened(status=ret.status.value, approval_timeout_s=seconds(self.timings.approval),
                            inspection_alert_s=seconds(self.timings.inspection_alert), exchange=exchange,
                            replacement_wait_s=seconds(self.timings.parcel_wait),
                            kind="claim" if ret.is_claim else "return")


def _news(waiting_for: Waiting, ret: Return) -> dict[str, object]:
    """What the use case that ends this wait would have handed the workflow (dawra.app.returns._resume)."""
    happened = ret.status not in NOTHING_TO_WAIT_FOR
    word = {"approval": "approved", "parcel": "received", "inspection": "inspected"}[waiting_for]
    return {"return_id": ret.return_id, "status": ret.status.value, word: happened}


class ParkReturn:
    """WaitForApproval, WaitForParcel, WaitForInspection: the task token kept on the return, for the agent, the
    tracking consumer (or the store) and the warehouse to resume. If that already happened (before the token was
    stored, nothing else would resume it), the wait is ended here."""

    def __init__(self, orders: OrderRepository, wait: WaitForReturn, workflow: Workflow):
        self.orders, self.wait, self.workflow = orders, wait, workflow

    def __call__(self, order_id: str, return_id: str, waiting_for: Waiting, token: str) -> dict[str, bool]:
        status = self.wait(order_id, return_id, token, waiting_for)
        if status in WAITING_IN[waiting_for]:
            return {"waiting": True}
        ret = _find(load(self.orders, order_id), return_id)
        self.workflow.resume(token, _news(waiting_for, ret))
        return {"waiting": False}


class ParkOnReplacement:
    """WaitForReplacement: an exchange's replacement is on its way; its task token is kept on the replacement's
    shipment, where the tracking pipeline resumes it on delivery (as the order's WaitForDelivery is), or fails it
    when the carrier brings it back (a person decides). Delivered (or back) before the token was stored: ended
    here."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, workflow: Workflow):
        self.orders, self.uow, self.workflow = orders, uow, workflow

    def __call__(self, order_id: str, return_id: str, token: str) -> dict[str, bool]:
        def park() -> str:
            order = load(self.orders, order_id)
            shipment_id = _find(order, return_id).replacement_id
            if shipment_id is None:
                raise ValueError(f"return {return_id} has no replacement to wait for")
            shipment = order.shipment(shipment_id)
            if shipment.resume_token != token and not shipment.is_delivered:
                order.wait_for_delivery(shipment_id, token)
                self.uow.commit(order=order)
            return shipment_id

        shipment = load(self.orders, order_id).shipment(retry_on_race(park, f"waiting on {return_id}'s exchange"))
        if shipment.is_delivered:
            self.workflow.resume(token, delivered_output(shipment))
            return {"waiting": False}
        if shipment.status == ShipmentStatus.RETURNED:
            self.workflow.fail(token, RETURNED_TO_SENDER, "the replacement is back at the location it left from")
            return {"waiting": False}
        return {"waiting": True}


class ParcelWaits:
    """IssueLabelOrInstructions and LabelExpired, with how long WaitForParcel then waits: until the label expires
    (or the date a store drop-off is due by), or (a parcel already on its way) the merchant's parcel wait."""

    def __init__(self, issue: IssueReturnLabel, expire: ExpireReturnLabel, orders: OrderRepository,
                 timings: ReturnTimings, clock: Clock):
        self.issue_label, self.expire_label, self.orders = issue, expire, orders
        self.timings, self.clock = timings, clock

    def issue(self, order_id: str, return_id: str) -> ParcelWait:
        return self._wait(self.issue_label(order_id, return_id))

    def expire(self, order_id: str, return_id: str) -> ParcelWait:
        self.expire_label(order_id, return_id)
        return self._wait(_find(load(self.orders, order_id), return_id))

    def _wait(self, ret: Return) -> ParcelWait:
        if ret.status in (S.LABEL_ISSUED, S.AWAITING_DROP_OFF) and ret.label_expires_at:
            left = datetime.fromisoformat(ret.label_expires_at) - self.clock.now()
            if left > timedelta(0):
                return ParcelWait(status=ret.status.value, wait_s=seconds(left))
        return ParcelWait(status=ret.status.value, wait_s=seconds(self.timings.parcel_wait))


class AlertOpsAboutReturn:
    """Tell whoever runs the shop that a return waits for them (the warehouse has not inspected it, or the workflow
    could not go on); the text names the order and the return, nothing about the customer."""

    def __init__(self, alerts: OpsAlerts):
        self.alerts = alerts

    def __call__(self, order_id: str, return_id: str, reason: str) -> None:
        self.alerts.alert(order_id, f"return {return_id}: {reason}")


class MerchantLabelValidity:
    """A carrier whose return labels the merchant accepts for at most `valid_for` after booking: the booking's
    expiry is the earlier of the carrier's and the merchant's (what the label prints and the workflow waits for)."""

    def __init__(self, carrier: ReturnCarrier, valid_for: timedelta, clock: Clock):
        self.carrier, self.valid_for, self.clock = carrier, valid_for, clock

    def book_return(self, return_id: str, from_address: Address, to_location_id: str,
                    weight_g: int, pickup: PickupSlot | None = None) -> ReturnBooking:
        booking = self.carrier.book_return(return_id, from_address, to_location_id, weight_g, pickup=pickup)
        ours = iso(self.clock.now() + self.valid_for)
        if datetime.fromisoformat(ours) < datetime.fromisoformat(booking.expires_at):
            return booking.model_copy(update={"expires_at": ours})
        return booking
