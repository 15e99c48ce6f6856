"""The return-label function's answer (functions/return_label, decision 78) to an HTTP API's payload format 2.0
event: the handler's own composition (request_from_http_api_event -> CustomerSite.label_download ->
http_api_response) on the in-memory fakes, with the site built as the handler builds it (no guest lookup, no
actions)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fakes import LINK_KEY
from returning import Returns
from test_customer_page import Log
from test_customer_returns_page import _request, a_delivered_order

from dawra.app.order_page import OpenOrderLink
from dawra.web.customer import CustomerSite
from dawra.web.http import http_api_response, request_from_http_api_event
from dawra.web.security import SECURITY_HEADERS

ROUTE = "GET /my-order/{token}/returns/{return_id}/label.pdf"


def event(token: str, return_id: str, path: str | None = None) -> dict[str, Any]:
    """What API Gateway sends for a browser following the page's link (text/html first in Accept)."""
    raw_path = path or f"/my-order/{token}/returns/{return_id}/label.pdf"
    return {
        "version": "2.0", "routeKey": ROUTE, "rawPath": raw_path, "rawQueryString": "",
        "headers": {"accept": "text/html,application/xhtml+xml,*/*;q=0.8", "host": "abc123.execute-api.example",
                    "sec-fetch-site": "cross-site", "user-agent": "Mozilla/5.0"},
        "pathParameters": {"token": token, "return_id": return_id},
        "requestContext": {"apiId": "abc123", "domainName": "abc123.execute-api.example", "stage": "$default",
                           "routeKey": ROUTE, "requestId": "r-1",
                           "http": {"method": "GET", "path": raw_path, "protocol": "HTTP/1.1",
                                    "sourceIp": "198.51.100.7", "userAgent": "Mozilla/5.0"}},
        "isBase64Encoded": False,
    }


@pytest.fixture
def label_site(shop: Any) -> CustomerSite:
    return CustomerSite(OpenOrderLink(shop.orders, lambda: LINK_KEY, shop.clock), None, shop.links, None, Log(),
                        locations=lambda: list(shop.world.locations))


def answer(site: CustomerSite, event: dict[str, Any]) -> dict[str, Any]:
    return http_api_response(site.label_download(request_from_http_api_event(event)))


def test_a_label_is_answered_as_base64_pdf_bytes_with_the_pages_headers(label_site, shop):
    order_id, token = a_delivered_order(shop)
    uses = Returns(shop)
    ret = uses.request(order_id, "key-return-0001", _request())
    uses.issue_label(order_id, ret.return_id)

    result = answer(label_site, event(token, ret.return_id))

    assert result["statusCode"] == 200 and result["isBase64Encoded"] is True
    assert base64.b64decode(result["body"])[:5] == b"%PDF-"
    headers = result["headers"]
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == f'attachment; filename="return-{ret.return_id}.pdf"'
    assert "no-store" in headers["Cache-Control"]
    assert {name: headers[name] for name in SECURITY_HEADERS} == SECURITY_HEADERS


def test_a_forged_token_another_orders_link_or_path_is_the_same_404_problem(label_site, shop):
    order_id, token = a_delivered_order(shop)
    _, other = a_delivered_order(shop, lines={"MUG-CLASSIC": 1})
    uses = Returns(shop)
    ret = uses.request(order_id, "key-return-0001", _request())
    uses.issue_label(order_id, ret.return_id)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    answers = [answer(label_site, event(forged, ret.return_id)),
               answer(label_site, event(other, ret.return_id)),  # a link of another order
               answer(label_site, event(token, f"ret_{'0' * 20}")),  # no such return of this order
               answer(label_site, event(token, ret.return_id, path=f"/my-order/{token}"))]  # not the label's path

    for result in answers:
        assert result["statusCode"] == 404 and result["isBase64Encoded"] is False
        assert result["headers"]["Content-Type"] == "application/problem+json"
        assert "%PDF" not in result["body"]
    assert len({result["body"] for result in answers}) == 1  # nothing tells them apart
