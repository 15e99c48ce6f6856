"""A local stand-in for API Gateway (REST API): the routes in TOPOLOGY, on 127.0.0.1.

Function routes get the real REST proxy event shape and go through the Lambda API; the webhook routes (carriers',
payment providers') store the raw request in SQS (the envelope of dawra.contracts.webhook), as the API Gateway -> SQS integration does
on AWS (one attempt; if SQS refuses, the caller gets a 500 and retries).
Routes with cognito authorization are guarded as API Gateway's Cognito user pools authorizer guards them: the
`Authorization` header holds the pool's ID token (raw, or after "Bearer "), verified with the same checks
(dawra/adapters/identity.py: RS256 against the pool's JWKS, issuer, audience = the app client, expiry, token use);
anything else is answered 401 before the function runs, and the verified claims reach the function in
`requestContext.authorizer.claims` as API Gateway writes them (every value a string, `cognito:groups` comma-separated,
`exp`/`iat` as dates). Paths match as API Gateway matches them: a literal segment before a {param}, a {param} before
a greedy {proxy+}.
Not emulated: IAM (SigV4) authorisation, the authorizer's result cache, stage throttling, request validators (see
docs/decisions.md).

Local only, never in the topology's routes: GET /_local/outbox lists the emails and SMS sent so far; GET /docs is
Swagger UI over docs/api/openapi.json (swagger-ui-dist, pinned in package-lock.json, served from node_modules).

Errors the gateway itself answers (no such route, method not allowed with `Allow`, a function that crashed) use the
API's one error shape, application/problem+json, as the deployed API's gateway responses do. Paths may carry the
deployed stage's prefix (`/v1/orders`), so a URL copied from a deployment works here too."""

from __future__ import annotations

import base64
import json
import logging
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

from dawra.adapters.identity import TokenVerifier
from dawra.contracts import problems, webhook
from dawra.contracts.webhook import CarrierWebhookEnvelope
from dawra.domain.errors import TransientError, Unauthenticated
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
SENDER_NAME = re.compile(r"^[a-z0-9-]{1,32}$")  # a carrier's or payment provider's (dawra.adapters.carriers.MAX_NAME)


UNAUTHENTICATED = problems.HTTP[Unauthenticated]
AUTHORIZER_REFUSAL = "Unauthorized"  # API Gateway's $context.error.message when its Cognito authorizer refuses
JAVA_DATE = "%a %b %d %H:%M:%S UTC %Y"  # how API Gateway writes exp and iat into the claims (Java's Date)
log = logging.getLogger(__name__)


def _pattern(path: str) -> re.Pattern[str]:
    escaped = re.escape(path)
    escaped = re.sub(r"\\{(\w+)\\\+\\}", r"(?P<\1>.+)", escaped)  # {proxy+}: one or more segments
    return re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", escaped) + "$")


def specificity(path: str) -> tuple[int, ...]:
    """API Gateway's precedence, segment by segment: a literal (0) before a {param} (1) before a greedy {proxy+} (2);
    the smallest tuple wins among the routes that match a path."""
    return tuple(2 if part.endswith("+}") else 1 if part.startswith("{") else 0
                 for part in path.strip("/").split("/"))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an Authorization header as the Cognito authorizer reads it: the raw token or "Bearer <token>"."""
    value = (authorization or "").strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value or None


def authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """The verified claims as API Gateway's Cognito authorizer hands them to a REST proxy integration."""
    written: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat") and isinstance(value, int):
            written[name] = time.strftime(JAVA_DATE, time.gmtime(value))
        elif isinstance(value, bool):
            written[name] = "true" if value else "false"
        elif isinstance(value, list):
            written[name] = ",".join(str(item) for item in value)
        else:
            written[name] = str(value)
    return written


class Gateway:
    def __init__(self, cloud: EmbeddedCloud, host: str = "127.0.0.1", port: int = 0):
        self.cloud = cloud
        self.routes = [(route, _pattern(route.path)) for route in cloud.topology.routes]
        self._by_precedence = sorted(self.routes, key=lambda pair: specificity(pair[0].path))
        self.requests = 0
        self._verifier: TokenVerifier | None = None
        self._verifier_lock = threading.Lock()
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
        resource = None  # the most specific route path matching the request (API Gateway's resource)
        for route, pattern in self._by_precedence:
            match = pattern.match(path)
            if not match or resource not in (None, route.path):
                continue
            resource = route.path
            if route.method != request.method:
                allowed.append(route.method)
                continue
            if route.target_kind == "queue":
                return self._to_queue(route, match.groupdict(), request)
            claims = None
            if route.authorization == "cognito":
                verified = self._authorize(request)
                if isinstance(verified, Response):
                    return verified
                claims = verified
            return self._to_function(route, match.groupdict(), request, path, claims)
        if allowed:
            return _problem(problems.METHOD_NOT_ALLOWED, f"{request.method} is not allowed here",
                            {"Allow": ", ".join(sorted(allowed))})
        return _problem(problems.NOT_FOUND, f"no route for {path[:200]}")

    def verifier(self) -> TokenVerifier:
        """The operators' pool's token verifier: the JWKS from moto's HTTP endpoint when the stack runs one (as the
        functions fetch it), else moto's key set given as data."""
        with self._verifier_lock:
            if self._verifier is None:
                pool = self.cloud.topology.operators_pool
                self._verifier = TokenVerifier(
                    self.cloud.resolve_ref("user_pool", pool.id, "id"),
                    self.cloud.resolve_ref("user_pool", pool.id, "client_id"),
                    jwks_url=self.cloud.jwks_url, jwks=None if self.cloud.jwks_url else self.cloud.cognito_jwks())
            return self._verifier

    def _authorize(self, request: Request) -> dict[str, str] | Response:
        """The Cognito user pools authorizer: the verified claims, or the 401 API Gateway answers."""
        token = bearer_token(request.headers.get("Authorization"))
        try:
            if token is None:
                raise Unauthenticated("no token in the Authorization header")
            return authorizer_claims(self.verifier().verify_claims(token))
        except Unauthenticated as refused:
            log.info("authorizer refused %s %s: %s", request.method, request.path[:200], refused.message)
            return _problem(UNAUTHENTICATED, AUTHORIZER_REFUSAL)
        except TransientError:
            return _problem(problems.INTERNAL, "the authorizer could not verify the token; retry")

    def _to_queue(self, route: Route, params: dict[str, str], request: Request) -> Response:
        """A webhook route (a carrier's, a payment provider's): the envelope of dawra.contracts.webhook, keyed by the
        route's one path parameter and carrying its one forwarded signature header, as the mapping template does."""
        ((param, sender),) = params.items()
        if not SENDER_NAME.match(sender):
            return _problem(problems.NOT_FOUND, f"no such {param}")
        media_type = (request.content_type or "").split(";")[0].strip().lower()
        if media_type not in webhook.CONTENT_TYPES:  # as the deployed integration (passthrough NEVER)
            return _problem(problems.UNSUPPORTED_MEDIA_TYPE, f"Content-Type {media_type or 'absent'} is not accepted")
        (signature_header,) = route.forwarded_headers
        envelope = CarrierWebhookEnvelope.wrap(
            carrier=sender, raw_body=request.get_data(), signature=request.headers.get(signature_header),
            received_at_epoch_ms=int(time.time() * 1000)).model_dump(mode="json")
        stored = {param: envelope.pop("carrier"), **envelope}
        queue_url = self.cloud.resolve_ref("queue", route.target, "url")
        try:
            with fault_scope():
                sent = self.cloud.client("sqs", attempts=1).send_message(
                    QueueUrl=queue_url, MessageBody=json.dumps(stored, separators=(",", ":")))
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

    def _to_function(self, route: Route, params: dict[str, str], request: Request, path: str,
                     claims: dict[str, str] | None = None) -> Response:
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
                **({"authorizer": {"claims": claims}} if claims is not None else {}),
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
