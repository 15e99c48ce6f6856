"""Returns on the local stack: what one return costs in requests, from the customer's request to the refund.

A return is driven from the outside, as people and the carrier drive it: the customer's order page (the return form,
the review, the confirmation: three requests to the customer function through the gateway), the sandbox carrier's
signed webhooks for the return parcel (PICKED_UP, then DELIVERED), and the warehouse's inspection in the console (one
form post to the console function; for a policy that needs approval first, the agent's approval before it). The
order it returns from is carried to Completed and every request it still has in flight is let finish before the
recording starts, so none of the order's own requests are counted.

Not counted per return: page views that change nothing (the order page before and after, the console's order page
the operators read), and the label PDF download, which draws the label with fpdf2 on the customer's request (on
AWS the return-label function behind its HTTP API; here the customer function's route, the same code), not in the
workflow. One download is measured on its own (:func:`measure_label_download`).
"""

from __future__ import annotations

import html
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench import counting
from bench.lifecycle import SINGLE_SHIPMENT_ORDER, Bench, _settle, figures, settle
from dawra.domain import order_link
from dawra.domain.returns import Return

# A one-line single-shipment order of a prayer mat from Riyadh (the standard policy: no approval, the label charged).
PRAYER_MAT_ORDER = {**SINGLE_SHIPMENT_ORDER, "lines": [{"sku": "PRAYER-MAT", "quantity": 1}]}


@dataclass(frozen=True)
class ReturnKind:
    name: str
    order: dict[str, Any]
    sku: str  # one unit of this line goes back
    approval: bool  # the policy needs an agent's approval first


STANDARD = ReturnKind("standard", PRAYER_MAT_ORDER, "PRAYER-MAT", approval=False)
# The demo's two mugs from Riyadh; mugs are under the inspect-first policy (approved by an agent, restocking fee).
APPROVAL_FIRST = ReturnKind("approval_first", SINGLE_SHIPMENT_ORDER, "MUG-CLASSIC", approval=True)


# --- a browser: form posts, cookies kept, redirects not followed ------------------------------------------------------

@dataclass
class Page:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def form(self, testid: str) -> dict[str, str]:
        """The hidden fields of one form (by its data-testid), as a browser sends them back."""
        found = re.search(rf'<form[^>]*data-testid="{re.escape(testid)}".*?</form>', self.text, re.S)
        if found is None:
            raise RuntimeError(f"no form {testid} on the page ({self.status}): {self.text[:300]!r}")
        return {name: html.unescape(value) for name, value in
                re.findall(r'<input type="hidden" name="([a-zA-Z_.-]+)" value="([^"]*)"', found[0])}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the 303 after a form is the answer; the next page is not fetched
        return None


@dataclass
class Browser:
    base: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Page:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310 - local gateway
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            response = urllib.request.build_opener(_NoRedirects).open(request, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        for line in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = line.partition("=")
            if "Max-Age=0" in line:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = rest.split(";", 1)[0]
        return Page(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())

    def get(self, path: str) -> Page:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str], expect: int = 303) -> Page:
        page = self.request("POST", path, form)
        if page.status != expect:
            raise RuntimeError(f"POST {path}: {page.status}, not {expect}: {page.text[:500]!r}")
        return page


class Desk:
    """The operators at the console: an agent and a warehouse user, signed in once (before anything is counted)."""

    def __init__(self, bench: Bench, name: str = "bench"):
        from dawra.local.seed import create_operator

        with counting.driver():
            made = {role: create_operator(bench.stack.cloud, f"{name}-{role}", f"{name}-{role}@dawra.example", (role,))
                    for role in ("agent", "warehouse")}
        self.browsers: dict[str, Browser] = {}
        self.csrf: dict[str, str] = {}
        for role, operator in made.items():
            browser = Browser(bench.stack.gateway.url)
            signin = browser.get("/admin/signin")
            browser.post("/admin/signin", {**signin.form("signin-form"), "username": operator.username,
                                           "password": operator.password, "next": ""})
            orders = browser.get("/admin/orders")
            found = re.search(r'name="csrf" value="([^"]*)"', orders.text)
            if orders.status != 200 or found is None:
                raise RuntimeError(f"the console's {role} has no session: {orders.status}")
            self.browsers[role], self.csrf[role] = browser, html.unescape(found[1])

    def act(self, role: str, order_id: str, return_id: str, action: str, **fields: str) -> None:
        """One form post on a return (approve, inspect, ...)."""
        self.post(role, f"/admin/orders/{order_id}/returns/{return_id}/{action}", **fields)

    def post(self, role: str, path: str, **fields: str) -> None:
        """One form post with the session's CSRF token and a fresh form key."""
        self.browsers[role].post(path, {"csrf": self.csrf[role], "key": f"k-{uuid.uuid4()}", **fields})


# --- one return, outside in ---------------------------------------------------------------------------------------------

def return_execution_arn(bench: Bench, return_id: str) -> str:
    arn = bench.stack.cloud.resolve_ref("state_machine", "return-lifecycle", "arn")
    return arn.replace(":stateMachine:", ":execution:") + f":{return_id}"


def page_token(bench: Bench, order_id: str) -> str:
    """The order page's link token, signed as the notifier signs it (the benchmark's own reads, not counted)."""
    cloud = bench.stack.cloud
    with counting.driver():
        key = cloud.client("secretsmanager").get_secret_value(
            SecretId=cloud.resolve_ref("secret", "order-link-key", "name"))["SecretString"]
        order = bench.orders.get(order_id)
    if order is None:
        raise RuntimeError(f"order {order_id} not found")
    return order_link.issue_for(key.encode(), order_id, order.link_version, datetime.now(UTC))


def the_return(bench: Bench, order_id: str, return_id: str) -> Return:
    with counting.driver():
        order = bench.orders.get(order_id)
    if order is None:
        raise RuntimeError(f"order {order_id} not found")
    return order.return_of(return_id)


def return_when(bench: Bench, order_id: str, return_id: str, ready: Callable[[Return], bool], what: str,
                timeout_s: float = 60) -> Return:
    deadline = time.monotonic() + timeout_s
    while True:
        ret = the_return(bench, order_id, return_id)
        if ready(ret):
            return ret
        if ret.status.value in ("declined", "expired", "rejected", "label_expired") or time.monotonic() > deadline:
            raise RuntimeError(f"return {return_id}: {what}: it is {ret.status.value}")
        time.sleep(0.02)


def parked(status: str) -> Callable[[Return], bool]:
    """In `status`, with the workflow's task token kept on it (its wait has begun)."""
    return lambda ret: ret.status.value == status and ret.resume_token is not None


def request_return(bench: Bench, order_id: str, sku: str) -> str:
    """The customer's three requests: the form, the review (the estimate), the confirmation. The return's id."""
    customer = Browser(bench.stack.gateway.url)
    path = f"/my-order/{page_token(bench, order_id)}/return"
    form = customer.get(path)
    review = customer.post(path, {**form.form("return-form"), f"qty.{sku}": "1", f"reason.{sku}": "changed_mind",
                                  f"comment.{sku}": "", "method": "label", "refund_method": "original_payment",
                                  "step": "review"}, expect=200)
    done = customer.post(path, review.form("return-confirm-form"))
    return done.headers["location"].rsplit("#return-", 1)[1]


def carry_return(bench: Bench, desk: Desk, kind: ReturnKind, order_id: str) -> str:
    """Requested to closed: the customer asks, (an agent approves,) the carrier brings the parcel back, the
    warehouse inspects it sellable, the workflow restocks it and refunds the card. The return's id."""
    return_id = request_return(bench, order_id, kind.sku)
    if kind.approval:
        return_when(bench, order_id, return_id, parked("requested"), "not waiting for approval")
        desk.act("agent", order_id, return_id, "approve")
    labelled = return_when(bench, order_id, return_id, lambda r: r.status.value == "label_issued"
                           and r.tracking_number is not None, "no label")
    tracking = str(labelled.tracking_number)
    bench.carrier.report(tracking, "PICKED_UP")
    return_when(bench, order_id, return_id, lambda r: r.status.value != "label_issued", "not in transit")
    bench.carrier.report(tracking, "DELIVERED")
    return_when(bench, order_id, return_id, parked("received"), "not waiting for inspection")
    desk.act("warehouse", order_id, return_id, "inspect", **{f"outcome.{kind.sku}": "sellable"})
    closed = return_when(bench, order_id, return_id, lambda r: r.status.value == "closed", "not closed")
    if closed.refunded is None or closed.refunded.amount <= 0:
        raise RuntimeError(f"return {return_id} closed without a refund")
    bench.wait_execution(return_execution_arn(bench, return_id))
    return return_id


def measure_return(bench: Bench, desk: Desk, kind: ReturnKind, repeat: int = 1,
                   delivered: list[str] | None = None) -> dict[str, Any]:
    """Every request `repeat` returns make, one after another, from the customer's form to the last message; per
    return. Their orders (`delivered`, or new ones of `kind.order`) are delivered first and let come to rest,
    uncounted."""
    order_ids = delivered or [bench.carry(kind.order) for _ in range(repeat)]
    repeat = len(order_ids)
    settle(bench)
    gateway_before = bench.stack.gateway.requests
    invocations_before = dict(bench.stack.cloud.lambdas.invocations)
    return_ids = []
    with counting.recording() as recorder:
        for order_id in order_ids:
            return_ids.append(carry_return(bench, desk, kind, order_id))
        _settle(recorder)
    histories = [bench.history_of(return_execution_arn(bench, return_id)) for return_id in return_ids]
    states = [e["stateEnteredEventDetails"]["name"] for e in histories[-1] if "stateEnteredEventDetails" in e]
    return {"returns_measured": repeat, "policy": "inspect-first" if kind.approval else "standard",
            **figures(bench, recorder, histories, repeat, invocations_before, gateway_before),
            "return_states": states, "order_ids": order_ids, "return_ids": return_ids}


def warm_up(bench: Bench, desk: Desk) -> dict[str, Any]:
    """One standard return carried to the end uncounted, so that every function the returns use has run once; while
    its label is ready, the label PDF is downloaded twice (the first render imports fpdf2 and loads the fonts) and
    the second download is measured on its own: the requests and in-process time of one download."""
    order_id = bench.carry(PRAYER_MAT_ORDER)
    return_id = request_return(bench, order_id, STANDARD.sku)
    return_when(bench, order_id, return_id, parked("label_issued"), "no label")
    path = f"/my-order/{page_token(bench, order_id)}/returns/{return_id}/label.pdf"
    Browser(bench.stack.gateway.url).get(path)
    settle(bench)
    gateway_before = bench.stack.gateway.requests
    invocations_before = dict(bench.stack.cloud.lambdas.invocations)
    with counting.recording() as recorder:
        began = time.perf_counter()
        pdf = Browser(bench.stack.gateway.url).get(path)
        wall_s = time.perf_counter() - began
        _settle(recorder, quiet_s=0.5)
    if pdf.status != 200 or not pdf.body.startswith(b"%PDF-"):
        raise RuntimeError(f"the label of {return_id}: {pdf.status}")
    measured = figures(bench, recorder, [], 1, invocations_before, gateway_before)
    tracking = str(the_return(bench, order_id, return_id).tracking_number)
    bench.carrier.report(tracking, "PICKED_UP", "DELIVERED")
    return_when(bench, order_id, return_id, parked("received"), "not waiting for inspection")
    desk.act("warehouse", order_id, return_id, "inspect", **{f"outcome.{STANDARD.sku}": "sellable"})
    return_when(bench, order_id, return_id, lambda r: r.status.value == "closed", "not closed")
    bench.wait_execution(return_execution_arn(bench, return_id))
    return {"downloads_measured": 1, **measured, "wall_ms": round(1000 * wall_s, 1), "pdf_bytes": len(pdf.body)}


def measure(bench: Bench, repeat: int, approval_repeat: int) -> dict[str, dict[str, Any]]:
    """The returns section of results.json: a warm-up (and the label download), then `repeat` standard returns and
    `approval_repeat` returns under the inspect-first policy (0: none)."""
    desk = Desk(bench)
    label = warm_up(bench, desk)
    measured = {"standard": measure_return(bench, desk, STANDARD, repeat)}
    if approval_repeat:
        measured["approval_first"] = measure_return(bench, desk, APPROVAL_FIRST, approval_repeat)
    return {**measured, "label_download": label}
