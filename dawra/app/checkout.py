"""Checkout: turn a storefront's request into a priced, authorised and committed order.

Its lifecycle starts from that commit (the Orders stream's `order_confirmed` record: dawra.app.lifecycle, decision
114), not on the request path: checkout reads once and writes once.

Idempotent by construction: the Idempotency-Key's record is written in the same commit as the order, conditionally,
so one key makes one order; a replay of the same request returns that order; the same key with a different request
is refused.

Honest: an order the stock visibly cannot cover (across every location) is refused before anything is authorised or
written, with what each short line asked for and what there is; the promise shown at checkout is the estimate from
the locations the allocation would choose as the stock stands. The catalog and the stock come in one read."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Protocol

from dawra.app.payments import schedule_renewal
from dawra.app.risk import RiskInputs, RiskScreening, held_for_review
from dawra.contracts.api import PlaceOrderRequest
from dawra.domain.accounts import ON_ACCOUNT, OnAccount, decide
from dawra.domain.allocation import Location, plan_allocation
from dawra.domain.audit import AuditEntry
from dawra.domain.availability import NO_BACKORDERS, BackorderPolicy, ShortOfStock, shortages
from dawra.domain.cod_rules import CodRules, default_rules
from dawra.domain.customer import Address, Contact
from dawra.domain.errors import (
    CatalogProblem,
    ConcurrentChange,
    IdempotencyKeyReused,
    InvalidOrder,
    PickupNotOffered,
    TransientError,
)
from dawra.domain.gift import Gift
from dawra.domain.holds import Hold, HoldKind, HoldReason
from dawra.domain.money import Money
from dawra.domain.order import CASH_ON_DELIVERY, Order, PaymentState
from dawra.domain.payment_events import checkout_reference
from dawra.domain.pickup import PICKUP
from dawra.domain.pricing import PricingError, RequestedLine, price_order, shipping_zone
from dawra.domain.promise import counted_from, latest_promise
from dawra.domain.returns import ReturnPolicies, default_policies
from dawra.domain.risk import Counter, RiskOutcome
from dawra.domain.time import iso
from dawra.ports import (
    Clock,
    CustomerAccounts,
    IdempotencyRecord,
    InventoryRepository,
    Later,
    OpsAlerts,
    OrderRepository,
    PaymentProvider,
    UnitOfWork,
)

# A cash-on-delivery order its country's rules ask the customer to confirm (their order link, or an SMS reply).
COD_CONFIRMATION_HOLD = Hold(kind=HoldKind.COD_CONFIRMATION, reason="the customer confirms it (order link or SMS)",
                             reasons=[HoldReason(code="cod_confirmation",
                                                 en="Cash on delivery: waiting for the customer's confirmation",
                                                 ar="الدفع عند الاستلام: بانتظار تأكيد العميل")])
ACCOUNT_ATTEMPTS = 4  # an order on account that lost the last of the credit limit to another is decided again


def new_order_id() -> str:
    """Random and opaque (128 bits): nothing about the client or the key can be read from it or guessed."""
    return "ord_" + secrets.token_hex(16)


def key_hash(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


class OrderRequest(Protocol):
    """What any checkout needs from its request (the storefront's, or an agent's for a customer)."""

    @property
    def customer_id(self) -> str: ...
    @property
    def contact(self) -> Contact: ...
    @property
    def shipping_address(self) -> Address: ...
    @property
    def shipping_method(self) -> str: ...
    @property
    def lines(self) -> Sequence[RequestedLine]: ...
    @property
    def gift(self) -> Gift | None: ...

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


Authorize = Callable[[Money, str], tuple[str, str]]


def fingerprint(request: OrderRequest) -> str:
    dumped = request.model_dump(mode="json")
    if dumped.get("gift") is None:  # not a gift: the fingerprint a request had before gifts existed
        dumped.pop("gift", None)
    if dumped.get("delivery") is None:  # delivered, not collected: as before store pickup existed
        dumped.pop("delivery", None)
    if dumped.get("payment_method") == "card":  # by card: as before orders on account existed
        dumped.pop("payment_method")
        dumped.pop("po_number", None)
    canonical = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Checkout:
    def __init__(self, orders: OrderRepository, inventory: InventoryRepository, uow: UnitOfWork,
                 payments: PaymentProvider, alerts: OpsAlerts, clock: Clock,
                 backorders: BackorderPolicy = NO_BACKORDERS, return_policies: ReturnPolicies | None = None,
                 accounts: CustomerAccounts | None = None, on_account: PaymentProvider | None = None,
                 later: Later | None = None, screening: RiskScreening | None = None,
                 cod: PaymentProvider | None = None):
        self.orders, self.inventory, self.uow = orders, inventory, uow
        self.screening = screening  # fraud screening (dawra.app.risk); None: every order accepted
        self.cod = cod  # cash on delivery (nothing is authorised: its provider only names what the courier collects)
        self.accounts, self.on_account = accounts, on_account  # business accounts (dawra.domain.accounts)
        self.payments, self.alerts, self.clock = payments, alerts, clock
        self.backorders = backorders
        self.later = later  # renewing card authorisations that may lapse before the order ships
        self.return_policies = return_policies or default_policies()

    cod_rules: CodRules | None = None  # None: dawra/domain/cod_rules.json

    def place_order(self, idempotency_key: str, request: PlaceOrderRequest) -> Order:
        if request.payment_method == ON_ACCOUNT:
            return self._place_on_account(idempotency_key, request)
        if request.payment_method == CASH_ON_DELIVERY:
            return self._place_cash_on_delivery(idempotency_key, request)
        provider = self.payments
        return self.place(idempotency_key, request, lambda total, reference: (
            provider.name, provider.authorize(request.payment_token or "", total, reference=reference)),
            authorization_validity=provider.authorization_validity,
            risk=RiskInputs(card_token=request.payment_token,
                            client_ip=request.client_ip,
                            billing_country=request.billing_address.country if request.billing_address else None))

    def place(self, idempotency_key: str, request: OrderRequest, authorize: Authorize, *,
              placed_by: str | None = None, hold_reason: str | None = None, hold: Hold | None = None,
              audit: Callable[[Order], AuditEntry] | None = None,
              on_account: Callable[[Money], OnAccount] | None = None,
              authorization_validity: timedelta | None = None, risk: RiskInputs | None = None,
              cash_on_delivery: bool = False) -> Order:
        """Price, authorise (how: `authorize(total, reference)` -> (provider name, authorization id)), store the
        order with its idempotency record (and, for an operator, its audit entry) in one commit (its lifecycle starts
        from that commit).
        `hold` (dawra.domain.holds; or an operator's `hold_reason`): the order waits in that hold once its stock is
        reserved, until the kind's decider releases or rejects it, or its time runs out.
        `risk`: what the fraud screening needs beyond the request (the card's token, the client's IP, ...): refused,
        nothing is authorised or written but the refusal's record; to review, the order is held (`fraud_review`).
        """
        key, print_ = key_hash(idempotency_key), fingerprint(request)
        risk = risk or RiskInputs()
        if placed_by and not risk.placed_by:
            risk = replace(risk, placed_by=placed_by)
        identities = self.screening.identities(request.contact, risk) if self.screening else []
        locations = self.inventory.locations()
        store = pickup_store(request, locations, cash_on_delivery)  # store pickup: that store only, no shipping
        method = PICKUP if store is not None else request.shipping_method
        skus, location_ids = [line.sku for line in request.lines], [loc.location_id for loc in locations]
        counters: dict[str, Counter] = {}
        try:
            if identities:  # the counters come in the catalog's read: no request of their own
                catalog, available, counters = self.inventory.catalog_stock_and_counters(
                    skus, location_ids, [identity.key for identity in identities])
            else:
                catalog, available = self.inventory.catalog_and_stock(skus, location_ids)
        except CatalogProblem as problem:
            self.alerts.catalog_problem(problem.sku, problem.message)
            raise
        try:
            lines, totals = price_order(list(request.lines), catalog, request.shipping_address.country,
                                        method, city=request.shipping_address.city,
                                        gift_wrap=request.gift is not None and request.gift.wrap)
        except PricingError as error:
            raise InvalidOrder(error.message, field=error.field) from None
        if cash_on_delivery:  # allowed in the country, under its maximum; its fee a line of the totals
            totals = (self.cod_rules or default_rules()).price(totals, request.shipping_address.country)
        # Each line keeps the return policy it is sold under: the order is judged by that version forever.
        lines = [line.model_copy(update={"return_policy": self.return_policies.ref_for(
            line.sku, catalog[line.sku].category)}) for line in lines]
        wanted = {line.sku: line.quantity for line in request.lines}
        if store is not None:  # reserved at the store only: its stock alone counts, and nothing is backordered
            available = {key: units for key, units in available.items() if key[1] == store.location_id}
        # Backorders and preorders: the catalog's stock policies (or the policy this checkout was given); none for a
        # store pickup.
        backorders = NO_BACKORDERS if store is not None else self.backorders if self.backorders.backorderable \
            else BackorderPolicy.of({sku: item.stock_policy for sku, item in catalog.items()}, self.clock.now().date())
        short = shortages(wanted, available, backorders)
        if short:
            # Unless this is the replay of an order placed while there was stock (its answer was lost): that order.
            earlier = self._earlier(key, print_)
            if earlier is None:
                raise ShortOfStock(short)
            return earlier
        screened = self.screening.judge(
            identities, counters, country=request.shipping_address.country, total=totals.total,
            postcode=request.shipping_address.postal_code, inputs=risk) if self.screening else None
        if self.screening is not None and screened is not None and screened.verdict.outcome == RiskOutcome.REFUSE:
            earlier = self._earlier(key, print_)  # a replay of an order placed before it counted: that order
            if earlier is None:
                self.screening.refuse(screened.verdict, identities, country=request.shipping_address.country,
                                      total=totals.total, inputs=risk)
            return earlier
        placed_at = self.clock.now()
        awaiting = backorders.awaited(wanted, available, placed_at.date())  # None: an ordinary order
        # The key is the provider's reference too: a retried checkout re-authorises nothing.
        provider_name, authorization_id = authorize(totals.total, checkout_reference(key))
        zero = totals.total.model_copy(update={"amount": 0})
        order = Order.place(
            order_id=new_order_id(), customer_id=request.customer_id, placed_at=iso(placed_at),
            promised_by=estimate(placed_at, request, wanted, available, [store] if store else locations,
                                 method, awaiting.due if awaiting else None).isoformat(),
            contact=request.contact,
            shipping_address=request.shipping_address, shipping_method=method, lines=lines,
            totals=totals, payment=PaymentState(provider=provider_name, authorization_id=authorization_id,
                                                authorized=totals.total, captured=zero, refunded=zero,
                                                expires_at=iso(placed_at + authorization_validity)
                                                if authorization_validity else None),
            placed_by=placed_by, hold_reason=hold_reason, hold=hold,
            shipping_zone=shipping_zone(request.shipping_address.country, request.shipping_address.city),
            gift=request.gift, pickup_location=store.location_id if store is not None else None, awaiting=awaiting)
        terms = on_account(totals.total) if on_account else None
        if terms is not None:  # on account: held over the credit limit, else added only while it still fits
            order.account = terms.terms
            if terms.hold:
                order.pending_hold = terms.hold
            if terms.ceiling is not None:
                order.within_credit(terms.ceiling)
        if screened is not None:  # to review: held for an agent (or the kind already asked for, with the reasons)
            order.pending_hold = held_for_review(screened.verdict, order.pending_hold)
        try:
            self.uow.commit(order=order, markers=[IdempotencyRecord(key_hash=key, order_id=order.order_id,
                                                                    fingerprint=print_),
                                                  *(screened.counts if screened else [])],
                            audit=[audit(order)] if audit else [])
        except ConcurrentChange as race:
            if race.parts == {"account"}:
                raise  # the credit limit filled up meanwhile: decided again (_place_on_account)
            order = self._placed_before(key, print_)
        if self.later is not None and order.payment.expires_at:  # only an order that may wait past it: a job
            # A store pickup waits days for its customer too: its authorisation is renewed as a held order's is.
            schedule_renewal(self.later, order, held=order.pending_hold is not None or order.held_as is not None
                             or order.pickup_location is not None,
                             backordered=awaiting is not None or bool(shortages(wanted, available, NO_BACKORDERS)))
        return order

    def _place_on_account(self, idempotency_key: str, request: PlaceOrderRequest) -> Order:
        """A business customer's order on its terms: nothing charged now. Over the credit limit (the open balance
        with it), it is placed and held for a manager's approval; an order that lost the last of the limit to
        another one placed meanwhile is decided again on the new balance."""
        provider, accounts = self.on_account, self.accounts
        if provider is None or accounts is None:
            raise InvalidOrder("this shop takes no orders on account", field="payment_method")
        for _ in range(ACCOUNT_ATTEMPTS):
            account = accounts.account(request.customer_id)
            if account is None:
                raise InvalidOrder("this customer has no business account: pay by card", field="payment_method")
            try:
                return self.place(idempotency_key, request, lambda total, reference: (
                    provider.name, provider.authorize("", total, reference=reference)),
                    on_account=partial(decide, account, request.po_number or ""))
            except ConcurrentChange:
                continue
        raise TransientError("the business account kept changing; retry with the same Idempotency-Key")

    def _place_cash_on_delivery(self, idempotency_key: str, request: PlaceOrderRequest) -> Order:
        """Paid in cash at the door: nothing is authorised (the provider only names the amount the courier is to
        collect), and the country's rules decide whether it is offered, up to what total, and its fee."""
        cod = self.cod
        if cod is None:
            raise InvalidOrder("this shop takes no cash on delivery", field="payment_method")
        rule = (self.cod_rules or default_rules()).rule_for(request.shipping_address.country)
        return self.place(idempotency_key, request, lambda total, reference: (
            cod.name, cod.authorize("cash", total, reference=reference)), cash_on_delivery=True,
            hold=COD_CONFIRMATION_HOLD if rule.confirm else None,
            risk=RiskInputs(client_ip=request.client_ip,
                            billing_country=request.billing_address.country if request.billing_address else None,
                            cash_on_delivery=True))

    def _placed_before(self, key: str, print_: str) -> Order:
        """An earlier attempt with this key committed (or ours did, and its answer was lost)."""
        existing = self._earlier(key, print_)
        if existing is None:
            raise TransientError("the checkout's commit was refused for another reason; retry with the same key")
        return existing

    def _earlier(self, key: str, print_: str) -> Order | None:
        """The order an earlier attempt with this key placed, or None when it placed none."""
        record = self.orders.idempotency_record(key)
        if record is None:
            return None
        if record.fingerprint != print_:
            raise IdempotencyKeyReused("this Idempotency-Key was used for a different order")
        existing = self.orders.get(record.order_id)
        if existing is None:
            raise TransientError("the order for this Idempotency-Key is not readable yet; retry")
        return existing


def pickup_store(request: OrderRequest, locations: Sequence[Location], cash_on_delivery: bool) -> Location | None:
    """The store a pickup order is collected at (None: delivered). Refused: a store without a pickup desk (or
    unknown), one in another country than the customer's address, or an order paid in cash on delivery."""
    choice = getattr(request, "delivery", None)
    if choice is None:
        return None
    store = next((loc for loc in locations if loc.location_id == choice.location_id), None)
    if store is None or store.pickup is None:
        raise PickupNotOffered(f"{choice.location_id} offers no store pickup", field="delivery.location_id")
    if store.country != request.shipping_address.country:
        raise PickupNotOffered(f"{choice.location_id} is not in {request.shipping_address.country}",
                               field="delivery.location_id")
    if cash_on_delivery:
        raise PickupNotOffered("an order collected at a store is paid by card or on account",
                               field="payment_method")
    return store


def estimate(placed_at: datetime, request: OrderRequest, wanted: Mapping[str, int],
             available: Mapping[tuple[str, str], int], locations: Sequence[Location],
             method: str | None = None, due: date | None = None) -> date:
    """The promise shown at checkout: the latest of the locations the allocation would choose as the stock stands
    (the reservation then sets each shipment's own, from the locations it actually takes). A line let through by a
    backorder policy cannot be allocated: the latest promise of every location stands in for it. `due`: the order
    waits for stock due that day (a restock, a release): counted from it (dawra.domain.promise.counted_from)."""
    picks = plan_allocation(dict(wanted), dict(available), list(locations))
    chosen = {pick.location_id for pick in picks or []}
    return latest_promise(counted_from(placed_at, due),
                          [loc for loc in locations if loc.location_id in chosen] or locations,
                          request.shipping_address.country, method or request.shipping_method)
