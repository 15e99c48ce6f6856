"""API Gateway (REST): TOPOLOGY's routes.

- Storefront routes (authorization="storefront"): Lambda proxy integration, AWS_IAM (SigV4) authorisation, request
  validation (required headers/path parameters, a JSON object body on POST).
- Back-office routes: the admin API (authorization="cognito") behind a Cognito user pools authorizer of the
  operators' pool (ID tokens of its app client only; the claims reach the function in
  ``requestContext.authorizer.claims``); the console (authorization="none", a function) answers every request and
  verifies its own session cookie. Both use greedy ``{proxy+}`` resources; API Gateway prefers the more specific one.
- Queue routes (the carrier and the payment provider webhooks): an AWS service integration straight to SQS
  SendMessage, no Lambda on the path. The mapping template builds exactly the envelope of
  ``dawra.contracts.webhook`` (``CarrierWebhookEnvelope``, ``PaymentWebhookEnvelope``); the raw body is
  base64-encoded so the HMAC the consumer checks covers the bytes the sender sent.
- API Gateway's own answers (unknown route, validation, throttling, auth, integration failures: gateway responses)
  are problems (``application/problem+json``, RFC 9457) like every other error of the API
  (``dawra.contracts.problems``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from dawra.contracts import problems, webhook
from dawra.contracts.problems import Kind
from dawra.domain.errors import Unauthenticated
from dawra.topology import Route, Topology

API_NAME = "dawra-api"
STAGE_NAME = "v1"
# Per-stage throttling (steady requests/s and burst). A storefront checkout rate far above a small merchant's peak;
# carriers retry webhooks that get 429, so throttling never loses an event.
THROTTLE_RATE = 50
THROTTLE_BURST = 100
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# Content types a carrier may post; anything else is refused with 415 (passthrough NEVER) rather than stored mangled.
WEBHOOK_CONTENT_TYPES = webhook.CONTENT_TYPES
IDEMPOTENCY_HEADER = "Idempotency-Key"
WEBHOOK_ACCEPTED_BODY = '{"accepted": true, "request_id": "$context.requestId"}'
WEBHOOK_NOT_STORED = problems.body(problems.INTERNAL, "the webhook could not be stored; retry")  # as the local gateway


# `$util.escapeJavaScript` escapes `"`, `\`, `/`, control characters and non-ASCII (`\uXXXX`): all valid JSON
# escapes. It also escapes `'` as `\'`, which JSON does not have, so one quote made the whole document invalid (a
# poison message). `.replaceAll("\\'", "'")` (a Java regex: one backslash, then a quote) undoes exactly that escape.
UNDO_QUOTE_ESCAPE = r""".replaceAll("\\'", "'")"""


def json_escaped(vtl: str) -> str:
    """A VTL expression: the String ``vtl`` escaped for the inside of a JSON string (quotes not included)."""
    return f"$util.escapeJavaScript({vtl}){UNDO_QUOTE_ESCAPE}"


def json_string_contents(vtl: str) -> str:
    """VTL rendering :func:`json_escaped` in place; ``$!`` renders nothing (rather than the VTL) for a null."""
    return "$!" + json_escaped(vtl)[1:]


def _enc(literal: str) -> str:
    """URL-encode a literal piece of the SQS form body (dynamic pieces are encoded by $util.urlEncode)."""
    return quote(literal, safe="")


def webhook_template(path_param: str, signature_header: str) -> str:
    """The SQS SendMessage form body whose MessageBody is the envelope JSON, keyed by the route's path parameter
    (``carrier`` for a carrier's webhook, ``provider`` for a payment provider's: dawra.contracts.webhook).

    Literal JSON punctuation is URL-encoded here, in Python, so the VTL needs no string quoting at all:
    {"<path param name>": <path param>, "body_b64": <base64 of the raw body>, "signature": <header or null>,
     "received_at_epoch_ms": <request time>}
    The body is base64 (any bytes, nothing to escape); the path parameter and the header are JSON-escaped
    (:func:`json_escaped`), then URL-encoded for the form.
    """
    sender = f"$util.urlEncode({json_escaped(f'$input.params().path.get({path_param!r})')})"
    body = "$util.urlEncode($util.base64Encode($input.body))"
    signature = (
        f"#set($signature = $input.params('{signature_header}'))"
        '#if($signature && $signature != "")'
        f"{_enc(chr(34))}$util.urlEncode({json_escaped('$signature')}){_enc(chr(34))}"
        "#{else}null#end"
    )
    return (
        "Action=SendMessage&MessageBody="
        + _enc('{"' + path_param + '":"')
        + sender
        + _enc('","body_b64":"')
        + body
        + _enc('","signature":')
        + signature
        + _enc(',"received_at_epoch_ms":')
        + "$context.requestTimeEpoch"
        + _enc("}")
    )


# --- API Gateway's own answers, as problems ------------------------------------------------------------------------
FORBIDDEN = Kind(403, "forbidden", "Access denied")
# The Cognito authorizer's refusal (no token, or one that is not a valid ID token of the operators' pool): the same
# problem the local gateway and the handlers answer (dawra.contracts.problems), with WWW-Authenticate: Bearer.
UNAUTHORIZED = problems.HTTP[Unauthenticated]
TOO_MANY_REQUESTS = Kind(429, "too_many_requests", "Too many requests; retry later")
BAD_GATEWAY = Kind(502, "bad_gateway", "The service behind the API failed; retry")
GATEWAY_TIMEOUT = Kind(504, "gateway_timeout", "The service behind the API did not answer in time; retry")
BAD_REQUEST = Kind(400, "bad_request", "Bad request")  # problems.kind_of's fallback
ERROR_MESSAGE = "$context.error.message"
# API Gateway answers MISSING_AUTHENTICATION_TOKEN for an unknown path or method; it is also its answer to an unsigned
# request on an AWS_IAM route, so the detail names both.
NO_ROUTE = ("No route matches this method and path (storefront routes answer this too when a request is not signed "
            "with SigV4).")


@dataclass(frozen=True)
class GatewayProblem:
    response_type: str  # apigw.ResponseType's name
    kind: Kind
    detail: str = ERROR_MESSAGE  # a literal, or API Gateway's own message (JSON-escaped in the template)


GATEWAY_PROBLEMS = (
    # The request validator's refusals (required headers and path parameters, a JSON object body).
    GatewayProblem("BAD_REQUEST_PARAMETERS", problems.VALIDATION),
    GatewayProblem("BAD_REQUEST_BODY", problems.VALIDATION),
    GatewayProblem("MISSING_AUTHENTICATION_TOKEN", problems.NOT_FOUND, NO_ROUTE),
    GatewayProblem("RESOURCE_NOT_FOUND", problems.NOT_FOUND),
    GatewayProblem("ACCESS_DENIED", FORBIDDEN),
    GatewayProblem("INVALID_SIGNATURE", FORBIDDEN),
    GatewayProblem("EXPIRED_TOKEN", FORBIDDEN),
    GatewayProblem("INVALID_API_KEY", FORBIDDEN),
    GatewayProblem("WAF_FILTERED", FORBIDDEN),
    GatewayProblem("UNAUTHORIZED", UNAUTHORIZED),
    GatewayProblem("THROTTLED", TOO_MANY_REQUESTS),
    GatewayProblem("QUOTA_EXCEEDED", TOO_MANY_REQUESTS),
    GatewayProblem("REQUEST_TOO_LARGE", problems.TOO_LARGE),
    GatewayProblem("UNSUPPORTED_MEDIA_TYPE", problems.UNSUPPORTED_MEDIA_TYPE),
    GatewayProblem("INTEGRATION_FAILURE", BAD_GATEWAY),
    GatewayProblem("INTEGRATION_TIMEOUT", GATEWAY_TIMEOUT),
    # Everything else API Gateway answers itself (authorizer and configuration errors, response types added later).
    GatewayProblem("DEFAULT_4XX", BAD_REQUEST),
    GatewayProblem("DEFAULT_5XX", problems.INTERNAL),
)


def problem_template(problem: GatewayProblem) -> str:
    """The body template: a problem document (the fields of ``dawra.contracts.problems.Problem``) whose detail is
    a literal or API Gateway's message, escaped so the document is valid JSON for any message."""
    placeholder = "@@detail@@"
    is_message = problem.detail == ERROR_MESSAGE
    document = problems.body(problem.kind, placeholder if is_message else problem.detail)
    text = json.dumps(document, ensure_ascii=True)
    if "$" in text or "#" in text:  # VTL would read them
        raise ValueError(f"{problem.response_type}: literal text may not contain $ or #: {text}")
    return text.replace(placeholder, json_string_contents(ERROR_MESSAGE)) if is_message else text


AUTHORIZER_CACHE_TTL_S = 300  # API Gateway's default: a token's verdict is reused for five minutes


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topology: Topology,
        functions,
        messaging,
        deletion_protection: bool,
        operators=None,
    ):
        super().__init__(scope, id)
        self.topology, self.operators = topology, operators
        self.authorizer: apigw.CognitoUserPoolsAuthorizer | None = None
        removal = RemovalPolicy.RETAIN if deletion_protection else RemovalPolicy.DESTROY
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{API_NAME}/access",
            retention=LOG_RETENTION,
            removal_policy=removal,
        )
        self.api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=API_NAME,
            description="Dawra: storefront orders API, carrier tracking webhooks and the back office.",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Execution logging needs the account-level API Gateway -> CloudWatch Logs role.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                throttling_rate_limit=THROTTLE_RATE,
                throttling_burst_limit=THROTTLE_BURST,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request/response bodies hold addresses and phone numbers
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        # Execution logs go to a group API Gateway names and creates on first use, kept forever; created here first
        # (the stage waits for it), it has a retention like every other log group.
        self.execution_logs = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"API-Gateway-Execution-Logs_{self.api.rest_api_id}/{STAGE_NAME}",
            retention=LOG_RETENTION,
            removal_policy=removal,
        )
        self.api.deployment_stage.node.add_dependency(self.execution_logs)
        self.gateway_responses = {
            problem.response_type: self.api.add_gateway_response(
                f"{problem.response_type.title().replace('_', '')}Response",
                type=apigw.ResponseType.of(problem.response_type),
                status_code=str(problem.kind.status),
                response_headers={
                    name: f"'{value}'"
                    for name, value in {"Content-Type": problems.PROBLEM_JSON, **problems.headers(problem.kind)}.items()
                },
                # API Gateway picks the template by the client's Accept header, application/json by default.
                templates={content_type: problem_template(problem)
                           for content_type in ("application/json", problems.PROBLEM_JSON)},
            )
            for problem in GATEWAY_PROBLEMS
        }
        self.params_validator = self.api.add_request_validator(
            "ParamsValidator", request_validator_name="params", validate_request_parameters=True
        )
        self.body_validator = self.api.add_request_validator(
            "BodyAndParamsValidator",
            request_validator_name="body-and-params",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        self.json_object_model = self.api.add_model(
            "JsonObject",
            content_type="application/json",
            model_name="JsonObject",
            description="Any JSON object; the handler validates the fields (pydantic) and answers 422 with details.",
            schema=apigw.JsonSchema(schema=apigw.JsonSchemaVersion.DRAFT4, type=apigw.JsonSchemaType.OBJECT),
        )
        self.methods: dict[tuple[str, str], apigw.Method] = {}
        for route in topology.routes:
            resource = self.api.root.resource_for_path(route.path)
            if route.target_kind == "function":
                method = self._function_route(resource, route, functions)
            else:
                method = self._queue_route(resource, route, messaging)
            self.methods[(route.method, route.path)] = method

    def _path_params(self, route: Route) -> dict[str, bool]:
        names = [part[1:-1].removesuffix("+") for part in route.path.split("/")
                 if part.startswith("{") and part.endswith("}")]
        return {f"method.request.path.{name}": True for name in names}

    def _cognito_authorizer(self) -> apigw.CognitoUserPoolsAuthorizer:
        """One Cognito user pools authorizer for the topology's pool, accepting only its app client's ID tokens: the
        identity validation expression is matched against the token's aud (an access token has none), which the local
        gateway checks too (dawra/adapters/identity.py)."""
        if self.authorizer is None:
            pool = self.topology.operators_pool
            client = self.operators.clients[pool.id]
            self.authorizer = apigw.CognitoUserPoolsAuthorizer(
                self,
                "OperatorsAuthorizer",
                authorizer_name=f"{pool.name}-id-token",
                cognito_user_pools=[self.operators.pools[pool.id]],
                identity_source=apigw.IdentitySource.header("Authorization"),
                results_cache_ttl=Duration.seconds(AUTHORIZER_CACHE_TTL_S),
            )
            self.authorizer.node.default_child.add_property_override(
                "IdentityValidationExpression", Fn.join("", ["^", client.user_pool_client_id, "$"])
            )
        return self.authorizer

    def _function_route(self, resource: apigw.IResource, route: Route, functions) -> apigw.Method:
        integration = apigw.LambdaIntegration(functions.functions[route.target].function, proxy=True)
        if route.authorization == "cognito":
            # The admin API: JSON bodies are checked by the handler (its own guard and validation).
            return resource.add_method(
                route.method,
                integration,
                authorization_type=apigw.AuthorizationType.COGNITO,
                authorizer=self._cognito_authorizer(),
                request_parameters=self._path_params(route),
                request_validator=self.params_validator,
            )
        if route.authorization == "none":
            # The console: pages and HTML forms (url-encoded bodies); it verifies its own session cookie and CSRF token.
            return resource.add_method(
                route.method,
                integration,
                authorization_type=apigw.AuthorizationType.NONE,
                request_parameters=self._path_params(route),
                request_validator=self.params_validator,
            )
        params = self._path_params(route)
        has_body = route.method in ("POST", "PUT", "PATCH")
        if route.method == "POST":
            params[f"method.request.header.{IDEMPOTENCY_HEADER}"] = True
        return resource.add_method(
            route.method,
            integration,
            authorization_type=apigw.AuthorizationType.IAM,
            request_parameters=params,
            request_validator=self.body_validator if has_body else self.params_validator,
            request_models={"application/json": self.json_object_model} if has_body else None,
        )

    def _queue_route(self, resource: apigw.IResource, route: Route, messaging) -> apigw.Method:
        queue = messaging.queues[route.target]
        role = iam.Role(
            self,
            # The carrier route keeps the id it was first deployed with; another queue route gets its own.
            "WebhookToSqsRole" if route.target == "carrier-tracking" else f"WebhookToSqsRole{queue.node.id}",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description=f"Lets API Gateway store {route.method} {route.path} requests on {queue.node.id}, nothing else.",
        )
        role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn]))
        path_params = self._path_params(route)
        (path_param,) = [key.rsplit(".", 1)[1] for key in path_params]
        (signature_header,) = route.forwarded_headers
        template = webhook_template(path_param, signature_header)
        integration = apigw.AwsIntegration(
            service="sqs",
            integration_http_method="POST",
            path=f"{Aws.ACCOUNT_ID}/{queue.queue_name}",
            options=apigw.IntegrationOptions(
                credentials_role=role,
                passthrough_behavior=apigw.PassthroughBehavior.NEVER,
                request_parameters={
                    "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"
                },
                request_templates={content_type: template for content_type in WEBHOOK_CONTENT_TYPES},
                integration_responses=[
                    apigw.IntegrationResponse(
                        status_code="202", response_templates={"application/json": WEBHOOK_ACCEPTED_BODY}
                    ),
                    apigw.IntegrationResponse(
                        status_code="500",
                        selection_pattern=r"[45]\d{2}",
                        response_parameters={"method.response.header.Content-Type": f"'{problems.PROBLEM_JSON}'"},
                        response_templates={"application/json": json.dumps(WEBHOOK_NOT_STORED)},
                    ),
                ],
            ),
        )
        params = dict(path_params)
        params.update({f"method.request.header.{header}": False for header in route.forwarded_headers})
        return resource.add_method(
            route.method,
            integration,
            authorization_type=apigw.AuthorizationType.NONE,
            request_parameters=params,
            request_validator=self.params_validator,
            method_responses=[
                apigw.MethodResponse(status_code="202"),
                apigw.MethodResponse(status_code="500",
                                     response_parameters={"method.response.header.Content-Type": True}),
            ],
        )
