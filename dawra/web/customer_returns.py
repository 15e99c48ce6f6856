"""The customer's returns on their order page: reading the return form, and what the page shows of each return.

The flow (dawra/web/customer.py routes it): the order page offers "Return items" once something can go back
(`ReturnChoices`); the form lists every line with how many units may be returned, or why none; the customer picks
quantities, a reason and an optional comment per line, how the parcel comes back (a label to print, a courier
pickup on one of the days and in one of the windows the carrier offers, or a store of their choice) and how they are
paid back (the ways the lines' policies allow; a bank transfer, with an IBAN, for cash-on-delivery orders); a review
step shows the refund estimate in parts and carries the choice
in hidden fields to the confirm button, with the request key that makes a double submit one return.

A courier pickup whose label is issued, nothing picked up yet, can be moved ("Choose another pickup day", also the
link in the "the courier did not come" message): `GET|POST /my-order/<token>/returns/<return_id>/pickup` offers the
carrier's days in the return form's select, and the change is made once per form key.

Nothing here trusts the form: a quantity beyond what may be returned, a reason, method or store not offered, an
IBAN that does not check out are each a field problem in the customer's language, and nothing is created."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from dawra.app.returns import ReturnChoices
from dawra.domain.allocation import Location
from dawra.domain.errors import InvalidCustomerDetails
from dawra.domain.order import Order
from dawra.domain.return_lines import home_location, stores
from dawra.domain.returns import (
    MAX_COMMENT,
    PickupSlot,
    RefundBreakdown,
    RefundMethod,
    Return,
    ReturnMethod,
    ReturnReason,
    ReturnRequest,
    valid_iban,
)
from dawra.web.forms import FormInvalid
from dawra.web.http import WebRequest


class CustomerReturns(Protocol):
    """What the page needs of the returns use cases (dawra.bootstrap.build_returns gives them)."""

    def returnable_lines(self, order_id: str) -> ReturnChoices: ...

    def estimate(self, order_id: str, request: ReturnRequest) -> RefundBreakdown: ...

    def start(self, order_id: str, request_key: str, request: ReturnRequest) -> Return: ...


Locations = Callable[[], Sequence[Location]]


class PickupChanger(Protocol):
    """dawra.app.returns.ChangePickupDay, as the page uses it."""

    def offered(self, order_id: str, return_id: str) -> tuple[PickupSlot, ...]: ...

    def __call__(self, order_id: str, return_id: str, key: str, slot: PickupSlot) -> Any: ...


@runtime_checkable
class CustomerPickups(Protocol):
    """What the page needs to move a return's courier (dawra.bootstrap.Returns has it; None: not offered)."""

    change_pickup: PickupChanger | None


@dataclass(frozen=True)
class ReturnForm:
    """What the customer chose, read and checked: the request, and each chosen line's comment as typed."""

    request: ReturnRequest

    @property
    def quantities(self) -> dict[str, int]:
        return {sku: quantity for sku, quantity, _, _ in self.request.lines}


def read_return_form(request: WebRequest, order: Order, choices: ReturnChoices, places: Sequence[Location],
                     say: Callable[[str], str]) -> ReturnForm:
    """The return the form asks for, or FormInvalid listing every problem (in the customer's words, via `say`)."""
    problems: list[tuple[str, str]] = []
    lines: list[tuple[str, int, ReturnReason, str]] = []
    for line in choices.lines:
        typed = request.field(f"qty.{line.sku}").strip() or "0"
        if line.quantity == 0:
            if typed != "0":
                problems.append(("lines", say("return.problem.not_returnable")))
            continue
        if not typed.isdigit() or not 0 <= int(typed) <= line.quantity:
            problems.append(("quantity", say("return.problem.quantity")))
            continue
        if int(typed) == 0:
            continue
        reason, comment = request.field(f"reason.{line.sku}"), request.field(f"comment.{line.sku}").strip()
        if reason not in set(ReturnReason):
            problems.append(("reason", say("return.problem.reason")))
            continue
        if len(comment) > MAX_COMMENT:
            problems.append(("comment", say("return.problem.comment")))
            continue
        lines.append((line.sku, int(typed), ReturnReason(reason), comment))
    if not lines and not problems:
        problems.append(("lines", say("return.problem.no_lines")))
    method = request.field("method")
    if method not in set(choices.return_methods):
        problems.append(("method", say("return.problem.method")))
    refund = request.field("refund_method")
    if refund not in set(choices.refund_methods):
        problems.append(("refund_method", say("return.problem.refund_method")))
    location = home_location(order, [sku for sku, *_ in lines])
    pickup = None
    if method == ReturnMethod.PICKUP:  # one of the days and windows the carrier offers, as the page listed them
        pickup = PickupSlot.parse(request.field("pickup"))
        if pickup not in choices.pickup_days:
            problems.append(("pickup", say("return.problem.pickup")))
    if method == ReturnMethod.STORE:
        location = request.field("store")
        if location not in {place.location_id for place in stores(places)}:
            problems.append(("store", say("return.problem.store")))
    exchanges: dict[str, str] = {}
    if refund == RefundMethod.EXCHANGE:  # each chosen line names a size or variant the page offered for it
        for sku, *_ in lines:
            wanted = request.field(f"exchange.{sku}")
            if wanted not in {item.sku for item in choices.exchanges.get(sku, [])}:
                problems.append(("exchange", say("return.problem.exchange")))
                break
            exchanges[sku] = wanted
    account = read_bank_account(request, refund, problems, say)
    if problems:
        raise FormInvalid(problems)
    return ReturnForm(ReturnRequest(lines=lines, method=ReturnMethod(method), refund_method=RefundMethod(refund),
                                    location_id=location, bank_account=account, exchanges=exchanges,
                                    pickup=pickup))


def read_bank_account(request: WebRequest, refund: str, problems: list[tuple[str, str]],
                      say: Callable[[str], str]) -> str | None:
    """The IBAN typed for a refund by bank transfer, checked (a problem added to `problems` when it is not valid);
    None for any other refund method. The return form's and the claim form's."""
    if refund != RefundMethod.BANK_TRANSFER:
        return None
    try:
        return valid_iban(request.field("iban"))
    except InvalidCustomerDetails:
        problems.append(("iban", say("return.problem.iban")))
        return None


def masked_iban(iban: str | None) -> str:
    return f"•••• {iban[-4:]}" if iban else ""
