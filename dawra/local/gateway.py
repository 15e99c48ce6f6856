"""A local stand-in for API Gateway (REST API): the routes in TOPOLOGY, on 127.0.0.1.

Function routes get the real REST proxy event shape and go through the Lambda API; the carrier webhook route stores
the raw request in SQS (the envelope of dawra.contracts.webhook), as the API Gateway -> SQS integration does
on AWS (one attempt; if SQS refuses, the caller gets a 500 and retries).
Not emulated: IAM (SigV4) authorisation, stage throttling, request validators (see docs/decisions.md).

Local only, never in the topology's routes: GET /_local/outbox lists the emails and SMS sent so far; GET /docs is
Swagger UI over docs/api/openapi.json (swagger-ui-dist, pinned in package-lock.json, served from node_modules).

Errors the gateway itself answers (no such route, method not allowed with `Allow`, a function that crashed) use the
API's one error shape, application/problem+json, as the deployed API's gateway responses do. Paths may carry the
deployed stage's prefix (`/v1/orders`), so a URL copied from a deployment works here too."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from wsgiref.types import StartResponse, WSGIEnvironment

from botocore.exceptions import BotoCoreError, ClientError
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from dawra.contracts import problems, webhook
from dawra.contracts.webhook import CarrierWebhookEnvelope
from dawra.local.faults import fault_scope
from dawra.topology import REPO_ROOT, Route

if TYPE_CHECKING:
    from dawra.local.cloud import EmbeddedCloud

STAGE = "local"
DEPLOYED_STAGE_PREFIX = "/v1"  # infra/capabilities/api.py STAGE_NAME
LOCAL_PREFIX = "/_local/"
SWAGGER_DIST = REPO_ROOT / "node_modules" / "swagger-ui-dist"
SWAGGER_ASSETS = {"swagger-ui.css": "text/css; charset=utf-8",
                  "swagger-ui-bundle.js": "text/javascript; charset=utf-8"}
SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dawra storefront API</title><link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script>
</body></html>
"""
SWAGGER_INIT = 'window.ui = SwaggerUIBundle({url: "/docs/openapi.json", dom_id: "#swagger-ui"});\n'
CARRIER_NAME = re.compile(r"^[a-z0-9-]{1,32}$")  # dawra.adapters.carriers.MAX_NAME


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


class Gateway:
    def __init__(self, cloud: EmbeddedCloud, host: str = "127.0.0.1", port: int = 0):
        self.cloud = cloud
        self.routes = [(route, _pattern(route.path)) for route in cloud.topology.routes]
        self.requests = 0
        self._server = make_server(host, port, self._wsgi, threaded=True)
        bound_host, bound_port = self._server.server_address[:2]  # the port the OS chose when asked for 0
        self.host, self.port = str(bound_host), int(bound_port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Gateway:
        self._thread = threading.Thread(target=self._server.serve_forever, name="dawra-gateway", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        self.requests += 1
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.path.startswith(LOCAL_PREFIX):
            return self._local(request)
        if request.path == "/docs" or request.path.startswith("/docs/"):
            return self._docs(request)
        path = request.path
        if path == DEPLOYED_STAGE_PREFIX or path.startswith(DEPLOYED_STAGE_PREFIX + "/"):
            path = path[len(DEPLOYED_STAGE_PREFIX):] or "/"
        allowed = []
        for route, pattern in self.routes:
            match = pattern.match(path)
            if match and route.method == request.method:
                if route.target_kind == "queue":
                    return self._to_queue(route, match.groupdict(), request)
                return self._to_function(route, match.groupdict(), request, path)
            if match:
                allowed.append(route.method)
        if allowed:
            return _problem(problems.METHOD_NOT_ALLOWED, f"{request.method} is not allowed here",
                            {"Allow": ", ".join(sorted(allowed))})
        return _problem(problems.NOT_FOUND, f"no route for {path[:200]}")

    def _to_queue(self, route: Route, params: dict[str, str], request: Request) -> Response:
        if not CARRIER_NAME.match(params.get("carrier", "")):
            return _problem(problems.NOT_FOUND, "no such carrier")
        media_type = (request.content_type or "").split(";")[0].strip().lower()
        if media_type not in webhook.CONTENT_TYPES:  # as the deployed integration (passthrough NEVER)
            return _problem(problems.UNSUPPORTED_MEDIA_TYPE, f"Content-Type {media_type or 'absent'} is not accepted")
        envelope = CarrierWebhookEnvelope.wrap(
            carrier=params.get("carrier", ""), raw_body=request.get_data(),
            signature=request.headers.get("X-Carrier-Signature"),
            received_at_epoch_ms=int(time.time() * 1000))
        queue_url = self.cloud.resolve_ref("queue", route.target, "url")
        try:
            with fault_scope():
                sent = self.cloud.client("sqs", attempts=1).send_message(
                    QueueUrl=queue_url, MessageBody=envelope.model_dump_json())
        except (BotoCoreError, ClientError):
            return _problem(problems.INTERNAL, "the webhook could not be stored; retry")  # the sender retries
        del sent  # API Gateway answers with its own request id, not the queue's message id
        return _json(202, {"accepted": True, "request_id": str(uuid.uuid4())})

    def _local(self, request: Request) -> Response:
        if request.path != f"{LOCAL_PREFIX}outbox":
            return _problem(problems.NOT_FOUND, "no such local resource")
        if request.method != "GET":
            return _problem(problems.METHOD_NOT_ALLOWED, "only GET", {"Allow": "GET"})
        return _json(200, {"messages": [asdict(message) for message in self.cloud.outbox()]})

    def _docs(self, request: Request) -> Response:
        name = request.path.removeprefix("/docs").lstrip("/") or "index.html"
        if request.method != "GET":
            return _problem(problems.METHOD_NOT_ALLOWED, "only GET", {"Allow": "GET"})
        if name == "openapi.json":
            document = json.loads((REPO_ROOT / "docs" / "api" / "openapi.json").read_text())
            document["servers"] = [{"url": self.url, "description": "this local stack"}]
            return _json(200, document)
        if name == "index.html":
            return Response(SWAGGER_PAGE, content_type="text/html; charset=utf-8")
        if name == "init.js":
            return Response(SWAGGER_INIT, content_type="text/javascript; charset=utf-8")
        if name not in SWAGGER_ASSETS:
            return _problem(problems.NOT_FOUND, "no such documentation file")
        asset = SWAGGER_DIST / name
        if not asset.exists():
            return _problem(problems.NOT_FOUND, "Swagger UI is not installed: run make infra-setup (npm ci)")
        return Response(asset.read_bytes(), content_type=SWAGGER_ASSETS[name])

    def _to_function(self, route: Route, params: dict[str, str], request: Request, path: str) -> Response:
        body = request.get_data()
        try:
            text, is_base64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode(), True
        headers = {key: value for key, value in request.headers.items()}
        multi_headers: dict[str, list[str]] = {}
        for key, value in request.headers.items():
            multi_headers.setdefault(key, []).append(value)
        query = {key: request.args.getlist(key) for key in request.args}
        now = datetime.now(UTC)
        event = {
            "resource": route.path,
            "path": path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "local",
                "resourcePath": route.path,
                "httpMethod": request.method,
                "extendedRequestId": str(uuid.uuid4()),
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{STAGE}{path}",
                "accountId": "123456789012",
                "protocol": "HTTP/1.1",
                "stage": STAGE,
                "domainPrefix": "localhost",
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": str(uuid.uuid4()),
                "identity": {"sourceIp": request.remote_addr or "127.0.0.1", "userAgent": request.user_agent.string},
                "domainName": request.host,
                "apiId": "local",
            },
            "body": text or None,
            "isBase64Encoded": is_base64,
        }
        function_name = self.cloud.topology.function(route.target).name
        result = self.cloud.client("lambda").invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
        payload = json.loads(result["Payload"].read() or b"null")
        if "FunctionError" in result or not isinstance(payload, dict) or "statusCode" not in payload:
            return _problem(problems.INTERNAL, "the request failed")
        raw = payload.get("body") or ""
        response = Response(base64.b64decode(raw) if payload.get("isBase64Encoded") else raw.encode(),
                            status=payload["statusCode"])
        del response.headers["Content-Type"]  # only what the function says, as API Gateway
        # As API Gateway merges them: multiValueHeaders, with headers' single values taking their names' place.
        merged = {key.lower(): (key, list(values)) for key, values in (payload.get("multiValueHeaders") or {}).items()}
        merged |= {key.lower(): (key, [value]) for key, value in (payload.get("headers") or {}).items()}
        for key, values in merged.values():
            response.headers.setlist(key, values)
        return response


def _problem(kind: problems.Kind, detail: str, extra_headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(problems.body(kind, detail)), status=kind.status,
                        content_type=problems.PROBLEM_JSON)
    for key, value in {**problems.headers(kind), **(extra_headers or {})}.items():
        response.headers[key] = value
    return response


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")
