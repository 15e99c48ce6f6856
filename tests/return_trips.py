"""What the integration tests of returns share: a delivered order on the local stack, the returns use cases as the
customer's page and the console call them (dawra.bootstrap.build_returns, against the embedded cloud), the return
read back from DynamoDB, the carrier reporting on a return parcel, the return's execution, and what the customer was
told about the return (the emails and SMS in the local outbox, each known by what it says)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parcels import carrier, place_order, shipped_tracking, wait_until

from dawra.domain.access import Actor, Role
from dawra.domain.returns import RefundMethod, Return, ReturnMethod, ReturnReason, ReturnRequest
from dawra.local.actors import http

AGENT = Actor(user_id="u-agent", username="agent@dawra.example", roles=frozenset({Role.AGENT}))
WAREHOUSE = Actor(user_id="u-wh", username="warehouse@dawra.example", roles=frozenset({Role.WAREHOUSE}))


def returns_of(stack: Any) -> Any:
    """The returns use cases as a deployed function builds them, starting returns on the stack's state machine."""
    from dawra.bootstrap import build_returns
    from dawra.contracts.env import settings

    arn = stack.cloud.resolve_ref("state_machine", "return-lifecycle", "arn")
    return build_returns(settings().model_copy(update={"return_lifecycle_arn": arn}))


def delivered_order(stack: Any, email: str, lines: dict[str, int], placed: str | None = None) -> str:
    """An order placed (by the storefront, or `placed`: its id, placed some other way), shipped and delivered."""
    order_id = placed or place_order(stack, email, lines)
    carrier(stack).deliver(shipped_tracking(stack, order_id))
    wait_until(stack, order_id, lambda o: o["status"] == "COMPLETED", what="not delivered")
    return order_id


def asking(lines: dict[str, tuple[int, ReturnReason]], method: ReturnMethod = ReturnMethod.LABEL,
           refund: RefundMethod = RefundMethod.ORIGINAL_PAYMENT, location: str = "riyadh-dc",
           iban: str | None = None) -> ReturnRequest:
    return ReturnRequest(lines=[(sku, quantity, reason, "") for sku, (quantity, reason) in lines.items()],
                         method=method, refund_method=refund, location_id=location, bank_account=iban)


def the_return(stack: Any, order_id: str, return_id: str) -> Return:
    from dawra.adapters.dynamo.orders import DynamoOrders

    order = DynamoOrders(stack.cloud.resolve_ref("table", "orders", "name")).get(order_id)
    assert order is not None
    return order.return_of(return_id)


def return_when(stack: Any, order_id: str, return_id: str, ready: Callable[[Return], bool], what: str,
                timeout_s: float = 60) -> Return:
    deadline = time.monotonic() + timeout_s
    while True:
        ret = the_return(stack, order_id, return_id)
        if ready(ret):
            return ret
        if time.monotonic() > deadline:
            raise TimeoutError(f"return {return_id}: {what}: {ret.status}")
        time.sleep(0.05)


def status_is(*statuses: str) -> Callable[[Return], bool]:
    return lambda ret: ret.status.value in statuses


def parked(status: str) -> Callable[[Return], bool]:
    """In `status` with the workflow's task token kept on it (its wait has parked)."""
    return lambda ret: ret.status.value == status and ret.resume_token is not None


def report_return(stack: Any, tracking: str, status: str, **extra: Any) -> None:
    result = carrier(stack).post(tracking, status, event_id=f"ret-{tracking}-{status}", **extra)
    assert result.status == 202, result.body


def post_json(stack: Any, path: str, body: dict[str, Any], key: str | None) -> Any:
    """A storefront's POST to the local HTTP gateway (a return, a claim), with an Idempotency-Key unless None."""
    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})}
    return http("POST", f"{stack.gateway.url}{path}", json.dumps(body).encode(), headers)


def executions_of(stack: Any, return_id: str) -> list[dict[str, Any]]:
    """Every run of the return workflow for this return (a retried request starts none more)."""
    arn = stack.cloud.resolve_ref("state_machine", "return-lifecycle", "arn")
    executions = stack.cloud.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
    return [e for e in executions if e["name"] == return_id]


def execution(stack: Any, return_id: str, timeout_s: float = 30) -> dict[str, Any]:
    """The return's execution once it is no longer running (its status, and the states it went through)."""
    arn = stack.cloud.resolve_ref("state_machine", "return-lifecycle", "arn").replace(
        ":stateMachine:", ":execution:") + f":{return_id}"
    sfn = stack.cloud.client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    return {"status": sfn.describe_execution(executionArn=arn)["status"], "states": entered}


# --- what the customer was told --------------------------------------------------------------------------------------
# An email is known by its subject (the notifier's subjects in each language); an SMS by the words after "Order
# <ref>: " (sms_<language>.txt), written out here so that a message saying the wrong thing is not recognised.
SMS_OPENINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {"return_requested": ("return request received",), "return_approved": ("your return is accepted",),
           "return_declined": ("sorry, your return request was declined",),
           "return_expired": ("sorry, your return request expired",),
           "return_label_issued": ("your return label is ready",), "return_received": ("we received your return",),
           "return_refunded": ("we gave you back",),
           "return_rejected": ("we could not accept the parcel you returned",),
           "return_label_expired": ("your return label expired unused",
                                    "your return was not brought to the store in time"),
           "claim_opened": ("we received your report",), "claim_declined": ("sorry, your claim was declined",),
           "claim_refunded": ("about your claim, we gave you back",),
           "claim_replacement_shipped": ("the items of your claim are on their way again",)},
    "ar": {"return_requested": ("استلمنا طلب الإرجاع",), "return_approved": ("تمت الموافقة على الإرجاع",),
           "return_declined": ("نعتذر، تم رفض طلب الإرجاع",),
           "return_expired": ("نعتذر، انتهت صلاحية طلب الإرجاع",),
           "return_label_issued": ("ملصق الإرجاع جاهز",), "return_received": ("استلمنا المرتجع",),
           "return_refunded": ("أعدنا إليك",), "return_rejected": ("تعذّر قبول الطرد المرتجع",),
           "return_label_expired": ("انتهت صلاحية ملصق الإرجاع", "لم تصل المنتجات المرتجعة إلى المتجر"),
           "claim_opened": ("استلمنا بلاغك",), "claim_declined": ("نعتذر، تم رفض بلاغك",),
           "claim_refunded": ("بخصوص بلاغك، أعدنا إليك",),
           "claim_replacement_shipped": ("منتجات بلاغك في الطريق إليك مرة أخرى",)},
}
SMS_PREFIX = {"en": "Order {ref}: ", "ar": "الطلب {ref}: "}
HTML_LANGUAGE = re.compile(r'<html lang="([a-z]+)" dir="(ltr|rtl)">')


@dataclass(frozen=True)
class Told:
    """One message about a return: which (its kind), how (email or sms), in which language, and what it said."""

    kind: str
    channel: str
    language: str  # en | ar: its words' (for an email, also its HTML's lang and direction), else "mixed"
    body: str


def _return_message(message: Any, ref: str) -> Told | None:
    """The return message `message` is, or None (about another order, or not about a return)."""
    from dawra.domain.timeline import TimelineKind
    from dawra.rendering import SUBJECTS

    if message.channel == "email":
        for language, subjects in SUBJECTS.items():
            for kind, subject in subjects.items():
                if kind.value.startswith(("return_", "claim_")) and kind != TimelineKind.RETURN_SETTLED \
                        and message.subject == subject.format(ref=ref):
                    html = HTML_LANGUAGE.search(message.body)
                    agrees = html is not None and html[1] == language and html[2] == ("rtl" if language == "ar"
                                                                                      else "ltr")
                    return Told(kind.value, "email", language if agrees else "mixed", message.body)
        return None
    for language, openings in SMS_OPENINGS.items():
        start = SMS_PREFIX[language].format(ref=ref)
        for kind, phrases in openings.items():
            if any(message.body.startswith(start + phrase) for phrase in phrases):
                return Told(kind, "sms", language, message.body)
    return None


def told_about_returns(stack: Any, order_id: str, to: tuple[str, ...], count: int, timeout_s: float = 30,
                       settle_s: float = 1.0) -> list[Told]:
    """The messages about the returns of `order_id` sent to any of `to` (an email address, a phone), in send order,
    once `count` have arrived and `settle_s` more has passed (for a duplicate, or one too many, to show)."""
    from dawra.rendering import order_reference

    ref = order_reference(order_id)

    def found() -> list[Told]:
        return [told for message in stack.outbox() if message.to in to
                and (told := _return_message(message, ref)) is not None]

    deadline = time.monotonic() + timeout_s
    while len(found()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(settle_s)
    return found()


def what_told(messages: list[Told]) -> list[tuple[str, str, str]]:
    return [(m.kind, m.channel, m.language) for m in messages]


PAGE_LINK = r"(http://127\.0\.0\.1:\d+/my-order/[A-Za-z0-9_-]{52})#return-"


def return_section_link(message: Told, return_id: str) -> str:
    """The link in `message` to the return's section of the order's page (the page's URL, signed at send time)."""
    found = re.search(PAGE_LINK + re.escape(return_id) + r"\b", message.body)
    assert found, f"no link to return {return_id} in: {message.body}"
    return found[1]
