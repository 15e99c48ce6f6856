"""State machine task payloads: what each task receives (the ASL's Payload) and returns (what the ASL reads).

One definition, used by the handlers to parse and by tests that hold statemachines/*.asl.json to exactly these
fields. A payload's `action` names the task within its function."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from dawra.contracts.task_base import OrderId, ShipmentId, Task


# --- inputs ------------------------------------------------------------------------------------------------------
class ReserveStockInput(Task):
    action: Literal["reserve_stock"]
    order_id: OrderId


class ReserveAndShipInput(Task):
    """ReserveAndShip (decision 124): reserve every line; an order in one parcel ships it in the same call."""

    action: Literal["reserve_and_ship"]
    order_id: OrderId


class ReleaseStockInput(Task):
    action: Literal["release_stock"]
    order_id: OrderId


class StockDueInput(Task):
    """WhenIsStockDue: a backordered or preordered order's stock is due (or late): how long WaitForStock waits."""

    action: Literal["stock_due"]
    order_id: OrderId


class AwaitStockInput(Task):
    """WaitForStock: park the order until the allocation on the stock's arrival resumes it."""

    action: Literal["await_stock"]
    order_id: OrderId
    task_token: str = Field(min_length=1, max_length=4096)


class ShipShipmentInput(Task):
    action: Literal["ship_shipment"]
    order_id: OrderId
    shipment_id: ShipmentId


class ShipTheOnlyParcelInput(Task):
    """ShipTheOnlyParcel (decision 122): the reservation's shipments; one of them ships as ShipShipment ships it."""

    action: Literal["ship_the_only_parcel"]
    order_id: OrderId
    shipments: list[PlannedShipment] = Field(min_length=1)


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


class AwaitPackingInput(Task):
    action: Literal["await_packing"]
    order_id: OrderId
    shipment_id: ShipmentId
    task_token: str = Field(min_length=1, max_length=4096)


class PackingLateInput(Task):
    action: Literal["packing_late"]
    order_id: OrderId
    shipment_id: ShipmentId


class AwaitCollectionInput(Task):
    action: Literal["await_collection"]
    order_id: OrderId
    shipment_id: ShipmentId
    task_token: str = Field(min_length=1, max_length=4096)


class CollectionReminderInput(Task):
    action: Literal["collection_reminder"]
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
    """Sent only by executions started before decision 111 (their definition ends with CompleteOrder)."""
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
    model_config = ConfigDict(defer_build=True)

    shipment_id: str
    location_id: str


class Allocation(BaseModel):
    model_config = ConfigDict(defer_build=True)

    shipments: list[PlannedShipment]


class StockWait(BaseModel):
    """How long WaitForStock waits before WhenIsStockDue looks again (the due day, its grace, a new date)."""

    model_config = ConfigDict(defer_build=True)

    timeout_s: int = Field(ge=1)


NOT_ON_ITS_WAY_WAIT_S = 86_400


class Shipped(BaseModel):
    # shipped: on its way (wait for delivery); on_hold: the order is on hold (wait for a person to release it);
    # cancelled: every line of this shipment was cancelled, nothing leaves from here
    # preparing: staff or a partner prepare it first (pick and pack, work tasks): wait until it is packed
    # awaiting_collection: store pickup, ready at the store: wait for the customer to collect it (their code)

    model_config = ConfigDict(defer_build=True)

    outcome: Literal["shipped", "on_hold", "cancelled", "preparing", "awaiting_collection"] = "shipped"
    tracking_number: str = ""
    # How long WaitForDelivery waits before the customer is told it is late. Every outcome but `shipped` goes to
    # WaitForDelivery too, to be refused there (decision 119): a day, so that its refusal, not its timeout, decides.
    delivery_timeout_s: int = NOT_ON_ITS_WAY_WAIT_S
    hold_timeout_s: int = 1  # how long WaitWhileOnHold waits before a person is asked
    prepare_timeout_s: int = 1  # how long WaitForPacking waits before PackingLate alerts operations
    collect_timeout_s: int = 1  # how long WaitForCollection waits before CollectionReminder (remind, or cancel)
    shipped_now: bool = False  # this call booked and committed it (a retry or a second look answers False)


class PackingLate(BaseModel):
    """PackingLate's answer: how much longer WaitForPacking waits (operations were alerted, once); its outcome is
    ShipShipment's "preparing", as the state machine keeps both in one place ($.shipping)."""

    model_config = ConfigDict(defer_build=True)

    outcome: Literal["preparing"] = "preparing"
    prepare_timeout_s: int = 1


class CollectionWait(BaseModel):
    """CollectionReminder's answer: the customer was reminded (once), and WaitForCollection waits on until the
    collect-by date (collected meanwhile: the wait answers at once). Past that date it answers nothing: it fails
    with NotCollected and the order is cancelled. Kept with ShipShipment's answer in $.shipping."""

    model_config = ConfigDict(defer_build=True)

    outcome: Literal["awaiting_collection"] = "awaiting_collection"
    collect_timeout_s: int = 1


class HoldExpiry(BaseModel):
    """HoldExpired's answer: `released` (ship after all), `OnHoldTooLong` (a person decides), or the reason the
    order is cancelled with (a hold kind's `expired_as`, or who cancelled it meanwhile); the Choice after it fails
    the branch with a Fail state of that name."""

    model_config = ConfigDict(defer_build=True)

    outcome: str = Field(min_length=1, max_length=64)


class Late(BaseModel):
    """DeliveryLate's answer: how long WaitForLateDelivery waits before the parcel is declared lost."""

    model_config = ConfigDict(defer_build=True)

    late_timeout_s: int = 1
    new_estimate: str = ""  # the date the customer was told to expect it by now (empty: nothing was said)


class Settled(BaseModel):
    """SettleClaim's answer: what became of a lost or returned parcel (reship: follow `shipment_id`, the
    replacement; refunded: this branch is done; agent: a person decides; delivered: it arrived after all)."""

    model_config = ConfigDict(defer_build=True)

    outcome: Literal["reship", "refunded", "agent", "delivered"]
    shipment_id: str = ""


class OnlyParcel(BaseModel):
    """ShipTheOnlyParcel's answer: the shipment WaitForItsDelivery parks on, and for how long. A parcel on its way:
    until its promised day plus the grace. Several shipments (the first is named, not shipped) or one that did not
    leave: a day (`NOT_ON_ITS_WAY_WAIT_S`); the wait's write is refused at once, which hands the order to the Map."""

    model_config = ConfigDict(defer_build=True)

    shipment_id: str
    delivery_timeout_s: int = Field(ge=1)
    shipped_now: bool = False  # this call shipped it (what the shipments metric counts)


class Reserved(BaseModel):
    """ReserveAndShip's answer: the reservation's shipments (what ShipEachShipment iterates) and the parcel
    WaitForItsDelivery parks on (ShipTheOnlyParcel's answer, given in the same call)."""

    model_config = ConfigDict(defer_build=True)

    shipments: list[PlannedShipment]
    parcel: OnlyParcel


class Released(BaseModel):
    model_config = ConfigDict(defer_build=True)

    released_units: int
    parcels_shipped: int  # > 0: nothing was released; the workflow asks a person instead of cancelling


# --- per function -------------------------------------------------------------------------------------------------
AllocateTask = TypeAdapter(Annotated[ReserveStockInput | ReleaseStockInput | StockDueInput | AwaitStockInput,
                                     Field(discriminator="action")])
ShipTask = TypeAdapter(Annotated[ReserveAndShipInput | ShipShipmentInput | ShipTheOnlyParcelInput | AwaitReleaseInput
                                 | AwaitDeliveryInput | CompleteOrderInput
                                 | DeliveryLateInput | SettleClaimInput | HoldExpiredInput | AwaitPackingInput
                                 | PackingLateInput | AwaitCollectionInput | CollectionReminderInput,
                                 Field(discriminator="action")])
CompensateTask = TypeAdapter(Annotated[CancelOrderInput | AskAPersonInput, Field(discriminator="action")])

# action -> (input model, output model or None when the ASL reads nothing of the result)
TASKS: dict[str, tuple[type[Task], type[BaseModel] | None]] = {
    "reserve_and_ship": (ReserveAndShipInput, Reserved),
    "reserve_stock": (ReserveStockInput, Allocation),
    "release_stock": (ReleaseStockInput, Released),
    "ship_shipment": (ShipShipmentInput, Shipped),
    "ship_the_only_parcel": (ShipTheOnlyParcelInput, OnlyParcel),
    "await_release": (AwaitReleaseInput, None),
    "stock_due": (StockDueInput, StockWait),
    "await_stock": (AwaitStockInput, None),  # resumed with the Allocation by whoever reserved the order
    "hold_expired": (HoldExpiredInput, HoldExpiry),
    "await_packing": (AwaitPackingInput, None),
    "packing_late": (PackingLateInput, PackingLate),
    "await_collection": (AwaitCollectionInput, None),
    "collection_reminder": (CollectionReminderInput, CollectionWait),
    "await_delivery": (AwaitDeliveryInput, None),
    "delivery_late": (DeliveryLateInput, Late),
    "settle_claim": (SettleClaimInput, Settled),
    "complete_order": (CompleteOrderInput, None),  # executions started before decision 111 only
    "cancel_order": (CancelOrderInput, None),
    "ask_a_person": (AskAPersonInput, None),
}

