"""A local stand-in for API Gateway HTTP APIs (v2, decision 78): each HTTP API of TOPOLOGY gets a server of its own on
127.0.0.1, as each HTTP API is an origin of its own (https://<api id>.execute-api.<region>.amazonaws.com, its
$default stage without a path prefix).

A request matching one of the API's routes becomes the payload format 2.0 event API Gateway sends (routeKey,
rawPath, rawQueryString, pathParameters, lower-case headers, cookies apart, requestContext.http) and goes through the
Lambda API to the route's function, in process; its result is answered as an HTTP API answers it: statusCode,
headers, `cookies` as Set-Cookie, and a body decoded from base64 when isBase64Encoded (binary as it is, whatever the
request's Accept header). No route: 404 {"message": "Not Found"}; a function that fails: 500 {"message": "Internal
Server Error"}, as on AWS. Every route's authorization is NONE: nothing is checked here, the function checks it."""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from wsgiref.types import StartResponse, WSGIEnvironment

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from dawra.topology import HttpApi, HttpRoute

if TYPE_CHECKING:
    from dawra.local.cloud import EmbeddedCloud


def _pattern(route: HttpRoute) -> re.Pattern[str]:
    """/my-order/{token}/... -> a regex with one named group per path parameter (one segment each)."""
    parts = re.split(r"(\{[A-Za-z0-9_]+\})", route.path)
    return re.compile("".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts))


def http_api_event(request: Request, route: HttpRoute, path_parameters: dict[str, str]) -> dict[str, Any]:
    """The payload format 2.0 event of an HTTP API request on ``route``."""
    body = request.get_data()
    try:
        text, is_base64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode(), True
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        if key.lower() != "cookie":
            headers[key.lower()] = f"{headers[key.lower()]},{value}" if key.lower() in headers else value
    cookies = [part.strip() for part in request.headers.get("Cookie", "").split(";") if part.strip()]
    query = {key: ",".join(request.args.getlist(key)) for key in request.args}
    route_key = f"{route.method} {route.path}"
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": route_key, "rawPath": request.path,
        "rawQueryString": request.query_string.decode("latin-1"), "headers": headers,
        "pathParameters": path_parameters,
        "requestContext": {
            "accountId": "000000000000", "apiId": "local", "domainName": request.host, "domainPrefix": "local",
            "http": {"method": request.method, "path": request.path, "protocol": "HTTP/1.1",
                     "sourceIp": request.remote_addr or "127.0.0.1", "userAgent": request.user_agent.string},
            "requestId": str(uuid.uuid4()), "routeKey": route_key, "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"), "timeEpoch": int(now.timestamp() * 1000)},
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if text:
        event["body"] = text
    return event


class HttpApiServer:
    def __init__(self, cloud: EmbeddedCloud, api: HttpApi, port: int, host: str = "127.0.0.1"):
        self.cloud, self.api = cloud, api
        self._routes = [(route, _pattern(route)) for route in api.routes]
        self._server = make_server(host, port, self._wsgi, threaded=True)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"  # no trailing "/", as CDK's HttpApi.apiEndpoint

    def start(self) -> HttpApiServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"dawra-{self.api.id}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        for route, pattern in self._routes:
            found = pattern.fullmatch(request.path)
            if found and request.method == route.method:
                return self._invoke(request, route, found.groupdict())
        return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")

    def _invoke(self, request: Request, route: HttpRoute, path_parameters: dict[str, str]) -> Response:
        function = self.cloud.topology.function(route.function)
        result = self.cloud.client("lambda").invoke(
            FunctionName=function.name, Payload=json.dumps(http_api_event(request, route, path_parameters)).encode())
        payload = json.loads(result["Payload"].read() or b"null")
        if "FunctionError" in result or not isinstance(payload, dict) or "statusCode" not in payload:
            return Response(json.dumps({"message": "Internal Server Error"}), status=500,
                            content_type="application/json")
        raw = payload.get("body") or ""
        response = Response(base64.b64decode(raw) if payload.get("isBase64Encoded") else raw.encode(),
                            status=payload["statusCode"])
        del response.headers["Content-Type"]  # only what the function says
        for key, value in (payload.get("headers") or {}).items():
            response.headers[key] = value
        for cookie in payload.get("cookies") or []:
            response.headers.add("Set-Cookie", cookie)
        return response
