"""API Gateway (REST): TOPOLOGY's routes.

- Storefront routes (authorization="storefront"): Lambda proxy integration, AWS_IAM (SigV4) authorisation, request
  validation (required headers/path parameters, a JSON object body on POST).
- Queue routes (the carrier webhook): an AWS service integration straight to SQS SendMessage, no Lambda on the path.
  The mapping template builds exactly the envelope of ``dawra.models.webhook.CarrierWebhookEnvelope``; the raw body
  is base64-encoded so the HMAC the consumer checks covers the bytes the carrier sent.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from dawra.topology import Route, Topology

API_NAME = "dawra-api"
STAGE_NAME = "v1"
# Per-stage throttling (steady requests/s and burst). A storefront checkout rate far above a small merchant's peak;
# carriers retry webhooks that get 429, so throttling never loses an event.
THROTTLE_RATE = 50
THROTTLE_BURST = 100
# Content types a carrier may post; anything else is refused with 415 (passthrough NEVER) rather than stored mangled.
WEBHOOK_CONTENT_TYPES = ("application/json", "text/plain", "application/x-www-form-urlencoded")
IDEMPOTENCY_HEADER = "Idempotency-Key"
WEBHOOK_ACCEPTED_BODY = '{"accepted": true, "request_id": "$context.requestId"}'


def _enc(literal: str) -> str:
    """URL-encode a literal piece of the SQS form body (dynamic pieces are encoded by $util.urlEncode)."""
    return quote(literal, safe="")


def carrier_webhook_template(path_param: str, signature_header: str) -> str:
    """The SQS SendMessage form body whose MessageBody is the envelope JSON.

    Literal JSON punctuation is URL-encoded here, in Python, so the VTL needs no string quoting at all:
    {"carrier": <path param>, "body_b64": <base64 of the raw body>, "signature": <header or null>,
     "received_at_epoch_ms": <request time>}
    """
    carrier = f"$util.urlEncode($util.escapeJavaScript($input.params().path.get('{path_param}')))"
    body = "$util.urlEncode($util.base64Encode($input.body))"
    signature = (
        f"#set($signature = $input.params('{signature_header}'))"
        "#if($signature && $signature != \"\")"
        f"{_enc(chr(34))}$util.urlEncode($util.escapeJavaScript($signature)){_enc(chr(34))}"
        "#{else}null#end"
    )
    return (
        "Action=SendMessage&MessageBody="
        + _enc('{"carrier":"')
        + carrier
        + _enc('","body_b64":"')
        + body
        + _enc('","signature":')
        + signature
        + _enc(',"received_at_epoch_ms":')
        + "$context.requestTimeEpoch"
        + _enc("}")
    )


class Api(Construct):
    def __init__(
        self, scope: Construct, id: str, *, topology: Topology, functions, messaging, deletion_protection: bool
    ):
        super().__init__(scope, id)
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{API_NAME}/access",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.RETAIN if deletion_protection else RemovalPolicy.DESTROY,
        )
        self.api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=API_NAME,
            description="Dawra: storefront orders API and carrier tracking webhooks.",
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
        names = [part[1:-1] for part in route.path.split("/") if part.startswith("{") and part.endswith("}")]
        return {f"method.request.path.{name}": True for name in names}

    def _function_route(self, resource: apigw.IResource, route: Route, functions) -> apigw.Method:
        assert route.authorization == "storefront", route
        params = self._path_params(route)
        has_body = route.method in ("POST", "PUT", "PATCH")
        if route.method == "POST":
            params[f"method.request.header.{IDEMPOTENCY_HEADER}"] = True
        return resource.add_method(
            route.method,
            apigw.LambdaIntegration(functions.functions[route.target].function, proxy=True),
            authorization_type=apigw.AuthorizationType.IAM,
            request_parameters=params,
            request_validator=self.body_validator if has_body else self.params_validator,
            request_models={"application/json": self.json_object_model} if has_body else None,
        )

    def _queue_route(self, resource: apigw.IResource, route: Route, messaging) -> apigw.Method:
        queue = messaging.queues[route.target]
        role = iam.Role(
            self,
            "WebhookToSqsRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description=f"Lets API Gateway store {route.method} {route.path} requests on {queue.node.id}, nothing else.",
        )
        role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn]))
        path_params = self._path_params(route)
        (path_param,) = [key.rsplit(".", 1)[1] for key in path_params]
        (signature_header,) = route.forwarded_headers
        template = carrier_webhook_template(path_param, signature_header)
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
                        response_templates={
                            "application/json": json.dumps({"accepted": False, "message": "not stored, retry"})
                        },
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
            method_responses=[apigw.MethodResponse(status_code="202"), apigw.MethodResponse(status_code="500")],
        )
