"""Jobs done later (dawra.ports.Later): what a scheduled job carries when its time comes. One model per kind."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from dawra.contracts.tasks import OrderId


class AskForFeedbackJob(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["ask_for_feedback"]
    order_id: OrderId


class SendHeldMessageJob(BaseModel):
    """One event's message on one channel, held through the customer's quiet hours (dawra.app.notify)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["send_held_message"]
    order_id: OrderId
    event_id: str = Field(min_length=1, max_length=300)
    channel: Literal["email", "sms"]


class SendShippedDigestJob(BaseModel):
    """One message for the parcels of an order shipped and not yet told (on one channel, if held overnight)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["send_shipped_digest"]
    order_id: OrderId
    channel: Literal["email", "sms"] | None = None


LaterJob = Annotated[AskForFeedbackJob | SendHeldMessageJob | SendShippedDigestJob, Field(discriminator="kind")]
LATER_JOB: TypeAdapter[AskForFeedbackJob | SendHeldMessageJob | SendShippedDigestJob] = TypeAdapter(LaterJob)
