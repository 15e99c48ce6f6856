"""The storefront, the sandbox carrier, a 3PL partner and operators (the admin API; a store's desk on the console),
as outsiders talking HTTP to the local gateway (demo and tests)."""

from __future__ import annotations

import base64
import html
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dawra.adapters.carriers.sandbox import sign
from dawra.contracts.partners import PARTNER_SIGNATURE_HEADER, PartnerMessage, verify
from dawra.contracts.partners import sign as partner_sign
from dawra.domain.time import iso
from dawra.web.security import SESSION_COOKIE


@dataclass
class HttpResult:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> HttpResult:
    request = urllib.request.Request(  # noqa: S310 - the local gateway's http:// URL (demo and tests)
        url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - that same request
            return HttpResult(response.status, json.loads(response.read() or b"{}"), dict(response.headers))
    except urllib.error.HTTPError as error:
        return HttpResult(error.code, json.loads(error.read() or b"{}"), dict(error.headers))


class Storefront:
    def __init__(self, base_url: str):
        self.base_url = base_url

    def place_order(self, order: dict[str, Any], idempotency_key: str) -> HttpResult:
        return http("POST", f"{self.base_url}/orders", json.dumps(order).encode(),
                    {"Content-Type": "application/json", "Idempotency-Key": idempotency_key})

    def get_order(self, order_id: str) -> HttpResult:
        return http("GET", f"{self.base_url}/orders/{order_id}")

    def availability(self, skus: list[str], country: str, city: str | None = None) -> HttpResult:
        """What a product page or a cart shows first: stock per location and the delivery options' earliest dates."""
        query = urllib.parse.urlencode([("sku", sku) for sku in skus] + [("country", country)]
                                       + ([("city", city)] if city else []))
        return http("GET", f"{self.base_url}/availability?{query}")

    def wait_for(self, order_id: str, statuses: set[str], timeout_s: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            order = self.get_order(order_id).body
            if order.get("status") in statuses:
                return order
            if time.monotonic() > deadline:
                raise TimeoutError(f"order {order_id} is {order.get('status')}, not {sorted(statuses)}")
            time.sleep(0.05)


class SandboxCarrierSimulator:
    """Posts signed webhooks in the sandbox carrier's own format (its statuses and what each means:
    dawra/adapters/carriers/sandbox.py). `occurred_at` is the carrier's clock: pass one in the future or before the
    label to see it kept at the time received, flagged."""

    def __init__(self, base_url: str, secret: str):
        self.url = f"{base_url}/webhooks/carriers/sandbox"
        self.secret = secret.encode()
        self.sent = 0

    def post(self, tracking_number: str, status: str, event_id: str | None = None,
             occurred_at: str | None = None, signature: str | None = None,
             location: str = "Riyadh", cod_collected: int | None = None, currency: str = "SAR") -> HttpResult:
        """`cod_collected`: a DELIVERED report on a cash-on-delivery parcel says what the courier collected (minor
        units of `currency`)."""
        self.sent += 1
        body = json.dumps({
            "event_id": event_id or f"sbx-{tracking_number}-{status}",
            "tracking_number": tracking_number,
            "status": status,
            "occurred_at": occurred_at or iso(datetime.now(UTC)),
            "location": location,
            **({"cod_collected": {"amount": cod_collected, "currency": currency}} if cod_collected is not None
               else {}),
        }).encode()
        headers = {"Content-Type": "application/json",
                   "X-Carrier-Signature": signature or sign(body, self.secret, int(time.time()))}
        return http("POST", self.url, body, headers)

    def deliver(self, tracking_number: str, cod_collected: int | None = None) -> None:
        """On its way, then delivered (for a cash-on-delivery parcel, `cod_collected`: what the courier took)."""
        self.report(tracking_number, "PICKED_UP", "OUT_FOR_DELIVERY")
        result = self.post(tracking_number, "DELIVERED", cod_collected=cod_collected)
        if result.status != 202:
            raise RuntimeError(f"webhook refused: {result.status} {result.body}")

    def return_to_sender(self, tracking_number: str) -> None:
        """The parcel goes back and arrives at the location it left from."""
        self.report(tracking_number, "PICKED_UP", "RETURNED_TO_SENDER", "RETURN_DELIVERED")

    def report(self, tracking_number: str, *statuses: str) -> None:
        """Each status in turn, now, each accepted (202) or an error."""
        for status in statuses:
            result = self.post(tracking_number, status)
            if result.status != 202:
                raise RuntimeError(f"webhook refused: {result.status} {result.body}")


class PartnerSimulator:
    """A 3PL (a partner location, decision 97): takes the shipments Dawra sends it off the partner-outbound queue,
    checks their signature, and posts its signed "packed" callback over HTTP, as a real partner would."""

    def __init__(self, base_url: str, partner: str, secret: str, sqs: Any, queue_url: str):
        self.base_url, self.partner, self.secret = base_url, partner, secret.encode()
        self.sqs, self.queue_url = sqs, queue_url

    def take(self, wait_s: float = 30) -> list[dict[str, Any]]:
        """The shipments waiting for this partner (each once; a forged message is left alone), as sent."""
        deadline, taken = time.monotonic() + wait_s, list[dict[str, Any]]()
        while not taken and time.monotonic() < deadline:
            answer = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                              MessageAttributeNames=["partner"])
            for message in answer.get("Messages", []):
                sent = PartnerMessage.model_validate_json(message["Body"])
                raw = base64.b64decode(sent.body_b64)
                if sent.partner != self.partner:
                    continue
                verify(raw, sent.signature, self.secret, int(time.time() * 1000))
                taken.append(json.loads(raw))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return taken

    def callback(self, shipment: dict[str, Any], status: str = "packed", tracking_number: str | None = None,
                 event_id: str | None = None, signature: str | None = None) -> HttpResult:
        body = json.dumps({"event_id": event_id or f"{self.partner}-{shipment['shipment_id']}-{status}",
                           "order_id": shipment["order_id"], "shipment_id": shipment["shipment_id"],
                           "status": status, "occurred_at": iso(datetime.now(UTC)),
                           **({"tracking_number": tracking_number} if tracking_number else {})}).encode()
        headers = {"Content-Type": "application/json",
                   PARTNER_SIGNATURE_HEADER: signature or partner_sign(body, self.secret, int(time.time()))}
        return http("POST", f"{self.base_url}/partners/{self.partner}/callbacks", body, headers)


class AdminApi:
    """An operator's client of the admin API: a Cognito ID token in the Authorization header, as on AWS."""

    def __init__(self, base_url: str, id_token: str):
        self.base_url, self.id_token = base_url, id_token

    def _headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": self.id_token, "Content-Type": "application/json"}
        return {**headers, "Idempotency-Key": key} if key else headers

    def get(self, path: str) -> HttpResult:
        return http("GET", f"{self.base_url}/admin/api{path}", headers=self._headers())

    def post(self, path: str, body: dict[str, Any], key: str) -> HttpResult:
        return http("POST", f"{self.base_url}/admin/api{path}", json.dumps(body).encode(), self._headers(key))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # a console form answers 303: the caller sees it


@dataclass
class WebPage:
    status: int
    text: str
    cookies: dict[str, str]


def web(method: str, url: str, form: dict[str, str] | None = None, cookies: dict[str, str] | None = None,
        timeout: float = 30) -> WebPage:
    """A browser's request to the console: a form posted url-encoded, cookies sent, redirects not followed."""
    headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in (cookies or {}).items())}
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(  # noqa: S310 - the local gateway's http:// URL (demo and tests)
        url, data=urllib.parse.urlencode(form).encode() if form is not None else None, method=method,
        headers=headers)
    try:
        response = urllib.request.build_opener(_NoRedirect).open(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        set_cookies = response.headers.get_all("Set-Cookie") or []
        return WebPage(response.status, response.read().decode(),
                       dict(c.split(";", 1)[0].split("=", 1) for c in set_cookies if "=" in c))


class StoreDesk:
    """A store's staff at the operators' console's "Store pickup" page (/admin/pickups), signed in on its sign-in
    page with their username and password, posting its forms (CSRF token, a form key) as their browser does."""

    def __init__(self, base_url: str, location_id: str):
        self.base_url, self.location_id, self.cookies = base_url, location_id, dict[str, str]()

    def sign_in(self, username: str, password: str) -> None:
        page = web("GET", f"{self.base_url}/admin/signin?lang=en")
        done = web("POST", f"{self.base_url}/admin/signin", {
            "csrf": self._hidden(page.text, "csrf"), "next": "", "lang": "en", "username": username,
            "password": password}, page.cookies)
        if done.status != 303 or not done.cookies.get(SESSION_COOKIE):
            raise RuntimeError(f"the console refused the sign-in: {done.status}")
        self.cookies = {SESSION_COOKIE: done.cookies[SESSION_COOKIE]}

    def page(self) -> str:
        query = urllib.parse.urlencode({"location": self.location_id})
        page = web("GET", f"{self.base_url}/admin/pickups?{query}", cookies=self.cookies)
        if page.status != 200:
            raise RuntimeError(f"the store pickup page answered {page.status}")
        return page.text

    def shipment(self, order_id: str, status: str, wait_s: float = 60) -> str:
        """The order's shipment id once the desk lists it in `status` (allocated: to put out; ready_for_pickup)."""
        deadline = time.monotonic() + wait_s
        while True:
            found = re.search(rf'data-shipment="([^"]+)" data-order="{re.escape(order_id)}" '
                              rf'data-status="{re.escape(status)}"', self.page())
            if found:
                return found.group(1)
            if time.monotonic() > deadline:
                raise TimeoutError(f"order {order_id} never showed on the {self.location_id} desk as {status}")
            time.sleep(0.2)

    def mark_ready(self, order_id: str, shipment_id: str) -> WebPage:
        return self._post("ready", order_id, shipment_id, {})

    def hand_over(self, order_id: str, shipment_id: str, code: str) -> WebPage:
        return self._post("hand-over", order_id, shipment_id, {"code": code})

    def _post(self, action: str, order_id: str, shipment_id: str, fields: dict[str, str]) -> WebPage:
        return web("POST", f"{self.base_url}/admin/pickups/{action}", {
            "csrf": self._hidden(self.page(), "csrf"), "key": f"desk-{uuid.uuid4()}", "location": self.location_id,
            "order_id": order_id, "shipment_id": shipment_id, **fields}, self.cookies)

    @staticmethod
    def _hidden(page: str, name: str) -> str:
        found = re.search(rf'name="{name}" value="([^"]*)"', page)
        if not found:
            raise RuntimeError(f"no {name} field on the console's page")
        return html.unescape(found.group(1))

    @staticmethod
    def problem(page: WebPage) -> str:
        """The problem the page shows (its role="alert" box), as the operator reads it."""
        found = re.search(r'data-testid="problem">\s*<p>([^<]*)</p>', page.text)
        return html.unescape(found.group(1)) if found else ""
