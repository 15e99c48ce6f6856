"""A claim without a return reported by a storefront (the storefront API): each line judged against what may be
claimed for now, every refused line said with its reason, then the very request the order page's claim form makes
(`StartClaim`: the claim stored once per request key, its workflow started once). It reads back as a return
(dawra.app.return_requests.ViewReturn)."""

from __future__ import annotations

from collections.abc import Callable

from dawra.app.common import load
from dawra.app.return_claims import ClaimChoices
from dawra.contracts.claim_api import ClaimAsked
from dawra.domain.order import OrderEvent
from dawra.domain.return_claims import ClaimRequest, LinesNotClaimable, refused_claim_lines
from dawra.domain.returns import Return, ReturnRefused, return_id_for
from dawra.ports import OrderRepository

StartClaim = Callable[[str, str, ClaimRequest], Return]  # dawra.app.return_claims.StartClaim


class AskForClaim:
    def __init__(self, orders: OrderRepository, claimable_lines: Callable[[str], ClaimChoices], start: StartClaim):
        self.orders, self.claimable_lines, self.start = orders, claimable_lines, start

    def __call__(self, order_id: str, request_key: str, asked: ClaimAsked) -> Return:
        """The claim reported (a replayed key: the claim it reported). LinesNotClaimable lists every line that
        cannot be claimed for now and why; an order whose status allows no claim (as the page offers none) is
        ReturnRefused."""
        order = load(self.orders, order_id)
        request = ClaimRequest(reason=asked.reason, lines=[(line.sku, line.quantity) for line in asked.lines],
                               remedy=asked.remedy, refund_method=asked.refund_method, comment=asked.comment,
                               bank_account=asked.iban)
        if all(ret.return_id != return_id_for(order_id, request_key) for ret in order.returns):
            if not order.can(OrderEvent.REQUEST_RETURN):
                raise ReturnRefused(f"order {order_id}", order.status.value, "claim",
                                    "the order's status allows no claim")
            refused = refused_claim_lines(self.claimable_lines(order_id).lines, request.lines)
            if refused:
                raise LinesNotClaimable(order_id, order.status.value, refused)
        # Reported before with this key: the same claim finds itself, another one is refused there.
        return self.start(order_id, request_key, request)
