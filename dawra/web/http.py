"""A request and a response as the console sees them, and the translation from an API Gateway REST proxy event.

Kept free of any web framework: the Lambda entry point hands `request_from_event(event)` to the console and turns its
`WebResponse` into the proxy result; tests build `WebRequest`s directly."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from dawra.web.security import NO_STORE, SECURITY_HEADERS, parse_cookies

MAX_FORM_BYTES = 64 * 1024
HTML = "text/html; charset=utf-8"
LOCAL_STAGE = "local"  # the embedded cloud's gateway serves the API without a stage prefix


@dataclass(frozen=True)
class WebRequest:
    method: str
    path: str  # without the stage prefix: /admin/orders/ord_...
    query: Mapping[str, list[str]] = field(default_factory=dict)
    form: Mapping[str, list[str]] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case
    base: str = ""  # what precedes /admin in the browser's URL: "/v1" through the deployed stage, "" locally

    def arg(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[-1].strip() if values else default

    def field(self, name: str, default: str = "") -> str:
        values = self.form.get(name)
        return values[-1] if values else default

    def fields(self, name: str) -> list[str]:
        return list(self.form.get(name, []))

    @property
    def is_htmx(self) -> bool:
        return self.headers.get("hx-request") == "true"


@dataclass
class WebResponse:
    status: int
    body: str | bytes = ""
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)  # Set-Cookie values
    cacheable: bool = False  # static files only: pages hold customer data and are never stored

    def all_headers(self) -> dict[str, str]:
        return {**SECURITY_HEADERS, **({} if self.cacheable else NO_STORE), "Content-Type": self.content_type,
                **self.headers}


def http_api_response(answer: WebResponse) -> dict[str, Any]:
    """An answer as an HTTP API's Lambda proxy result (payload format 2.0): bytes as base64 with isBase64Encoded,
    which the HTTP API sends on as the bytes themselves whatever the Accept header (decision 78); Set-Cookie values
    in `cookies`."""
    body = answer.body
    return {"statusCode": answer.status, "headers": answer.all_headers(), "cookies": list(answer.cookies),
            "body": base64.b64encode(body).decode() if isinstance(body, bytes) else body,
            "isBase64Encoded": isinstance(body, bytes)}


def redirect(location: str, cookies: list[str] | None = None, status: int = 303) -> WebResponse:
    return WebResponse(status=status, headers={"Location": location}, cookies=cookies or [])


def with_query(path: str, **params: str | None) -> str:
    present = {key: value for key, value in params.items() if value}
    return f"{path}?{urlencode(present)}" if present else path


def _stage_prefix(event: Mapping[str, Any]) -> str:
    """The deployed API is reached as https://<api>/<stage>/admin/...; the path the function gets has no stage in it,
    and requestContext.path is the path as the browser asked for it (with the stage, or a custom domain's mapping)."""
    context = event.get("requestContext") or {}
    if context.get("stage") == LOCAL_STAGE:
        return ""
    asked, path = str(context.get("path") or ""), str(event.get("path") or "")
    return asked[: -len(path)] if path and asked.endswith(path) else ""


def request_from_http_api_event(event: Mapping[str, Any]) -> WebRequest:
    """An HTTP API's request (payload format 2.0): headers already in lower case, the query as the browser sent it
    (rawQueryString), the API's own origin ($default stage: no prefix). No form: GET only."""
    headers = {str(key).lower(): str(value) for key, value in (event.get("headers") or {}).items()}
    http = (event.get("requestContext") or {}).get("http") or {}
    return WebRequest(method=str(http.get("method") or "GET").upper(), path=str(event.get("rawPath") or "/"),
                      query=parse_qs(str(event.get("rawQueryString") or ""), max_num_fields=50),
                      cookies=parse_cookies("; ".join(event.get("cookies") or [])), headers=headers)


def request_from_event(event: Mapping[str, Any]) -> WebRequest:
    headers = {str(key).lower(): str(value) for key, value in (event.get("headers") or {}).items()}
    query = {str(key): [str(v) for v in values]
             for key, values in (event.get("multiValueQueryStringParameters") or {}).items()}
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()
    form: dict[str, list[str]] = {}
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if body and media_type == "application/x-www-form-urlencoded" and len(body) <= MAX_FORM_BYTES:
        form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=200)
    return WebRequest(method=str(event.get("httpMethod") or "GET").upper(), path=str(event.get("path") or "/"),
                      query=query, form=form, cookies=parse_cookies(headers.get("cookie")), headers=headers,
                      base=_stage_prefix(event))

