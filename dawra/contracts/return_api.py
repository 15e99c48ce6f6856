"""The storefront API's returns: what a storefront sends to ask for one (POST /orders/{order_id}/returns) and what it
gets back. The choices are the domain's own words (reasons, how it comes back, how the money comes back), so the
document follows them when they change; what the order page's form collects, as JSON."""

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
from dawra.domain.money import Money
from dawra.domain.return_lines import RefusedLine
from dawra.domain.returns import (
    MAX_COMMENT,
    InspectionOutcome,
    RefundBreakdown,
    RefundMethod,
    Return,
    ReturnMethod,
    ReturnReason,
    ReturnStatus,
)

RETURN_ID_PATTERN = r"^ret_[0-9a-f]{20}$"
# Asks to return one of the two mugs of the README's example order (homeware: an agent approves it first).
EXAMPLE_RETURN: dict[str, JsonValue] = {
    "lines": [{"sku": "MUG-CLASSIC", "quantity": 1, "reason": "damaged", "comment": "The handle arrived cracked"}],
    "method": "label",
    "refund_method": "original_payment",
}


class ReturnLineAsked(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    sku: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    quantity: int = Field(ge=1, le=1000)
    reason: ReturnReason
    comment: str = Field(default="", max_length=MAX_COMMENT)


class ReturnAsked(BaseModel):
    """What a storefront sends to POST /orders/{order_id}/returns."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True,
                              json_schema_extra={"examples": [EXAMPLE_RETURN]})

    lines: list[ReturnLineAsked] = Field(min_length=1, max_length=50)
    method: ReturnMethod = Field(description="label: a label to print and a parcel for the carrier; pickup: a "
                                             "courier collects it; store: brought to one of the shop's stores")
    store_location_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")] | None = Field(
        default=None, description="The store it is brought to: required with method store, and only then")
    refund_method: RefundMethod = Field(description=(
        "What the items' return policies offer; a cash-on-delivery order is never refunded to its payment: "
        "bank_transfer (with iban) or store_credit"))
    iban: Annotated[str, StringConstraints(min_length=5, max_length=42)] | None = Field(
        default=None, description="The account a bank_transfer refund goes to: required with it, and only then")

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(cls, lines: list[ReturnLineAsked]) -> list[ReturnLineAsked]:
        skus = [line.sku for line in lines]
        if len(set(skus)) != len(skus):
            raise ValueError("a sku appears twice; send one line with the total quantity")
        return lines

    @model_validator(mode="after")
    def _what_goes_with_what(self) -> ReturnAsked:
        if (self.method == ReturnMethod.STORE) != (self.store_location_id is not None):
            raise ValueError("store_location_id goes with method store, and only with it")
        if (self.refund_method == RefundMethod.BANK_TRANSFER) != (self.iban is not None):
            raise ValueError("iban goes with refund_method bank_transfer, and only with it")
        return self


class ReturnLineView(BaseModel):
    sku: str
    quantity: int
    reason: ReturnReason
    comment: str
    outcome: InspectionOutcome | None = Field(default=None, description="The warehouse's verdict, once inspected")
    refund: Money | None = Field(default=None, description="This line's part of the refund, once settled")


class ReturnView(BaseModel):
    """A return, as POST /orders/{order_id}/returns answers it and GET .../returns/{return_id} reads it."""

    return_id: str
    order_id: str
    status: ReturnStatus
    lines: list[ReturnLineView]
    method: ReturnMethod
    location_id: str = Field(description="Where it comes back to: the store chosen, or the location it left from")
    refund_method: RefundMethod
    approval_required: bool = Field(description="A person approves it first (the items' policy says so)")
    estimate: RefundBreakdown = Field(description="What it gives back if everything comes back as asked")
    refunded: Money | None = None
    account_ending: str | None = Field(default=None, description="A bank transfer's IBAN, its last four characters")
    requested_at: str
    decided_at: str | None = None
    decline_reason: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    label_expires_at: str | None = Field(default=None, description=(
        "The last moment the label can be used, or (a store drop-off) the items brought to the store"))
    received_at: str | None = None
    refunded_at: str | None = None


def return_view(ret: Return) -> dict[str, Any]:
    fields = set(ReturnView.model_fields) - {"lines", "account_ending"}
    view = ReturnView.model_validate({
        **ret.model_dump(include=fields),
        "lines": [line.model_dump(include=set(ReturnLineView.model_fields)) for line in ret.lines],
        "account_ending": ret.bank_account[-4:] if ret.bank_account else None})
    return view.model_dump(mode="json")


class NotReturnableProblem(Problem):
    """A return refused because some lines cannot go back: each, and why."""

    lines: list[RefusedLine] | None = Field(default=None, description="Each line that cannot go back as asked")


_UNAVAILABLE = {"description": "Temporarily unavailable: retry after Retry-After seconds, with the same key",
                "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
                "content": {PROBLEM_JSON: {"model": Problem}}}


def _problem(why: str) -> dict[str, Any]:
    return {"description": why, "content": {PROBLEM_JSON: {"model": Problem}}}


REQUEST_RETURN_RESPONSES: dict[int, dict[str, Any]] = {
    201: {"description": "The return, requested (or, for a replayed Idempotency-Key, the return it requested)",
          "headers": {"Location": {"description": "The return's URL", "schema": {"type": "string"}}},
          "content": {"application/json": {"model": ReturnView}}},
    400: _problem("The body is not JSON, is not UTF-8, or nests too deeply"),
    404: _problem("No such order"),
    409: {"description": "Not possible: some lines cannot go back (lines says why for each: final sale, not "
                         "delivered, the window ended, already returned, not in the order, too many), or the order "
                         "or the refund method does not allow it (the detail says why). Nothing was written.",
          "content": {PROBLEM_JSON: {"model": NotReturnableProblem}}},
    413: _problem("The body is too large"),
    415: _problem("The body is not application/json"),
    422: _problem("Invalid request (errors lists each field: an IBAN that does not check out, a store that takes no "
                  "returns), or the Idempotency-Key was used for another return"),
    500: _problem("Something went wrong on our side; nothing was half-applied"),
    503: _UNAVAILABLE,
}
VIEW_RETURN_RESPONSES: dict[int, dict[str, Any]] = {
    200: {"description": "The return", "content": {"application/json": {"model": ReturnView}}},
    404: _problem("No such order, or the order has no such return"),
    422: _problem("The order or return id is not valid"),
    500: _problem("Something went wrong on our side"),
    503: _UNAVAILABLE,
}
