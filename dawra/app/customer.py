"""What the customer does to their own order before it ships: cancel it (or the parcels of a split order that have
not left), send it to another address, choose how and in which language to hear about it.

The customer's authority is the order's own signed link (checked by the caller, dawra.web.customer); here the
customer is an actor of its own in the audit trail ("customer", no role). Each action is a transition of the order's
table, decided on the order as it is and committed with its audit entry, its stock moves and its timeline event (the
notifier turns that into the customer's message) in one unit of work, once per request key: a replay answers the
same outcome, the same key with other values is refused.

- **Cancel the order**: the operators' path (dawra.app.changes): the request is recorded, and the workflow's own
  compensation releases the stock, voids the payment and tells the customer (`CancelledByCustomer`).
- **Cancel parcels of a split order** that have not left: they are marked cancelled (ShipShipment then sends nothing
  from there), their reserved units are released, their share of the total is voided from the authorisation (or
  refunded, had it been captured). Naming every parcel still to come of an order nothing has left from is cancelling
  the order.
- **Change the address** while no label exists: checked for its country; the shipping charge follows the new
  address's zone. Cheaper: the difference is voided; dearer: refused, with the amount (`quote_address_change` tells
  it before the customer submits). The promise is counted again for the new address.
- **Change the contact**: email, SMS or both, English or Arabic; SMS needs a phone (E.164).

Money given back is recorded first and paid out after the commit under the request's own reference, so a replay pays
it out once (the provider applies a repeated reference once) and a commit that fails pays nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from dawra.app.changes import Change, ChangeOrder, FinishCancellation, Outcome
from dawra.app.cod_confirmation import ConfirmCashOnDelivery
from dawra.app.common import load, now_iso
from dawra.app.compensate import CancelOrder, ReleaseStock
from dawra.domain.access import Actor
from dawra.domain.customer import Address, Contact, address_problem
from dawra.domain.errors import IllegalTransition, InvalidCustomerDetails
from dawra.domain.inventory import ReservationState, release
from dawra.domain.money import Money, MoneyDifference
from dawra.domain.order import GivenBack, Order, OrderEvent, Repricing
from dawra.domain.pricing import DEFAULT_POLICY, PricingPolicy, reprice_shipping, shipping_zone, tax_on
from dawra.domain.promise import promises_for
from dawra.ports import (
    AuditLog,
    Clock,
    InventoryRepository,
    OrderRepository,
    PaymentProviders,
    UnitOfWork,
    Workflow,
)
from dawra.rendering import format_money, order_reference

CUSTOMER = Actor(user_id="customer", username="customer", roles=frozenset())  # the order's own customer
CANCELLED_BY_THE_CUSTOMER = "the customer cancelled it"  # the order's cancellation_requested, as operators read it
OFFERS = frozenset({"cancel", "cancel_shipments", "change_address", "change_contact"})
CHANNELS = {"email": "email", "sms": "SMS", "both": "email and SMS"}
LANGUAGES = {"en": "English", "ar": "Arabic"}


@dataclass(frozen=True)
class CustomerOutcome:
    order: Order
    replayed: bool  # the request had already been applied: nothing was done twice
    message: str  # what to tell the customer (English; the message the notifier sends is in their language)
    kind: str  # "cancelled" | "shipments_cancelled" | "address_changed" | "contact_changed"


@dataclass(frozen=True)
class AddressQuote:
    """What changing the address would do, before the customer submits it. Shipping charges are as the customer pays
    them (with their tax), so `difference` is exactly what the order's total would change by."""

    allowed: bool
    reason: str | None  # why not, when not allowed
    shipping_before: Money
    shipping_after: Money
    difference: MoneyDifference  # after - before (negative: given back to the customer)
    promised_by: str | None


class CustomerActions:
    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork, audit: AuditLog,
                 workflow: Workflow, payments: PaymentProviders, clock: Clock, release_stock: ReleaseStock,
                 cancel_order: CancelOrder, policy: PricingPolicy = DEFAULT_POLICY):
        self.orders, self.inventory, self.workflow, self.payments = orders, inventory, workflow, payments
        self.clock, self.policy = clock, policy
        self.change = ChangeOrder(orders, uow, audit, clock)
        self.finish_cancellation = FinishCancellation(workflow, release_stock, cancel_order)
        self.confirming = ConfirmCashOnDelivery(orders, uow, audit, workflow, clock)

    # --- what the order's page offers -------------------------------------------------------------------------------
    def offers(self, order: Order) -> frozenset[str]:
        """The actions the order's status (and what has shipped) allows the customer now."""
        if order.cancellation_requested:
            return frozenset()
        still_to_ship = [s for s in order.active_shipments if not s.has_shipped]
        offered = {
            "cancel": order.can(OrderEvent.REQUEST_CANCEL) and not order.shipped,
            "cancel_shipments": order.can(OrderEvent.CANCEL_SHIPMENTS) and bool(still_to_ship)
            and len(order.active_shipments) > 1,
            "change_address": order.can(OrderEvent.CHANGE_ADDRESS) and not order.shipped
            and order.pickup_location is None,  # collected at a store: no address to deliver to
            "change_contact": order.can(OrderEvent.CHANGE_CONTACT),
        }
        return frozenset(action for action, allowed in offered.items() if allowed)

    # --- the actions --------------------------------------------------------------------------------------------------
    def confirm_cash_on_delivery(self, order_id: str, key: str) -> CustomerOutcome:
        """The customer confirms an order paid at the door that waits for it (dawra.app.cod_confirmation): released
        to ship, once; confirming again says so and changes nothing."""
        confirmed = self.confirming.by_link(order_id, key)
        return CustomerOutcome(order=confirmed.order, replayed=confirmed.already,
                               message="Your order is confirmed", kind="confirm_cod")

    def cancel(self, order_id: str, key: str, shipment_ids: Sequence[str] | None = None) -> CustomerOutcome:
        """Cancel the whole order, or (`shipment_ids`) the parcels of it that have not left."""
        chosen = None if shipment_ids is None else list(dict.fromkeys(shipment_ids))

        def decide(order: Order, ref: str) -> Change:
            reference = order_reference(order.order_id)
            if chosen is None or (not order.shipped and set(chosen) == {s.shipment_id for s in order.active_shipments}):
                order.request_cancellation(CANCELLED_BY_THE_CUSTOMER, self._now(), ref, by="customer")
                return _told("cancelled", f"Your order {reference} is cancelled. Nothing will be charged; "
                                          "we will send you a confirmation.")
            held = [r for r in self.inventory.reservations(order.order_id)
                    if r.shipment_id in chosen and r.state == ReservationState.HELD]
            items = _items(order, chosen)
            given = order.cancel_shipments(chosen, self._now(), ref)
            change = _told("shipments_cancelled",
                           f"Cancelled from your order {reference}: {items}. {format_money(given.total)} will not be "
                           "charged; the rest of your order is still on its way.", given)
            change.stock = [release(r) for r in held]
            change.detail["released_units"] = sum(r.quantity for r in held)
            return change

        asked: dict[str, Any] = {} if chosen is None else {"shipment_ids": sorted(chosen)}
        outcome = self.change(CUSTOMER, order_id, key, "cancel" if chosen is None else "cancel_shipments", None,
                              decide, asked)
        if outcome.audit.after["kind"] == "cancelled":
            self.finish_cancellation(outcome.order)  # the workflow's compensation (also on a replay: safe to repeat)
        else:
            self._pay_back(outcome)
            self._let_cancelled_parcels_go(outcome.order)
        return _outcome(outcome)

    def quote_address_change(self, order_id: str, address: Address) -> AddressQuote:
        """What sending the order to `address` would cost and when it would arrive, and whether it may."""
        order = load(self.orders, order_id)
        repriced = self._reprice(order, address)
        before, after = self._shipping_paid(order.totals.shipping, order), \
            self._shipping_paid(repriced.totals.shipping, order)
        difference = MoneyDifference.between(order.totals.total, repriced.totals.total)
        trial = order.model_copy(deep=True)
        reason: str | None = None
        try:
            _check_address(address)
            trial.change_address(address, self._now(), "quote")  # the order's own rules, on a copy
        except IllegalTransition as refused:
            reason = refused.why or f"not possible while the order is {order.status.value}"
        except InvalidCustomerDetails as invalid:
            reason = invalid.message
        if reason is None and difference.amount > 0:
            more = Money(amount=difference.amount, currency=difference.currency)
            reason = f"Delivering to {address.city} costs {format_money(more)} more: the address cannot change to it."
        promised = max(repriced.promises.values(), default=order.promised_by) if reason is None else order.promised_by
        return AddressQuote(allowed=reason is None, reason=reason, shipping_before=before, shipping_after=after,
                            difference=difference, promised_by=promised)

    def change_address(self, order_id: str, key: str, address: Address) -> CustomerOutcome:
        """Send the parcels to `address` (no label yet); a cheaper shipping charge gives the difference back."""
        _check_address(address)

        def decide(order: Order, ref: str) -> Change:
            repriced = self._reprice(order, address)
            if repriced.totals.total.amount > order.totals.total.amount:
                more = repriced.totals.total - order.totals.total
                raise IllegalTransition(order.order_id, order.status.value, OrderEvent.CHANGE_ADDRESS.value,
                                        f"delivering to {address.city} costs {format_money(more)} more")
            given = order.change_address(address, self._now(), ref, repriced)
            back = f" {format_money(given.total)} of the shipping charge will not be charged." \
                if given and given.total.amount else ""
            return _told("address_changed", f"Your order {order_reference(order.order_id)} will be delivered to "
                                            f"{address.line1}, {address.city} by {order.promised_by}.{back}", given)

        outcome = self.change(CUSTOMER, order_id, key, "change_address", None, decide,
                              {"address": address.model_dump(mode="json")})
        self._pay_back(outcome)
        return _outcome(outcome)

    def change_contact(self, order_id: str, key: str, preferred_channel: str, language: str,
                       phone: str | None) -> CustomerOutcome:
        """How the customer hears about the order (email, sms or both) and in which language (en, ar). A phone given
        replaces the one we have; none keeps it. SMS needs one."""

        def decide(order: Order, ref: str) -> Change:
            contact = _contact(order.contact, preferred_channel, language, phone)
            order.change_contact(contact, self._now(), ref)
            return _told("contact_changed", f"We will keep you posted about your order "
                                            f"{order_reference(order.order_id)} by {CHANNELS[contact.preferred_channel]}"
                                            f", in {LANGUAGES[contact.language]}.")

        outcome = self.change(CUSTOMER, order_id, key, "change_contact", None, decide,
                              {"preferred_channel": preferred_channel, "language": language, "phone": phone})
        return _outcome(outcome)

    # --- how --------------------------------------------------------------------------------------------------------
    def _now(self) -> str:
        return now_iso(self.clock)

    def _reprice(self, order: Order, address: Address) -> Repricing:
        """The order's totals, zone and promises with the parcels going to `address` (same country and method)."""
        country = order.shipping_address.country
        zone = shipping_zone(address.country, address.city, self.policy) if address.country == country \
            else order.shipping_zone
        totals = reprice_shipping(order.totals, country, order.shipping_zone, zone, order.shipping_method, self.policy)
        locations = [loc for loc in self.inventory.locations()
                     if any(s.location_id == loc.location_id for s in order.active_shipments if not s.has_shipped)]
        promises = promises_for(order.model_copy(update={"shipping_address": address}), locations) if locations else {}
        return Repricing(totals=totals, zone=zone, promises=promises)

    def _shipping_paid(self, shipping: Money, order: Order) -> Money:
        """A shipping charge as the customer pays it: with its tax."""
        bps = self.policy.tax_bps_by_country.get(order.shipping_address.country, 0) if self.policy.shipping_taxable \
            else 0
        return shipping + Money(amount=tax_on(shipping.amount, bps), currency=shipping.currency)

    def _pay_back(self, outcome: Outcome) -> None:
        """What the change stopped asking of the customer, at the provider: under the request's own reference, so a
        replay does it once."""
        order, after = outcome.order, outcome.audit.after
        provider = self.payments.named(order.payment.provider)
        reference = f"{order.order_id}:customer:{outcome.audit.audit_id}"
        if after.get("voided_now"):
            provider.void_part(order.payment.authorization_id,
                               Money(amount=after["voided_now"], currency=order.currency), reference=reference)
        if after.get("refunded_now"):
            provider.refund(order.payment.authorization_id,
                            Money(amount=after["refunded_now"], currency=order.currency), reference=f"{reference}:refund")

    def _let_cancelled_parcels_go(self, order: Order) -> None:
        """A cancelled parcel the workflow parked on hold is answered now: ShipShipment runs again and finds it
        cancelled (NothingLeftToShip), instead of waiting for a release or the hold limit. Answering twice is refused
        harmlessly."""
        for shipment in order.shipments:
            if shipment.cancelled and shipment.resume_token and not shipment.has_shipped:
                self.workflow.resume(shipment.resume_token, {"released": True})


def _told(kind: str, message: str, given: GivenBack | None = None) -> Change:
    """A change's facts for its audit entry: what it was, what the customer was told, what comes back to them."""
    detail: dict[str, Any] = {"kind": kind, "message": message}
    if given is not None:
        detail |= {"voided_now": given.voided.amount, "refunded_now": given.refunded.amount}
    return Change(detail=detail)


def _outcome(outcome: Outcome) -> CustomerOutcome:
    """The same answer for the first request and its replays: from what its audit entry recorded."""
    after = outcome.audit.after
    return CustomerOutcome(order=outcome.order, replayed=outcome.replayed, message=after["message"],
                           kind=after["kind"])


def _items(order: Order, shipment_ids: Sequence[str]) -> str:
    """What those parcels carry, as the customer reads it: "1 x Brass dallah, 2 x Sukkari dates, 1 kg"."""
    titles = {line.sku: line.title_in(order.contact.language) for line in order.lines}
    carried = Counter[str]()
    for shipment in order.shipments:
        if shipment.shipment_id in shipment_ids:
            carried.update({item.sku: item.quantity for item in shipment.lines})
    return ", ".join(f"{quantity} x {titles.get(sku, sku)}" for sku, quantity in sorted(carried.items()))


def _check_address(address: Address) -> None:
    problem = address_problem(address)
    if problem is not None:
        field, why = problem
        raise InvalidCustomerDetails(why, field=f"address.{field}")


def _contact(current: Contact, preferred_channel: str, language: str, phone: str | None) -> Contact:
    """The contact as the customer now wants it (the email stays: it is who the order belongs to)."""
    try:
        return Contact.model_validate({"email": current.email, "phone": phone or current.phone,
                                       "preferred_channel": preferred_channel, "language": language})
    except ValidationError as invalid:
        error = invalid.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "preferred_channel"
        raise InvalidCustomerDetails(f"{field}: {error['msg'].removeprefix('Value error, ')}",
                                     field=f"contact.{field}") from None
