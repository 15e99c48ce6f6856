"""State machine task payloads: what each task receives (the ASL's Payload) and returns (what the ASL reads).

One definition, used by the handlers to parse and by tests that hold statemachines/*.asl.json to exactly these
fields. A payload's `action` names the task within its function."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from dawra.domain.errors import InvalidTaskInput

T = TypeVar("T")

OrderId = Annotated[str, Field(pattern=r"^ord_[A-Za-z0-9]{8,64}$")]
ShipmentId = Annotated[str, Field(pattern=r"^shp_[A-Za-z0-9]{8,64}$")]


class Task(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- inputs ------------------------------------------------------------------------------------------------------
class ReserveStockInput(Task):
    action: Literal["reserve_stock"]
    order_id: OrderId


class ReleaseStockInput(Task):
    action: Literal["release_stock"]
    order_id: OrderId


class ShipShipmentInput(Task):
    action: Literal["ship_shipment"]
    order_id: OrderId
    shipment_id: ShipmentId


class AwaitDeliveryInput(Task):
    action: Literal["await_delivery"]
    order_id: OrderId
    shipment_id: ShipmentId
    task_token: str = Field(min_length=1, max_length=4096)


class AwaitReleaseInput(Task):
    action: Literal["await_release"]
    order_id: OrderId
    shipment_id: ShipmentId
    task_token: str = Field(min_length=1, max_length=4096)


class HoldExpiredInput(Task):
    action: Literal["hold_expired"]
    order_id: OrderId
    shipment_id: ShipmentId


class DeliveryLateInput(Task):
    action: Literal["delivery_late"]
    order_id: OrderId
    shipment_id: ShipmentId


class SettleClaimInput(Task):
    action: Literal["settle_claim"]
    order_id: OrderId
    shipment_id: ShipmentId


class CompleteOrderInput(Task):
    action: Literal["complete_order"]
    order_id: OrderId


class CancelOrderInput(Task):
    action: Literal["cancel_order"]
    order_id: OrderId
    reason: str = Field(min_length=1, max_length=100)


class AskAPersonInput(Task):
    action: Literal["ask_a_person"]
    order_id: OrderId
    reason: str = Field(min_length=1, max_length=100)


# --- outputs -----------------------------------------------------------------------------------------------------
class PlannedShipment(BaseModel):
    shipment_id: str
    location_id: str


class Allocation(BaseModel):
    shipments: list[PlannedShipment]


class Shipped(BaseModel):
    # shipped: on its way (wait for delivery); on_hold: the order is on hold (wait for a person to release it);
    # cancelled: every line of this shipment was cancelled, nothing leaves from here
    outcome: Literal["shipped", "on_hold", "cancelled"] = "shipped"
    tracking_number: str = ""
    delivery_timeout_s: int = 1  # how long WaitForDelivery waits before a person is asked
    hold_timeout_s: int = 1  # how long WaitWhileOnHold waits before a person is asked


class HoldExpiry(BaseModel):
    """HoldExpired's answer: `released` (ship after all), `OnHoldTooLong` (a person decides), or the reason the
    order is cancelled with (a hold kind's `expired_as`, or who cancelled it meanwhile); the Choice after it fails
    the branch with a Fail state of that name."""

    outcome: str = Field(min_length=1, max_length=64)


class Late(BaseModel):
    """DeliveryLate's answer: how long WaitForLateDelivery waits before the parcel is declared lost."""

    late_timeout_s: int = 1
    new_estimate: str = ""  # the date the customer was told to expect it by now (empty: nothing was said)


class Settled(BaseModel):
    """SettleClaim's answer: what became of a lost or returned parcel (reship: follow `shipment_id`, the
    replacement; refunded: this branch is done; agent: a person decides; delivered: it arrived after all)."""

    outcome: Literal["reship", "refunded", "agent", "delivered"]
    shipment_id: str = ""


class Released(BaseModel):
    released_units: int
    parcels_shipped: int  # > 0: nothing was released; the workflow asks a person instead of cancelling


# --- per function -------------------------------------------------------------------------------------------------
AllocateTask = TypeAdapter(Annotated[ReserveStockInput | ReleaseStockInput, Field(discriminator="action")])
ShipTask = TypeAdapter(Annotated[ShipShipmentInput | AwaitReleaseInput | AwaitDeliveryInput | CompleteOrderInput
                                 | DeliveryLateInput | SettleClaimInput | HoldExpiredInput,
                                 Field(discriminator="action")])
CompensateTask = TypeAdapter(Annotated[CancelOrderInput | AskAPersonInput, Field(discriminator="action")])

# action -> (input model, output model or None when the ASL reads nothing of the result)
TASKS: dict[str, tuple[type[Task], type[BaseModel] | None]] = {
    "reserve_stock": (ReserveStockInput, Allocation),
    "release_stock": (ReleaseStockInput, Released),
    "ship_shipment": (ShipShipmentInput, Shipped),
    "await_release": (AwaitReleaseInput, None),
    "hold_expired": (HoldExpiredInput, HoldExpiry),
    "await_delivery": (AwaitDeliveryInput, None),
    "delivery_late": (DeliveryLateInput, Late),
    "settle_claim": (SettleClaimInput, Settled),
    "complete_order": (CompleteOrderInput, None),
    "cancel_order": (CancelOrderInput, None),
    "ask_a_person": (AskAPersonInput, None),
}


def parse_task(event: dict[str, Any], adapter: TypeAdapter[T]) -> T:
    """A malformed payload is a typed error (InvalidTaskInput), not a stack trace."""
    try:
        return adapter.validate_python(event)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise InvalidTaskInput(f"bad task payload: {problems}") from None
