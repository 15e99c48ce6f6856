"""The storefront API's claims without a return: what a storefront sends to report a parcel that arrived damaged or
with an item missing (POST /orders/{order_id}/claims; what the order page's claim form collects, as JSON) and the
problem it gets when lines cannot be claimed for. The claim reads back as a return of kind `claim`
(GET /orders/{order_id}/returns/{return_id}, dawra.contracts.return_api.ReturnView): decision 79."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    field_validator,
    model_validator,
)

from dawra.contracts.problems import PROBLEM_JSON, Problem
from dawra.contracts.return_api import SKU, UNAVAILABLE, ReturnView, one_line_per_sku, problem
from dawra.domain.return_claims import RefusedClaimLine
from dawra.domain.returns import MAX_COMMENT, ClaimReason, ClaimRemedy, RefundMethod

# One of the README's example order's two mugs arrived cracked: the money back to the card (homeware's policy
# settles a claim worth up to 100.00 by itself).
EXAMPLE_CLAIM: dict[str, JsonValue] = {
    "reason": "arrived_damaged",
    "lines": [{"sku": "MUG-CLASSIC", "quantity": 1}],
    "comment": "The handle arrived cracked",
    "remedy": "refund",
    "refund_method": "original_payment",
}


class ClaimLineAsked(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)

    sku: SKU
    quantity: int = Field(ge=1, le=1000, description="The units that arrived damaged, or are missing")


class ClaimAsked(BaseModel):
    """What a storefront sends to POST /orders/{order_id}/claims."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True,
                              json_schema_extra={"examples": [EXAMPLE_CLAIM]}, defer_build=True)

    reason: ClaimReason = Field(description="arrived_damaged or item_missing (the whole claim)")
    lines: list[ClaimLineAsked] = Field(min_length=1, max_length=50)
    comment: str = Field(default="", max_length=MAX_COMMENT, description="What the customer says happened")
    remedy: ClaimRemedy = Field(description=(
        "What the customer asks for: refund (the money back) or reship (the same items sent again, nothing "
        "charged); an agent may decide otherwise, and a reship none of the shop's locations can send is refunded"))
    refund_method: RefundMethod = Field(description=(
        "How money goes back if it is refunded: what the items' return policies offer (never exchange); a "
        "cash-on-delivery order: bank_transfer (with iban) or store_credit"))
    iban: Annotated[str, StringConstraints(min_length=5, max_length=42)] | None = Field(
        default=None, description="The account a bank_transfer refund goes to: required with it, and only then")

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(cls, lines: list[ClaimLineAsked]) -> list[ClaimLineAsked]:
        return one_line_per_sku(lines)

    @model_validator(mode="after")
    def _what_goes_with_what(self) -> ClaimAsked:
        if self.refund_method == RefundMethod.EXCHANGE:
            raise ValueError("a claim is not exchanged: ask for remedy reship to have the items sent again")
        if (self.refund_method == RefundMethod.BANK_TRANSFER) != (self.iban is not None):
            raise ValueError("iban goes with refund_method bank_transfer, and only with it")
        return self


class NotClaimableProblem(Problem):
    """A claim refused because some lines cannot be claimed for: each, and why."""

    lines: list[RefusedClaimLine] | None = Field(default=None, description="Each line that cannot be claimed as asked")


REQUEST_CLAIM_RESPONSES: dict[int, dict[str, Any]] = {
    201: {"description": ("The claim (a return of kind claim), reported; settled_by_itself says whether its "
                          "policy settled it at once (refunded, or reshipping) or an agent decides. A replayed "
                          "Idempotency-Key answers the claim it reported"),
          "headers": {"Location": {"description": "The claim's URL (read with GET .../returns/{return_id})",
                                   "schema": {"type": "string"}}},
          "content": {"application/json": {"model": ReturnView}}},
    400: problem("The body is not JSON, is not UTF-8, or nests too deeply"),
    404: problem("No such order"),
    409: {"description": ("Not possible: some lines cannot be claimed for (lines says why for each: not delivered, "
                          "the claim window ended, already returned or claimed, not in the order, too many), or the "
                          "order's status or the refund method does not allow it. Nothing was written."),
          "content": {PROBLEM_JSON: {"model": NotClaimableProblem}}},
    413: problem("The body is too large"),
    415: problem("The body is not application/json"),
    422: problem("Invalid request (errors lists each field: an IBAN that does not check out), or the "
                  "Idempotency-Key was used for another return or claim"),
    500: problem("Something went wrong on our side; nothing was half-applied"),
    503: UNAVAILABLE,
}
