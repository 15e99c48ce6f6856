"""The return workflow's task payloads (statemachines/return_lifecycle.asl.json): what each task of functions/returns
receives (the ASL's Payload) and returns (what the ASL reads). Held to the ASL field by field by
tests/unit/test_return_asl_contract.py, as dawra.contracts.tasks is to the order's. The execution carries only ids:
{"order_id": ..., "return_id": ...}; every task reads and writes the return in DynamoDB."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from dawra.contracts.task_base import OrderId, Task
from dawra.domain.returns import ReturnWait

ReturnId = Annotated[str, Field(pattern=r"^ret_[0-9a-f]{20}$")]
Token = Annotated[str, Field(min_length=1, max_length=4096)]
# What a wait parks on: an agent's decision, the parcel (or the customer at the store), the warehouse's inspection.
Waiting = ReturnWait


# --- inputs ------------------------------------------------------------------------------------------------------
class ReturnTask(Task):
    order_id: OrderId
    return_id: ReturnId


class ReturnRequestedInput(ReturnTask):
    action: Literal["return_requested"]


class WaitForReturnInput(ReturnTask):
    action: Literal["wait_for_return"]
    waiting_for: Waiting
    task_token: Token


class ExpireReturnRequestInput(ReturnTask):
    action: Literal["expire_return_request"]


class IssueReturnLabelInput(ReturnTask):
    action: Literal["issue_return_label"]


class ExpireReturnLabelInput(ReturnTask):
    action: Literal["expire_return_label"]


class RefundReturnInput(ReturnTask):
    action: Literal["refund_return"]


class CloseReturnInput(ReturnTask):
    action: Literal["close_return"]


class ShipReplacementInput(ReturnTask):
    action: Literal["ship_replacement"]


class WaitForReplacementInput(ReturnTask):
    action: Literal["wait_for_replacement"]
    task_token: Token


class AlertOpsAboutReturnInput(ReturnTask):
    action: Literal["alert_ops_about_return"]
    reason: str = Field(min_length=1, max_length=100)


# --- outputs -----------------------------------------------------------------------------------------------------
class ReturnOpened(BaseModel):
    """ReturnRequested's answer: where the return stands, and how long its waits last (from the merchant's settings,
    so a test or a merchant can shorten them without touching the state machine)."""

    model_config = ConfigDict(defer_build=True)

    status: str
    approval_timeout_s: int = Field(ge=1)  # WaitForApproval: then the request expires
    inspection_alert_s: int = Field(ge=1)  # WaitForInspection: then operations are alerted, and it waits again
    # An exchange: its replacement leaves "first" (the policy trusts the customer) or "on_receipt" of the return.
    exchange: Literal["none", "first", "on_receipt"] = "none"
    replacement_wait_s: int = Field(default=1, ge=1)  # WaitForReplacement: then a person is asked
    # A claim without a return takes its own branch (nothing comes back): settled by its policy already, or waiting
    # for an agent (WaitForClaimDecision, approval_timeout_s: then operations are alerted and it waits again).
    kind: Literal["return", "claim"] = "return"


class ReturnStep(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: str


class ParcelWait(BaseModel):
    """IssueLabelOrInstructions' and LabelExpired's answer: how long WaitForParcel waits (until the label expires,
    or, for a store drop-off or a parcel already on its way, the merchant's parcel wait)."""

    model_config = ConfigDict(defer_build=True)

    status: str
    wait_s: int = Field(ge=1)


class ReplacementShipped(BaseModel):
    """ShipTheExchange's answer: the replacement's shipment, with the carrier."""

    model_config = ConfigDict(defer_build=True)

    shipment_id: str
    tracking_number: str


class ReturnRefunded(BaseModel):
    # refunded; exchanged; rejected (nothing came back that earns money); inspected (an exchange that came back
    # wrong or missing: a person decides)

    model_config = ConfigDict(defer_build=True)

    status: str
    amount: int  # minor units given back (paid out or as store credit)
    currency: str


# --- the function -------------------------------------------------------------------------------------------------
ReturnTaskInput = TypeAdapter(Annotated[
    ReturnRequestedInput | WaitForReturnInput | ExpireReturnRequestInput | IssueReturnLabelInput
    | ExpireReturnLabelInput | RefundReturnInput | CloseReturnInput | AlertOpsAboutReturnInput
    | ShipReplacementInput | WaitForReplacementInput,
    Field(discriminator="action")])

# action -> (input model, output model or None when the ASL reads nothing of the result)
RETURN_TASKS: dict[str, tuple[type[Task], type[BaseModel] | None]] = {
    "return_requested": (ReturnRequestedInput, ReturnOpened),
    "wait_for_return": (WaitForReturnInput, None),
    "expire_return_request": (ExpireReturnRequestInput, ReturnStep),
    "issue_return_label": (IssueReturnLabelInput, ParcelWait),
    "expire_return_label": (ExpireReturnLabelInput, ParcelWait),
    "refund_return": (RefundReturnInput, ReturnRefunded),
    "close_return": (CloseReturnInput, ReturnStep),
    "alert_ops_about_return": (AlertOpsAboutReturnInput, None),
    "ship_replacement": (ShipReplacementInput, ReplacementShipped),
    "wait_for_replacement": (WaitForReplacementInput, None),
}
