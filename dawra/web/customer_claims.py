"""The customer's page: "Report a problem with your parcel" (a claim without a return, dawra.app.return_claims).
Offered on the order page while a delivered unit is within its claim window; one form (what was wrong, which items
and how many, a comment, what the customer would like: the money back or the items sent again, and how money would
come back), checked against what may be claimed, then the claim asked for once per form key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from dawra.app.return_claims import ClaimChoices
from dawra.domain.return_claims import ClaimRequest
from dawra.domain.returns import MAX_COMMENT, ClaimReason, ClaimRemedy, RefundMethod, Return
from dawra.web.customer_returns import read_bank_account
from dawra.web.forms import FormInvalid
from dawra.web.http import WebRequest

CLAIM_FORM = "claim"


@runtime_checkable
class CustomerClaims(Protocol):
    """What the page needs for claims (dawra.bootstrap.Returns has it)."""

    def claimable_lines(self, order_id: str) -> ClaimChoices: ...

    def start_claim(self, order_id: str, request_key: str, request: ClaimRequest) -> Return: ...


def read_claim_form(request: WebRequest, choices: ClaimChoices, say: Callable[[str], str]) -> ClaimRequest:
    """The claim the form asks for, or FormInvalid listing every problem (in the customer's words, via `say`)."""
    problems: list[tuple[str, str]] = []
    lines: list[tuple[str, int]] = []
    for line in choices.lines:
        typed = request.field(f"qty.{line.sku}").strip() or "0"
        if not typed.isdigit() or not 0 <= int(typed) <= line.quantity:
            problems.append(("quantity", say("claim.problem.quantity")))
        elif int(typed):
            lines.append((line.sku, int(typed)))
    if not lines and not problems:
        problems.append(("lines", say("claim.problem.no_lines")))
    reason, remedy, refund = request.field("reason"), request.field("remedy"), request.field("refund_method")
    if reason not in set(ClaimReason):
        problems.append(("reason", say("claim.problem.reason")))
    if remedy not in set(ClaimRemedy):
        problems.append(("remedy", say("claim.problem.remedy")))
    if refund not in set(choices.refund_methods):
        problems.append(("refund_method", say("return.problem.refund_method")))
    comment = request.field("comment").strip()
    if len(comment) > MAX_COMMENT:
        problems.append(("comment", say("return.problem.comment")))
    account = read_bank_account(request, refund, problems, say)
    if problems:
        raise FormInvalid(problems)
    return ClaimRequest(reason=ClaimReason(reason), lines=lines, remedy=ClaimRemedy(remedy),
                        refund_method=RefundMethod(refund), comment=comment, bank_account=account)
