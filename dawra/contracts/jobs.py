"""Jobs done later (dawra.ports.Later): what a scheduled job carries when its time comes. One model per kind."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from dawra.contracts.task_base import OrderId, ShipmentId


class AskForFeedbackJob(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: Literal["ask_for_feedback"]
    order_id: OrderId


class SendHeldMessageJob(BaseModel):
    """One event's message on one channel, held through the customer's quiet hours (dawra.app.notify)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: Literal["send_held_message"]
    order_id: OrderId
    event_id: str = Field(min_length=1, max_length=300)
    channel: Literal["email", "sms"]


class SendShippedDigestJob(BaseModel):
    """One message for the parcels of an order shipped and not yet told (on one channel, if held overnight)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: Literal["send_shipped_digest"]
    order_id: OrderId
    channel: Literal["email", "sms"] | None = None


class CheckRemittanceJob(BaseModel):
    """A parcel paid in cash at the door, some days after its delivery: flagged if its cash is still not remitted."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: Literal["check_cod_remittance"]
    order_id: OrderId
    shipment_id: ShipmentId


def remittance_check(order_id: str, shipment_id: str) -> dict[str, str]:
    return {"kind": "check_cod_remittance", "order_id": order_id, "shipment_id": shipment_id}


class RenewAuthorizationJob(BaseModel):
    """A card authorisation about to lapse on an order that may still be waiting (dawra.app.payments)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    kind: Literal["renew_authorization"]
    order_id: OrderId


AnyJob = AskForFeedbackJob | SendHeldMessageJob | SendShippedDigestJob | CheckRemittanceJob | RenewAuthorizationJob
ANY_JOB: TypeAdapter[AnyJob] = TypeAdapter(Annotated[AnyJob, Field(discriminator="kind")])

# Two queues, two functions (dawra/topology/later.py, decision 93). A job that may alert operations runs in the
# ops-jobs function, whose role publishes to the ops-alerts topic and sends no customer message; every other job runs
# in the later-jobs function, which sends SMS and so is denied every SNS topic (an explicit Deny wins over any Allow).
OpsJob = CheckRemittanceJob | RenewAuthorizationJob
OPS_JOB: TypeAdapter[OpsJob] = TypeAdapter(Annotated[OpsJob, Field(discriminator="kind")])
LaterJob = AskForFeedbackJob | SendHeldMessageJob | SendShippedDigestJob
LATER_JOB: TypeAdapter[LaterJob] = TypeAdapter(Annotated[LaterJob, Field(discriminator="kind")])
OPS_KINDS = frozenset(get_args(model.model_fields["kind"].annotation)[0] for model in get_args(OpsJob))


def for_operations(kind: str) -> bool:
    """Whether a job of `kind` goes to the ops-jobs queue (the adapter's and the fake's routing, and the later-jobs
    function's for a job it should not run)."""
    return kind in OPS_KINDS
