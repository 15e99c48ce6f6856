"""The storefront and the sandbox carrier, as outsiders talking HTTP to the local gateway (demo and tests)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dawra.adapters.carriers.sandbox import sign
from dawra.domain.time import iso


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
