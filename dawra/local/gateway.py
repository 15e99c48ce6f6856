"""A local stand-in for API Gateway (REST API): the routes in TOPOLOGY, on 127.0.0.1.

Function routes get the real REST proxy event shape and go through the Lambda API; the carrier webhook route stores
the raw request in SQS (the envelope of dawra.contracts.webhook), as the API Gateway -> SQS integration does
on AWS (one attempt; if SQS refuses, the caller gets a 500 and retries).
Not emulated: IAM (SigV4) authorisation, stage throttling, request validators (see docs/decisions.md).

Local only, never in the topology's routes: GET /_local/outbox lists the emails and SMS sent so far."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from dawra.contracts.webhook import CarrierWebhookEnvelope
from dawra.local.faults import fault_scope
from dawra.topology import Route

STAGE = "local"
LOCAL_PREFIX = "/_local/"


def _pattern(path: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


class Gateway:
    def __init__(self, cloud, host: str = "127.0.0.1", port: int = 0):
        self.cloud = cloud
        self.routes = [(route, _pattern(route.path)) for route in cloud.topology.routes]
        self.requests = 0
        self._server = make_server(host, port, self._wsgi, threaded=True)
        self.host, self.port = self._server.server_address[:2]
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

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        self.requests += 1
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.path.startswith(LOCAL_PREFIX):
            return self._local(request)
        for route, pattern in self.routes:
            match = pattern.match(request.path)
            if match and route.method == request.method:
                if route.target_kind == "queue":
                    return self._to_queue(route, match.groupdict(), request)
                return self._to_function(route, match.groupdict(), request)
        if any(pattern.match(request.path) for _, pattern in self.routes):
            return _json(405, {"message": "Method Not Allowed"})
        return _json(404, {"message": "Not Found"})

    def _to_queue(self, route: Route, params: dict, request: Request) -> Response:
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
            return _json(500, {"message": "Internal server error"})  # as API Gateway; the sender retries
        return _json(202, {"accepted": True, "message_id": sent["MessageId"]})

    def _local(self, request: Request) -> Response:
        if request.path != f"{LOCAL_PREFIX}outbox":
            return _json(404, {"message": "Not Found"})
        if request.method != "GET":
            return _json(405, {"message": "Method Not Allowed"})
        return _json(200, {"messages": [asdict(message) for message in self.cloud.outbox()]})

    def _to_function(self, route: Route, params: dict, request: Request) -> Response:
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
            "path": request.path,
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
                "path": f"/{STAGE}{request.path}",
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
            return _json(502, {"message": "Internal server error"})
        response = Response(status=payload["statusCode"])
        for key, values in (payload.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.add(key, value)
        for key, value in (payload.get("headers") or {}).items():
            response.headers[key] = value
        raw = payload.get("body") or ""
        response.set_data(base64.b64decode(raw) if payload.get("isBase64Encoded") else raw.encode())
        return response


def _json(status: int, body: dict) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")
