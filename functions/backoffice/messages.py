"""Admin API: the order actions that change no money or stock: resend a message, a note, hold and release."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from office import ORDER, Key, OrderId, Why, acted, caller, office

from dawra.contracts import admin

router = APIGatewayRouter()


@router.post(f"{ORDER}/messages/<event_id>/resend", summary="Send a customer message again")
def resend(order_id: OrderId, event_id: Annotated[str, Path(max_length=160)], body: Why,
           key: Key) -> admin.ActionResult:
    actor = caller(router)
    outcome = office.actions.resend_message(actor, order_id, key, event_id, body.reason)
    return admin.ActionResult.model_validate(acted(actor, outcome))


@router.post(f"{ORDER}/notes", summary="Add an internal note")
def note(order_id: OrderId, body: Annotated[admin.NoteRequest, Body()], key: Key) -> admin.ActionResult:
    actor = caller(router)
    return admin.ActionResult.model_validate(acted(actor, office.actions.add_note(actor, order_id, key, body.note)))


@router.post(f"{ORDER}/hold", summary="Put the order on hold: nothing ships until released")
def hold(order_id: OrderId, body: Why, key: Key) -> admin.ActionResult:
    actor = caller(router)
    return admin.ActionResult.model_validate(acted(actor, office.actions.hold(actor, order_id, key, body.reason)))


@router.post(f"{ORDER}/release", summary="Release (approve) a held order so it ships; who may depends on the "
                                         "hold's kind")
def release(order_id: OrderId, body: Why, key: Key) -> admin.ActionResult:
    actor = caller(router)
    return admin.ActionResult.model_validate(acted(actor, office.actions.release(actor, order_id, key, body.reason)))
