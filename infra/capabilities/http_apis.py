"""The topology's HTTP APIs (API Gateway v2, decision 78): one per :class:`dawra.topology.HttpApi`, each route a Lambda
proxy integration with payload format 2.0, authorization NONE (the function authenticates the request), one $default
stage with access logging and the REST stage's throttling. An HTTP API has no binary media types: a result with
isBase64Encoded true reaches the browser as bytes, whatever its Accept header."""

from __future__ import annotations

import json

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_logs as logs
from constructs import Construct

from dawra.topology import Topology

from .api import LOG_RETENTION, THROTTLE_BURST, THROTTLE_RATE
from .functions import Functions
from .naming import pascal

# HTTP API context variables. Not the path: it holds the order link's token, the credential (the route key holds the
# path's template only).
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod", "routeKey": "$context.routeKey", "status": "$context.status",
    "protocol": "$context.protocol", "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    def __init__(self, log_group: logs.LogGroup):
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT))


class HttpApis(Construct):
    def __init__(self, scope: Construct, id: str, *, topology: Topology, functions: Functions,
                 deletion_protection: bool):
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if deletion_protection else RemovalPolicy.DESTROY
        self.apis: dict[str, apigwv2.HttpApi] = {}
        self.stages: dict[str, apigwv2.HttpStage] = {}
        self.routes: dict[tuple[str, str, str], apigwv2.HttpRoute] = {}  # (api id, method, path)
        for spec in topology.http_apis:
            name = pascal(spec.id)
            api = apigwv2.HttpApi(self, name, api_name=spec.name, description=spec.purpose,
                                  create_default_stage=False)
            access_logs = logs.LogGroup(self, f"{name}AccessLogs", log_group_name=f"/aws/apigateway/{spec.name}/access",
                                        retention=LOG_RETENTION, removal_policy=removal)
            self.stages[spec.id] = api.add_stage(
                f"{name}DefaultStage", stage_name="$default", auto_deploy=True,
                throttle=apigwv2.ThrottleSettings(rate_limit=THROTTLE_RATE, burst_limit=THROTTLE_BURST),
                access_log_settings=_AccessLogs(access_logs))
            for route in spec.routes:
                integration = integrations.HttpLambdaIntegration(
                    f"{pascal(route.function)}Integration", functions.functions[route.function].function,
                    payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0)
                (self.routes[(spec.id, route.method, route.path)],) = api.add_routes(
                    path=route.path, methods=[apigwv2.HttpMethod(route.method)], integration=integration)
            self.apis[spec.id] = api
