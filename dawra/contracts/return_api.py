"""The storefront API's returns: what a storefront sends to ask for one (POST /orders/{order_id}/returns) and what it
gets back. The choices are the domain's own words (reasons, how it comes back, how the money comes back), so the
document follows them when they change; what the order page's form collects, as JSON."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Protocol, TypeVar

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
    ClaimReason,
    ClaimRemedy,
    InspectionOutcome,
    PickupSlot,
    PickupWindow,
    RefundBreakdown,
    RefundMethod,
    Return,
    ReturnKind,
    ReturnMethod,
    ReturnReason,
    ReturnStatus,
)


class _Line(Protocol):
    @property
    def sku(self) -> str: ...


L = TypeVar("L", bound=_Line)
RETURN_ID_PATTERN = r"^ret_[0-9a-f]{20}$"
SKU = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
# Asks to return one of the two mugs of the README's example order (homeware: an agent approves it first).
EXAMPLE_RETURN: dict[str, JsonValue] = {
    "lines": [{"sku": "MUG-CLASSIC", "quantity": 1, "reason": "damaged", "comment": "The handle arrived cracked"}],
    "method": "label",
    "refund_method": "original_payment",
}
# An exchange for another size, collected by a courier (the catalog lists PRAYER-MAT-L as exchangeable for it).
EXAMPLE_EXCHANGE: dict[str, JsonValue] = {
    "lines": [{"sku": "PRAYER-MAT", "quantity": 1, "reason": "wrong_size", "exchange_for": "PRAYER-MAT-L"}],
    "method": "pickup",
    "pickup": {"day": "2026-11-29", "window": "morning"},
    "refund_method": "exchange",
}


class ReturnLineAsked(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)

    sku: SKU
    quantity: int = Field(ge=1, le=1000)
    reason: ReturnReason
    comment: str = Field(default="", max_length=MAX_COMMENT)
    exchange_for: SKU | None = Field(
        default=None, description=(
            "An exchange: the size or variant sent instead, one the catalog lists as exchangeable for this sku, at "
            "the same price. Required on every line with refund_method exchange, and only then"))


def one_line_per_sku(lines: list[L]) -> list[L]:
    """A request's lines, each sku once (a return's, a claim's)."""
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        raise ValueError("a sku appears twice; send one line with the total quantity")
    return lines


class PickupAsked(BaseModel):
    """When the courier comes: one of the days and windows the carrier offers (a 422 lists them)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    day: date = Field(description="The day the courier comes (ISO date, the customer's local day)")
    window: PickupWindow = Field(description="morning (09:00-13:00) or afternoon (13:00-17:00), local time")


class ReturnAsked(BaseModel):
    """What a storefront sends to POST /orders/{order_id}/returns."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True,
                              json_schema_extra={"examples": [EXAMPLE_RETURN, EXAMPLE_EXCHANGE]})

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
    pickup: PickupAsked | None = Field(default=None, description=(
        "When the courier comes: required with method pickup, and only then; a day or window the carrier does not "
        "offer is a 422 whose pickup_days lists those it does"))

    @field_validator("lines")
    @classmethod
    def _one_line_per_sku(cls, lines: list[ReturnLineAsked]) -> list[ReturnLineAsked]:
        return one_line_per_sku(lines)

    @model_validator(mode="after")
    def _what_goes_with_what(self) -> ReturnAsked:
        if (self.method == ReturnMethod.STORE) != (self.store_location_id is not None):
            raise ValueError("store_location_id goes with method store, and only with it")
        if (self.refund_method == RefundMethod.BANK_TRANSFER) != (self.iban is not None):
            raise ValueError("iban goes with refund_method bank_transfer, and only with it")
        if (self.method == ReturnMethod.PICKUP) != (self.pickup is not None):
            raise ValueError("pickup goes with method pickup, and only with it")
        exchange = self.refund_method == RefundMethod.EXCHANGE
        if any((line.exchange_for is not None) != exchange for line in self.lines):
            raise ValueError("exchange_for goes on every line with refund_method exchange, and only with it")
        return self

    @property
    def exchanges(self) -> dict[str, str]:
        return {line.sku: line.exchange_for for line in self.lines if line.exchange_for is not None}

    @property
    def pickup_slot(self) -> PickupSlot | None:
        return PickupSlot(day=self.pickup.day, window=self.pickup.window) if self.pickup else None


class ReturnLineView(BaseModel):
    model_config = ConfigDict(defer_build=True)

    sku: str
    quantity: int
    reason: ReturnReason
    comment: str
    outcome: InspectionOutcome | None = Field(default=None, description="The warehouse's verdict, once inspected")
    refund: Money | None = Field(default=None, description="This line's part of the refund, once settled")
    exchange_for: str | None = Field(default=None, description="An exchange: the size or variant sent instead")


class ReturnView(BaseModel):
    """A return, as POST /orders/{order_id}/returns answers it and GET .../returns/{return_id} reads it; also a
    claim without a return (kind claim: POST /orders/{order_id}/claims), which nothing comes back for."""

    model_config = ConfigDict(defer_build=True)

    return_id: str
    order_id: str
    kind: ReturnKind = Field(default=ReturnKind.RETURN, description=(
        "return: the items come back; claim: arrived damaged or an item missing, nothing comes back"))
    status: ReturnStatus
    lines: list[ReturnLineView]
    method: ReturnMethod | None = Field(description="How it comes back; null for a claim (nothing comes back)")
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
    pickup_on: str | None = Field(default=None, description=(
        "A courier pickup: the day the courier comes (ISO date), as asked and then as the carrier booked it"))
    pickup_window: PickupWindow | None = Field(default=None, description="A courier pickup: morning or afternoon")
    replacement_id: str | None = Field(default=None, description=(
        "An exchange, or a claim sent again: the shipment of the order that sends the replacement, once it is held"))
    claim_reason: ClaimReason | None = Field(default=None, description="A claim: arrived_damaged or item_missing")
    claim_remedy: ClaimRemedy | None = Field(default=None, description=(
        "A claim: what the customer asked for (refund or reship); what was done is its status"))
    settled_by_itself: bool | None = Field(default=None, description=(
        "A claim: true when its policy settled it with the report (worth no more than the policy's threshold), "
        "false when an agent decides (or decided)"))


def return_view(ret: Return) -> dict[str, Any]:
    fields = set(ReturnView.model_fields) - {"lines", "account_ending", "settled_by_itself"}
    view = ReturnView.model_validate({
        **ret.model_dump(include=fields),
        "lines": [{**line.model_dump(include=set(ReturnLineView.model_fields) - {"exchange_for"}),
                   "exchange_for": line.exchange.sku if line.exchange else None} for line in ret.lines],
        "account_ending": ret.bank_account[-4:] if ret.bank_account else None,
        "settled_by_itself": ret.decided_by == "policy" if ret.is_claim else None})
    return view.model_dump(mode="json")


class NotReturnableProblem(Problem):
    """A return refused because some lines cannot go back: each, and why."""

    lines: list[RefusedLine] | None = Field(default=None, description="Each line that cannot go back as asked")


class PickupProblem(Problem):
    """An invalid request; for a courier pickup on a day or window the carrier does not offer, those it does."""

    pickup_days: list[PickupSlot] | None = Field(default=None, description=(
        "The days and windows a courier can come now (a pickup asked for another)"))


UNAVAILABLE = {"description": "Temporarily unavailable: retry after Retry-After seconds, with the same key",
               "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
               "content": {PROBLEM_JSON: {"model": Problem}}}


def problem(why: str) -> dict[str, Any]:
    """A response of the API documented as its problem+json, saying when."""
    return {"description": why, "content": {PROBLEM_JSON: {"model": Problem}}}


REQUEST_RETURN_RESPONSES: dict[int, dict[str, Any]] = {
    201: {"description": "The return, requested (or, for a replayed Idempotency-Key, the return it requested)",
          "headers": {"Location": {"description": "The return's URL", "schema": {"type": "string"}}},
          "content": {"application/json": {"model": ReturnView}}},
    400: problem("The body is not JSON, is not UTF-8, or nests too deeply"),
    404: problem("No such order"),
    409: {"description": "Not possible: some lines cannot go back (lines says why for each: final sale, not "
                         "delivered, the window ended, already returned, not in the order, too many), or the order "
                         "or the refund method does not allow it, or an exchange's size or variant is not one the "
                         "item can be exchanged for, costs another price, or is out of stock (the detail says "
                         "why). Nothing was written.",
          "content": {PROBLEM_JSON: {"model": NotReturnableProblem}}},
    413: problem("The body is too large"),
    415: problem("The body is not application/json"),
    422: {"description": "Invalid request (errors lists each field: an IBAN that does not check out, a store that "
                         "takes no returns, a courier pickup on a day or window the carrier does not offer, with "
                         "pickup_days listing those it does), or the Idempotency-Key was used for another return",
          "content": {PROBLEM_JSON: {"model": PickupProblem}}},
    500: problem("Something went wrong on our side; nothing was half-applied"),
    503: UNAVAILABLE,
}
VIEW_RETURN_RESPONSES: dict[int, dict[str, Any]] = {
    200: {"description": "The return, or the claim (kind claim)", "content": {"application/json": {"model": ReturnView}}},
    404: problem("No such order, or the order has no such return"),
    422: problem("The order or return id is not valid"),
    500: problem("Something went wrong on our side"),
    503: UNAVAILABLE,
}
