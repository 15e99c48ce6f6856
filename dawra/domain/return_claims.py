"""Claims without a return: a parcel that arrived damaged, or with an item missing, reported within the claim window
of its policy (`ReturnPolicy.claim_window_days`, from the day the units were delivered). Nothing comes back: the
damaged unit stays with the customer (no label, no parcel, no inspection, nothing restocked). The claim is a `Return`
of kind `claim` under the order, so it holds its units as a return does (a unit claimed cannot be returned or claimed
again) and its money is a return's money (never more than the order can still give back).

A claim is settled by its policy at once when its value is at most the smallest `auto_settle_claims_up_to` of its
lines' policies (a merchant who sets none settles every claim by hand), otherwise by an agent: refunded (by the way
the customer chose: the original payment; for cash on delivery a bank transfer or store credit), sent again (a
replacement shipment of the order that belongs to the claim, as an exchange's: decision 72), or declined with a
reason the customer is told. The functions here decide on the order and record each step on its timeline; the unit
of work commits them (dawra.app.return_claims)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from dawra.domain.errors import InvalidCustomerDetails
from dawra.domain.invoicing import credit_note_for_return
from dawra.domain.money import Money
from dawra.domain.returns import (
    MAX_COMMENT,
    Asked,
    ClaimReason,
    ClaimRemedy,
    RefundMethod,
    Return,
    ReturnEvent,
    ReturnKind,
    ReturnLine,
    ReturnPolicies,
    ReturnReason,
    ReturnRefused,
    bank_account_for,
    held_lines,
    price_return,
    refund_methods,
    refusals,
    step,
)
from dawra.domain.timeline import TimelineKind

if TYPE_CHECKING:
    from dawra.domain.order import Order

# How a claim's lines are priced and recorded: the merchant's fault either way (no restocking fee, no return
# shipping); the claim itself says which (`Return.claim_reason`).
LINE_REASON = {ClaimReason.ARRIVED_DAMAGED: ReturnReason.DAMAGED, ClaimReason.ITEM_MISSING: ReturnReason.OTHER}


class NotClaimable(enum.StrEnum):
    NOT_DELIVERED = "not_delivered"
    WINDOW_ENDED = "window_ended"
    ALREADY_CLAIMED = "already_claimed"  # every delivered unit is already in a return or a claim


@dataclass(frozen=True)
class Claimable:
    """One order line as the claim form shows it: how many units may be claimed for now, until when, or why none."""

    sku: str
    delivered: int
    held: int  # in returns or claims (open or done)
    quantity: int
    window_ends: date | None
    why_not: NotClaimable | None

    def explain(self) -> str | None:
        return {None: None, NotClaimable.NOT_DELIVERED: "not delivered yet",
                NotClaimable.WINDOW_ENDED: f"claims for it could be made until {self.window_ends}",
                NotClaimable.ALREADY_CLAIMED: "every unit delivered is already returned or claimed"}[self.why_not]


def claimable(order: Order, policies: ReturnPolicies, today: date) -> list[Claimable]:
    """Per line: delivered units less those held by returns and claims, while its policy's claim window is open. A
    final-sale item may be claimed for: arriving damaged or missing is not the customer's choice."""
    found = []
    for line, _, got, back, ends in held_lines(order, policies, lambda p: p.claim_window_days):
        why: NotClaimable | None = None
        if got == 0:
            why = NotClaimable.NOT_DELIVERED
        elif ends is not None and today > ends:
            why = NotClaimable.WINDOW_ENDED
        elif back >= got:
            why = NotClaimable.ALREADY_CLAIMED
        found.append(Claimable(sku=line.sku, delivered=got, held=back, quantity=0 if why else got - back,
                               window_ends=ends, why_not=why))
    return found


# Why a line cannot be claimed as asked (the storefront API's 409): a NotClaimable reason, or one about the request
# (NOT_IN_ORDER, TOO_MANY).
ClaimWhy = NotClaimable | Literal["not_in_order", "too_many"]


class RefusedClaimLine(BaseModel):
    """One line of a claim that cannot be made as asked, and why."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    sku: str
    requested: int = Field(description="The units reported damaged or missing")
    claimable: int = Field(description="The units of it that may be claimed for now (0 when none may)")
    why: ClaimWhy = Field(description=(
        "not_delivered, window_ended (the policy's claim window after delivery), already_claimed (every unit "
        "delivered is in a return or a claim), not_in_order (the order has no such item), too_many (more than "
        "may be claimed for now)"))
    detail: str = Field(description="Why, in English")


class LinesNotClaimable(ReturnRefused):
    """A claim some lines of which cannot be made; `lines` says why for each (the API's 409 lists them)."""

    def __init__(self, order_id: str, status: str, lines: Sequence[RefusedClaimLine]):
        super().__init__(f"order {order_id}", status, "claim",
                         "; ".join(f"{line.sku}: {line.detail}" for line in lines))
        self.lines = tuple(lines)


def refused_claim_lines(choices: Sequence[Claimable], asked: Sequence[tuple[str, int]]) -> list[RefusedClaimLine]:
    """Each asked (sku, quantity) that cannot be claimed for now, with why; empty when every one can (what
    `open_claim` then checks again, one line at a time, as it stores the claim)."""
    return [RefusedClaimLine(sku=sku, requested=requested, claimable=may, why=why, detail=detail)
            for sku, requested, may, why, detail in refusals(choices, asked, "can be claimed for")]


def claim_refund_methods(order: Order, policies: ReturnPolicies, skus: Sequence[str]) -> tuple[RefundMethod, ...]:
    """How a claim's money may go back: what the lines' policies offer (never an exchange: a reship is the claim's
    own remedy); for cash on delivery a bank transfer instead of the original payment."""
    chosen = [policies.resolve(line.return_policy) for line in order.lines if line.sku in skus]
    return tuple(m for m in refund_methods(order, chosen) if m != RefundMethod.EXCHANGE)


@dataclass(frozen=True)
class ClaimRequest:
    """What the customer reports (already parsed)."""

    reason: ClaimReason
    lines: Sequence[tuple[str, int]]  # sku, units damaged or missing
    remedy: ClaimRemedy
    refund_method: RefundMethod  # how money goes back, if it is refunded
    comment: str = ""
    bank_account: str | None = None


def _refused(order: Order, why: str) -> ReturnRefused:
    return ReturnRefused(f"order {order.order_id}", order.status.value, "claim", why)


def open_claim(order: Order, policies: ReturnPolicies, request: ClaimRequest, *, return_id: str, today: date,
               at: str, fingerprint: str, by_agent: bool = False) -> Return:
    """A customer's claim (reported by an agent for them: `by_agent`, which its timeline event says), checked line
    by line (delivered, in its window, not already returned or claimed) and valued as the money it would give back;
    stored `requested` (the caller settles it by its policy, or a person does)."""
    lines = {c.sku: c for c in claimable(order, policies, today)}
    if not request.lines:
        raise InvalidCustomerDetails("choose at least one item", field="lines")
    if len(request.comment) > MAX_COMMENT:
        raise InvalidCustomerDetails(f"a comment has at most {MAX_COMMENT} characters", field="comment")
    seen: set[str] = set()
    for sku, quantity in request.lines:
        if sku not in lines:
            raise InvalidCustomerDetails(f"the order has no item {sku}", field="lines")
        if sku in seen:
            raise InvalidCustomerDetails(f"{sku} is listed twice", field="lines")
        seen.add(sku)
        line = lines[sku]
        if line.why_not is not None:
            raise _refused(order, f"{sku}: {line.explain()}")
        if not 1 <= quantity <= line.quantity:
            raise _refused(order, f"{sku}: {line.quantity} unit(s) can be claimed for, not {quantity}")
    allowed = claim_refund_methods(order, policies, [sku for sku, _ in request.lines])
    if request.refund_method not in allowed:
        raise _refused(order, f"{request.refund_method.value} is not offered for these items (offered: "
                              f"{', '.join(m.value for m in allowed)})")
    account = bank_account_for(request.refund_method, request.bank_account)
    reason = LINE_REASON[request.reason]
    estimate, _ = price_return(order, policies, [Asked(sku, n, ReturnReason.DAMAGED) for sku, n in request.lines],
                               None)
    sold = {line.sku: line for line in order.lines}
    chosen = [policies.resolve(sold[sku].return_policy) for sku, _ in request.lines]
    comment = request.comment.strip()
    ret = Return(return_id=return_id, order_id=order.order_id, kind=ReturnKind.CLAIM, method=None,
                 lines=[ReturnLine(sku=sku, quantity=n, reason=reason, comment=comment,
                                   policy=sold[sku].return_policy or policies.legacy_ref)
                        for sku, n in request.lines],
                 refund_method=request.refund_method, location_id=_delivered_from(order, request.lines[0][0]),
                 estimate=estimate, bank_account=account, fingerprint=fingerprint, requested_at=at,
                 claim_reason=request.reason, claim_remedy=request.remedy,
                 auto_settle_up_to=min(p.auto_settle_claims_up_to for p in chosen))
    ret.approval_required = not settles_by_itself(ret)
    order.add_return(ret)
    order.return_changed(ret, TimelineKind.CLAIM_OPENED, at, {
        "items": ",".join(f"{sku}:{n}" for sku, n in request.lines), "reason": request.reason.value,
        "remedy": request.remedy.value, "estimate": str(estimate.total.amount), "currency": estimate.total.currency,
        "by_itself": "true" if not ret.approval_required else "false", **({"by": "agent"} if by_agent else {})},
        header=True)
    return ret


def _delivered_from(order: Order, sku: str) -> str:
    """The location the claimed items left from (where a reship would most naturally leave too)."""
    for shipment in order.shipments:
        if shipment.delivered_at and not shipment.for_return and any(line.sku == sku for line in shipment.lines):
            return shipment.location_id
    return order.shipments[0].location_id if order.shipments else ""


def settles_by_itself(ret: Return) -> bool:
    """Worth no more than its policies let settle without a person (a threshold of 0: never by itself)."""
    return ret.auto_settle_up_to > 0 and ret.estimate.total.amount <= ret.auto_settle_up_to


def claim_value(order: Order, policies: ReturnPolicies, ret: Return) -> Money:
    """What refunding the claim would give back now (never more than the order can still give back)."""
    breakdown, _ = price_return(order, policies, [Asked(line.sku, line.quantity, ReturnReason.DAMAGED)
                                                  for line in ret.lines], None, excluding=ret.return_id)
    return breakdown.total


def _claim(order: Order, return_id: str, event: ReturnEvent) -> Return:
    ret = order.return_of(return_id)
    if not ret.is_claim or not ret.can(event):
        raise ReturnRefused(f"claim {return_id}", ret.status.value, event.value,
                            None if ret.is_claim else "it is a return, not a claim")
    return ret


def refund_claim(order: Order, policies: ReturnPolicies, return_id: str, *, by: str, at: str) -> Money:
    """Settle with money, priced now (items and their tax; the shipping too once every delivered unit is back or
    claimed for the merchant's fault), never more than the order can still give back. Recorded here; the caller
    pays out what this returns (zero for store credit) under the claim's own reference."""
    ret = _claim(order, return_id, ReturnEvent.REFUND_CLAIM)
    breakdown, parts = price_return(order, policies, [Asked(line.sku, line.quantity, ReturnReason.DAMAGED)
                                                      for line in ret.lines], None, excluding=return_id)
    ret.lines = [line.model_copy(update={"refund": parts[line.sku]}) for line in ret.lines]
    ret.settlement, ret.refunded, ret.refunded_at = breakdown, breakdown.total, at
    ret.decided_at, ret.decided_by = at, by
    paid_out = breakdown.total if ret.refund_method != RefundMethod.STORE_CREDIT else Money.zero(order.currency)
    if paid_out.amount:
        order.payment = order.payment.model_copy(update={"refunded": order.payment.refunded + paid_out})
    detail = {"amount": str(breakdown.total.amount), "currency": breakdown.total.currency,
              "refund_method": ret.refund_method.value, "by": _who(by)}
    if ret.bank_account:
        detail["account_ending"] = ret.bank_account[-4:]
    step(order, return_id, ReturnEvent.REFUND_CLAIM, at, detail, header=True)
    order.issue(credit_note_for_return(order, ret, at))  # store credit too: the sale was worth less
    return paid_out


def reship_claim(order: Order, return_id: str, *, by: str, at: str) -> Return:
    """Settle by sending the claimed items again (the caller holds the replacement in the same commit)."""
    ret = _claim(order, return_id, ReturnEvent.RESHIP)
    ret.decided_at, ret.decided_by = at, by
    return step(order, return_id, ReturnEvent.RESHIP, at, {
        "items": ",".join(f"{line.sku}:{line.quantity}" for line in ret.lines), "by": _who(by)})


def decline_claim(order: Order, return_id: str, *, by: str, at: str, why: str) -> Return:
    """An agent declines, saying why (the customer is told); its units may be claimed or returned again."""
    if not why.strip():
        raise InvalidCustomerDetails("say why the claim is declined: the customer is told", field="reason")
    ret = _claim(order, return_id, ReturnEvent.DECLINE)
    ret.decided_at, ret.decided_by = at, by
    ret.decline_reason = why.strip()[:MAX_COMMENT]
    return step(order, return_id, ReturnEvent.DECLINE, at, {"reason": ret.decline_reason})


def _who(by: str) -> str:
    return "policy" if by == "policy" else "agent"
