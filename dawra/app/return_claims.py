"""Claims without a return, as the customer and the agents live them (dawra.domain.return_claims decides): the
customer reports a parcel that arrived damaged or with an item missing; a claim worth no more than its policies'
threshold settles in the same commit (sent again when the customer asked for it and one location has every unit,
else refunded), any other waits for an agent, who refunds (within the role's refund limit), sends the items again or
declines with a reason. The claim's own workflow (the return lifecycle's claim branch) pays a refund out, ships a
reship and follows it to the door, and tells operations when a claim waits too long for an agent.

Each step is safe to repeat: one request key is one claim (the same key with another claim is refused); an agent's
decision is one audit entry per key; a refund is recorded first and paid out by the workflow under the claim's own
reference, so a retry pays once; a replacement is held once (its id derives from the claim's)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from dawra.app.changes import Change, ChangeOrder, Outcome
from dawra.app.common import load, now_iso, retry_on_race
from dawra.app.returns import OutOfStock, Replacements, _find, _resume
from dawra.domain.access import Actor, Permission, authorize, authorize_refund
from dawra.domain.errors import IdempotencyKeyReused
from dawra.domain.inventory import StockMove
from dawra.domain.money import Money
from dawra.domain.order import Order
from dawra.domain.return_claims import (
    Claimable,
    ClaimRequest,
    claim_refund_methods,
    claim_value,
    claimable,
    decline_claim,
    open_claim,
    refund_claim,
    reship_claim,
)
from dawra.domain.returns import (
    ClaimRemedy,
    RefundMethod,
    Return,
    ReturnPolicies,
    ReturnRefused,
    ReturnStatus,
    default_policies,
    return_id_for,
)
from dawra.ports import AuditLog, Clock, InventoryRepository, OrderRepository, UnitOfWork, Workflow


def claim_fingerprint(request: ClaimRequest) -> str:
    asked = {"kind": "claim", "reason": request.reason.value, "lines": [list(line) for line in request.lines],
             "remedy": request.remedy.value, "refund_method": request.refund_method.value,
             "comment": request.comment, "bank_account": request.bank_account}
    return hashlib.sha256(json.dumps(asked, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ClaimChoices:
    """What the claim form offers: per line, how many units may be claimed for now (or why none), and how money
    would go back."""

    lines: list[Claimable]
    refund_methods: tuple[RefundMethod, ...]

    @property
    def open(self) -> bool:
        return any(line.quantity for line in self.lines)


class ClaimableLines:
    def __init__(self, orders: OrderRepository, clock: Clock, policies: ReturnPolicies | None = None):
        self.orders, self.clock, self.policies = orders, clock, policies or default_policies()

    def __call__(self, order_id: str) -> ClaimChoices:
        order = load(self.orders, order_id)
        lines = claimable(order, self.policies, self.clock.now().date())
        open_ = [line.sku for line in lines if line.quantity]
        return ClaimChoices(lines, claim_refund_methods(order, self.policies, open_) if open_ else ())


class RequestClaim:
    """The customer reports a problem with a delivered parcel, themselves or through an agent on the phone (`by`:
    the same claim, committed with the agent's audit entry). One request key is one claim: asked again, the same
    claim. Settled by its policy in the same commit when its value allows."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, clock: Clock, inventory: InventoryRepository,
                 policies: ReturnPolicies | None = None, audit: AuditLog | None = None):
        self.orders, self.uow, self.clock = orders, uow, clock
        self.policies = policies or default_policies()
        self.replacements = Replacements(inventory, clock)
        self.change = ChangeOrder(orders, uow, audit, clock) if audit is not None else None

    def __call__(self, order_id: str, request_key: str, request: ClaimRequest, *, by: Actor | None = None) -> Return:
        if by is not None:
            return self._for_customer(by, order_id, request_key, request)
        return_id, print_ = return_id_for(order_id, request_key), claim_fingerprint(request)

        def attempt() -> Return:
            order = load(self.orders, order_id)
            earlier = self._earlier(order, return_id, print_)
            if earlier is not None:
                return earlier
            ret, holds = self._open(order, request, return_id, print_, by_agent=False)
            self.uow.commit(order=order, stock=holds)
            return ret

        return retry_on_race(attempt, f"a claim on {order_id}")

    def _for_customer(self, actor: Actor, order_id: str, request_key: str, request: ClaimRequest) -> Return:
        """An agent reports it for the customer (REFUND: who may settle claims may open one; its policy settles
        it as the customer's own, and any other waits for an agent's decision within their limit). Audited as
        every operator's change: one entry per agent and key, with the claim's id."""
        authorize(actor, Permission.REFUND)
        if self.change is None:
            raise RuntimeError("RequestClaim needs the audit log to take a claim from an agent")
        return_id, print_ = return_id_for(order_id, request_key), claim_fingerprint(request)

        def decision(order: Order, ref: str) -> Change:
            earlier = self._earlier(order, return_id, print_)
            ret, holds = (earlier, []) if earlier is not None else self._open(order, request, return_id, print_,
                                                                              by_agent=True)
            return Change(stock=list(holds), detail={
                "return_id": return_id, "return_status": ret.status.value, "claim_reason": request.reason.value,
                "claim_remedy": request.remedy.value,
                "items": ",".join(f"{sku}:{n}" for sku, n in request.lines)})

        outcome = self.change(actor, order_id, request_key, "open_claim", request.comment or None, decision,
                              {"claim": print_})
        return outcome.order.return_of(return_id)

    @staticmethod
    def _earlier(order: Order, return_id: str, print_: str) -> Return | None:
        earlier = next((r for r in order.returns if r.return_id == return_id), None)
        if earlier is not None and earlier.fingerprint != print_:
            raise IdempotencyKeyReused("this request key was used for another return or claim")
        return earlier

    def _open(self, order: Order, request: ClaimRequest, return_id: str, print_: str, *,
              by_agent: bool) -> tuple[Return, list[StockMove]]:
        at = now_iso(self.clock)
        ret = open_claim(order, self.policies, request, return_id=return_id, today=self.clock.now().date(), at=at,
                         fingerprint=print_, by_agent=by_agent)
        holds: list[StockMove] = []
        if not ret.approval_required:  # its policy settles it: a reship if asked and in stock, else money
            holds = self._settle_by_policy(order, ret, at)
        return ret, holds

    def _settle_by_policy(self, order: Order, ret: Return, at: str) -> list[StockMove]:
        if ret.claim_remedy == ClaimRemedy.RESHIP:
            try:
                self.replacements.check(order, ret)
            except OutOfStock:
                pass  # none to send from one location: the money instead (the message says so)
            else:
                reship_claim(order, ret.return_id, by="policy", at=at)
                return self.replacements.hold(order, ret, at)
        refund_claim(order, self.policies, ret.return_id, by="policy", at=at)
        return []

class StartClaim:
    """The customer's claim (or an agent's for them: `by`), then its workflow (the return lifecycle, named after the
    claim): one request key, one claim, one execution. A failure to start leaves the claim stored; asking again
    starts it."""

    def __init__(self, request: RequestClaim, workflow: Workflow):
        self.request, self.workflow = request, workflow

    def __call__(self, order_id: str, request_key: str, request: ClaimRequest, *, by: Actor | None = None) -> Return:
        ret = self.request(order_id, request_key, request, by=by)
        self.workflow.start_return(order_id, ret.return_id)
        return ret


class DecideClaim:
    """An agent settles a claim its policy left to a person: refund it (within the role's refund limit, counting what
    the order already gave back), send the items again (the claim's value counts against the same limit: it is
    what the shop gives), or decline it with a reason. Audited as every operator's change; the workflow waiting on
    the claim goes on (pays the refund out, or ships the replacement)."""

    def __init__(self, orders: OrderRepository, uow: UnitOfWork, audit: AuditLog, workflow: Workflow, clock: Clock,
                 inventory: InventoryRepository, policies: ReturnPolicies | None = None):
        self.change, self.workflow, self.clock = ChangeOrder(orders, uow, audit, clock), workflow, clock
        self.policies = policies or default_policies()
        self.replacements = Replacements(inventory, clock)

    def refund(self, actor: Actor, order_id: str, return_id: str, key: str) -> Outcome:
        def decision(order: Order, ref: str) -> Change:
            self._within_limit(actor, order, return_id)
            refund_claim(order, self.policies, _find(order, return_id).return_id, by=actor.user_id,
                         at=now_iso(self.clock))
            ret = order.return_of(return_id)
            return Change(detail={"return_id": return_id, "return_status": ret.status.value,
                                  "claim_refund": (ret.refunded or Money.zero(order.currency)).amount})

        return self._decide(actor, order_id, return_id, key, "refund_claim", None, decision)

    def reship(self, actor: Actor, order_id: str, return_id: str, key: str) -> Outcome:
        def decision(order: Order, ref: str) -> Change:
            self._within_limit(actor, order, return_id)
            at = now_iso(self.clock)
            ret = reship_claim(order, _find(order, return_id).return_id, by=actor.user_id, at=at)
            holds = self.replacements.hold(order, ret, at)  # none in stock at one location: refused, nothing kept
            return Change(stock=list(holds), detail={"return_id": return_id, "return_status": ret.status.value,
                                                     "replacement_id": ret.replacement_id})

        return self._decide(actor, order_id, return_id, key, "reship_claim", None, decision)

    def decline(self, actor: Actor, order_id: str, return_id: str, key: str, why: str) -> Outcome:
        authorize(actor, Permission.REFUND)

        def decision(order: Order, ref: str) -> Change:
            ret = decline_claim(order, _find(order, return_id).return_id, by=actor.user_id, at=now_iso(self.clock),
                                why=why)
            return Change(detail={"return_id": return_id, "return_status": ret.status.value})

        return self._decide(actor, order_id, return_id, key, "decline_claim", why, decision)

    def _within_limit(self, actor: Actor, order: Order, return_id: str) -> None:
        ret = _find(order, return_id)
        if not ret.is_claim:
            raise ReturnRefused(f"return {return_id}", ret.status.value, "settle_claim", "it is not a claim")
        given = Money(amount=order.payment.captured.amount - order.refundable.amount, currency=order.currency)
        authorize_refund(actor, claim_value(order, self.policies, ret), given)

    def _decide(self, actor: Actor, order_id: str, return_id: str, key: str, action: str, why: str | None,
                decision: Callable[[Order, str], Change]) -> Outcome:
        authorize(actor, Permission.REFUND)
        outcome = self.change(actor, order_id, key, action, why, decision, {"return_id": return_id})
        ret = outcome.order.return_of(return_id)
        if ret.status != ReturnStatus.REQUESTED:
            _resume(self.workflow, ret, {"decided": True}, wait="approval")
        return outcome
