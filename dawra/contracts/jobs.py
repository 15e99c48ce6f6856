"""Jobs done later (dawra.ports.Later): what a scheduled job carries when its time comes. One model per kind."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from dawra.contracts.tasks import OrderId


class AskForFeedbackJob(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["ask_for_feedback"]
    order_id: OrderId


LaterJob = Annotated[AskForFeedbackJob, Field(discriminator="kind")]
LATER_JOB: TypeAdapter[AskForFeedbackJob] = TypeAdapter(LaterJob)
