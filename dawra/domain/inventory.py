"""Stock: reservations per (order, sku, location) and the moves that change stock levels.

A reservation is held when an order is allocated, then either shipped (the units left with a parcel: on hand and
reserved go down) or released (the units go back to available). Each move happens at most once."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field


class ReservationState(enum.StrEnum):
    HELD = "held"
    SHIPPED = "shipped"
    RELEASED = "released"


class Reservation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: str
    shipment_id: str
    sku: str
    location_id: str
    quantity: int = Field(ge=1)
    state: ReservationState = ReservationState.HELD


class MoveKind(enum.StrEnum):
    HOLD = "hold"  # available -> reserved (only if enough is available)
    CONSUME = "consume"  # reserved -> gone with a parcel (on hand and reserved go down)
    RELEASE = "release"  # reserved -> available again


class StockMove(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: MoveKind
    reservation: Reservation


def hold(reservation: Reservation) -> StockMove:
    return StockMove(kind=MoveKind.HOLD, reservation=reservation)


def consume(reservation: Reservation) -> StockMove:
    if reservation.state != ReservationState.HELD:
        raise ValueError(f"only a held reservation can ship, not a {reservation.state} one")
    return StockMove(kind=MoveKind.CONSUME, reservation=reservation)


def release(reservation: Reservation) -> StockMove:
    if reservation.state != ReservationState.HELD:
        raise ValueError(f"only a held reservation can be released, not a {reservation.state} one")
    return StockMove(kind=MoveKind.RELEASE, reservation=reservation)


class StockLevel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str
    location_id: str
    on_hand: int
    reserved: int
    available: int
