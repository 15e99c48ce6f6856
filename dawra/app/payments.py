"""Card authorisations that lapse: renewing one in time, or telling a person when it cannot be.

A card authorisation is capturable for a while only (the provider documents how long: the sandbox's 7 days). Most
orders ship well within it, and for them nothing here runs. Two paths renew the others:
- **In time:** checkout schedules a job (`renew_authorization`, dawra.ports.Later) for an order that may still be
  unshipped a day before its authorisation lapses (held for a decision, or with a line on backorder), and only for
  those: the workflow ships every other order seconds after checkout. When it fires, the order's unshipped remainder is re-authorised on the credential the provider keeps (a
  merchant-initiated transaction), the new authorisation recorded on the order with when it lapses, and the job
  scheduled again if the order may still be waiting then.
- **At shipping:** a capture the provider refuses as lapsed (AuthorizationExpired: an order held after checkout, a
  job that never ran, the sandbox's `tok_sandbox_expired`) re-authorises there and then, and captures.
When the provider declines the re-authorisation, the order is recorded as such on its timeline, held for a person
if nothing has shipped yet (an agent asks the customer to pay again, or cancels), and operations are alerted.

Idempotent: each renewal's provider key names the order, the renewal's round and the amount
(`<order>:reauth:<n>:<amount>`), so a retry after a lost commit gets the same authorisation back, and the round
moves on only once a renewal is committed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dawra.app.common import load, now_iso, retry_on_race
from dawra.domain.errors import PaymentDeclined
from dawra.domain.order import Order, OrderEvent, OrderStatus
from dawra.domain.payment_events import RENEWAL_MARGIN, at_risk_of_lapsing, renewal_due
from dawra.domain.time import iso
from dawra.ports import Clock, Later, OpsAlerts, OrderRepository, PaymentProviders, UnitOfWork

RENEW_AUTHORIZATION = "renew_authorization"  # the Later job's kind
LAPSED_ALERT = "the card authorisation lapsed and could not be renewed: ask the customer to pay again, or cancel"


def renewal_job_name(order_id: str) -> str:
    return f"reauth-{order_id}"


def schedule_renewal(later: Later, order: Order, *, held: bool, backordered: bool,
                     margin: timedelta = RENEWAL_MARGIN) -> bool:
    """Schedule the renewal job for an order whose authorisation may lapse before it ships. True when scheduled."""
    if order.payment.expires_at is None or order.payment.voided or not at_risk_of_lapsing(held, backordered):
        return False
    expires_at = datetime.fromisoformat(order.payment.expires_at)
    later.at(renewal_job_name(order.order_id), renewal_due(expires_at, margin),
             {"kind": RENEW_AUTHORIZATION, "order_id": order.order_id})
    return True


@dataclass(frozen=True)
class Renewal:
    outcome: str  # "renewed", "not_renewed", "not_needed"
    held: bool = False  # not renewed, and the order was held for a person


class RenewAuthorization:
    def __init__(self, orders: OrderRepository, uow: UnitOfWork, payments: PaymentProviders, alerts: OpsAlerts,
                 clock: Clock, later: Later | None = None, margin: timedelta = RENEWAL_MARGIN):
        self.orders, self.uow, self.payments, self.alerts = orders, uow, payments, alerts
        self.clock, self.later, self.margin = clock, later, margin

    def when_due(self, order_id: str) -> str:
        """The Later job: renew if the authorisation lapses within the margin and something is left to capture;
        schedule the next renewal if the order may still be waiting when the new one is due."""
        order = load(self.orders, order_id)
        if not self._needs_renewal(order):
            return "not_needed"
        expires_at = datetime.fromisoformat(order.payment.expires_at or "")
        if renewal_due(expires_at, self.margin) > self.clock.now():  # renewed meanwhile (at shipping): not yet
            self._schedule(order)
            return "not_yet"
        renewal = self.renew(order_id, order.payment.authorization_id)
        if renewal.outcome == "renewed":
            self._schedule(load(self.orders, order_id))
        return renewal.outcome

    def renew(self, order_id: str, lapsing_id: str) -> Renewal:
        """Replace the authorisation `lapsing_id` (if it is still the order's) with a new one for what is left to
        capture; or, when the provider declines, record it, hold the order if it can be, and alert operations."""
        renewal = retry_on_race(lambda: self._attempt(order_id, lapsing_id), f"renewing {order_id}'s payment")
        if renewal.outcome == "not_renewed":  # after the commit: a retry re-alerts rather than never alerting
            self.alerts.alert(order_id, LAPSED_ALERT)
        return renewal

    def _needs_renewal(self, order: Order) -> bool:
        payment = order.payment
        return (payment.expires_at is not None and not payment.voided and payment.left_to_capture.amount > 0
                and order.can(OrderEvent.RENEW_AUTHORIZATION) and not order.cancellation_requested)

    def _attempt(self, order_id: str, lapsing_id: str) -> Renewal:
        order = load(self.orders, order_id)
        payment = order.payment
        if payment.authorization_id != lapsing_id or not self._needs_renewal(order):
            return Renewal("not_needed")  # renewed by an earlier attempt (or the other path), or nothing left
        provider = self.payments.named(payment.provider)
        round_ = len(payment.earlier_authorizations)
        amount = payment.left_to_capture
        now = self.clock.now()
        try:
            renewed = provider.reauthorize(lapsing_id, amount, reference=f"{order_id}:reauth:{round_}:{amount.amount}")
        except PaymentDeclined as declined:
            ref = f"reauth-{round_}-{int(now.timestamp())}"  # each decline is news: a person may have retried
            held = order.authorization_not_renewed(declined.message, iso(now), ref)
            self.uow.commit(order=order)
            return Renewal("not_renewed", held=held)
        validity = provider.authorization_validity
        order.renew_authorization(renewed, iso(now + validity) if validity else None, now_iso(self.clock),
                                  f"reauth-{round_}")
        self.uow.commit(order=order)
        return Renewal("renewed")

    def _schedule(self, order: Order) -> None:
        if self.later is not None:
            schedule_renewal(self.later, order, held=order.status == OrderStatus.ON_HOLD, backordered=False,
                             margin=self.margin)
