"""The API's templates, rendered the way API Gateway renders them (tests/infra/apigw_vtl.py): API Gateway's own
answers are problems (RFC 9457, the API's one error shape) and the webhook route stores the carrier's request
intact, whatever its bytes."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from apigw_vtl import Input, render

from dawra.contracts.problems import PROBLEM_JSON, Problem
from dawra.contracts.webhook import (
    PAYMENT_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    CarrierWebhookEnvelope,
    PaymentWebhookEnvelope,
)

# What API Gateway answers by itself, and how (status, problem code): the list.
GATEWAY_PROBLEMS = {
    "DEFAULT_4XX": (400, "bad_request"),
    "DEFAULT_5XX": (500, "internal_error"),
    "BAD_REQUEST_PARAMETERS": (422, "invalid_request"),  # the request validator's refusals
    "BAD_REQUEST_BODY": (422, "invalid_request"),
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found"),  # an unknown path or method
    "RESOURCE_NOT_FOUND": (404, "not_found"),
    "ACCESS_DENIED": (403, "forbidden"),
    "INVALID_SIGNATURE": (403, "forbidden"),
    "EXPIRED_TOKEN": (403, "forbidden"),
    "INVALID_API_KEY": (403, "forbidden"),
    "WAF_FILTERED": (403, "forbidden"),
    "UNAUTHORIZED": (401, "unauthenticated"),  # the Cognito authorizer's refusal, as the local gateway answers it
    "THROTTLED": (429, "too_many_requests"),
    "QUOTA_EXCEEDED": (429, "too_many_requests"),
    "REQUEST_TOO_LARGE": (413, "payload_too_large"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported_media_type"),
    "INTEGRATION_FAILURE": (502, "bad_gateway"),
    "INTEGRATION_TIMEOUT": (504, "gateway_timeout"),
}
# $context.error.message samples: quotes of both kinds, a backslash, a slash, control characters, Latin and Arabic
# letters, a character outside the BMP; API Gateway's own wording; empty; absent.
MESSAGES = ['He said "it\'s" déjà vu \\ a/b\n\t\x01 عربي 📦', "Missing required request parameters: [Idempotency-Key]",
            "", None]


def _gateway_responses(synth) -> dict[str, dict]:
    responses = {}
    for resource in synth.of_type("AWS::ApiGateway::GatewayResponse").values():
        props = resource["Properties"]
        assert props["ResponseType"] not in responses, f"{props['ResponseType']} twice"
        responses[props["ResponseType"]] = props
    return responses


def test_api_gateway_answers_only_in_the_problem_shape(synth):
    responses = _gateway_responses(synth)
    assert set(GATEWAY_PROBLEMS) <= set(responses), sorted(set(GATEWAY_PROBLEMS) - set(responses))
    (api_id,) = synth.of_type("AWS::ApiGateway::RestApi")
    for props in responses.values():
        assert props["RestApiId"] == {"Ref": api_id}


@pytest.mark.parametrize("response_type", sorted(GATEWAY_PROBLEMS))
def test_gateway_response_is_a_problem(synth, response_type):
    status, code = GATEWAY_PROBLEMS[response_type]
    props = _gateway_responses(synth)[response_type]
    assert props["StatusCode"] == str(status)
    headers = {k.removeprefix("gatewayresponse.header."): v for k, v in props["ResponseParameters"].items()}
    assert headers.pop("Content-Type") == f"'{PROBLEM_JSON}'"
    # 429 says when to retry, like the API's own 429/503; 401 names the scheme (dawra.contracts.problems.headers).
    expected = {429: {"Retry-After": "'1'"}, 401: {"WWW-Authenticate": "'Bearer'"}}.get(status, {})
    assert headers == expected
    templates = props["ResponseTemplates"]
    assert "application/json" in templates  # API Gateway's default choice
    for template in templates.values():
        for message in MESSAGES:
            rendered = render(template, context={"error": {"message": message, "responseType": response_type}})
            document = json.loads(rendered)  # strict: control characters must be escaped
            assert set(document) == {"type", "title", "status", "detail", "code"}
            Problem.model_validate(document)
            assert document["status"] == status and document["code"] == code
            assert document["type"] == f"urn:dawra:problem:{code}"
            assert document["title"]
            if "$context.error.message" in template:
                assert document["detail"] == (message or ""), "the message must survive escaping intact"
            else:
                assert document["detail"]


def test_unknown_routes_answer_404_not_found(synth):
    # MISSING_AUTHENTICATION_TOKEN is API Gateway's answer for a path or method it does not know.
    props = _gateway_responses(synth)["MISSING_AUTHENTICATION_TOKEN"]
    document = json.loads(render(props["ResponseTemplates"]["application/json"],
                                 context={"error": {"message": "Missing Authentication Token"}}))
    assert (document["status"], document["code"]) == (404, "not_found")
    assert "Missing Authentication Token" not in document["detail"]


# --- the webhook route -----------------------------------------------------------------------------------------------
BODIES = [
    b'{"tracking_number": "1Z999", "status": "DELIVERED", "note": "a&b=c+d \\"q\\" it\'s"}',
    b"O'Brien said \"hi\" \\ back\\slash\nnew line\r\n\ttab %41 +plus",
    '{"status": "DELIVERED", "note": "تم تسليم الشحنة إلى العميل"}'.encode(),
    "📦 ✓ naïve".encode(),
    b"",
]
# Not UTF-8. API Gateway hands a mapping template the body as text, decoded as UTF-8 with invalid bytes replaced
# (U+FFFD) before the template sees it: the envelope stays valid, but raw_body is that text, so the carrier's HMAC no
# longer matches and the consumer rejects the webhook (it is not poison). Carriers send JSON, which is UTF-8.
NOT_UTF8 = b'{"note": "\xff\xfe\xc3( caf\xe9"}'
SIGNATURES = ["sha256=ab/cd+ef==", "it's \"quoted\" \\ é", "", None]
CARRIERS = ["sandbox", "o'brien", 'quo"te', "back\\slash", "شحن", "a b&c=d+e%25"]
EPOCH_MS = 1767225600123


def _webhook(synth, signature_header: str = SIGNATURE_HEADER) -> dict:
    """The queue route's method that forwards `signature_header` (the carriers' route, or the payment providers')."""
    (method,) = [m["Properties"] for m in synth.of_type("AWS::ApiGateway::Method").values()
                 if m["Properties"]["Integration"]["Type"] == "AWS"
                 and f"method.request.header.{signature_header}" in m["Properties"].get("RequestParameters", {})]
    return method


def test_each_webhook_route_has_its_own_queue_and_role(synth):
    carrier, payments = _webhook(synth), _webhook(synth, PAYMENT_SIGNATURE_HEADER)
    assert carrier["Integration"]["Credentials"] != payments["Integration"]["Credentials"]
    assert carrier["Integration"]["Uri"] != payments["Integration"]["Uri"]


def test_payment_webhook_envelope_carries_the_request_intact(synth):
    template = next(iter(_webhook(synth, PAYMENT_SIGNATURE_HEADER)["Integration"]["RequestTemplates"].values()))
    for raw in BODIES:
        for signature in SIGNATURES:
            form = render(template, input=Input(body=raw.decode("utf-8"), path={"provider": "sandbox"},
                                                header={} if signature is None else
                                                {PAYMENT_SIGNATURE_HEADER: signature}),
                          context={"requestTimeEpoch": EPOCH_MS, "requestId": "r-1"})
            (message,) = parse_qs(form, strict_parsing=True)["MessageBody"]
            assert set(json.loads(message)) == {"provider", "body_b64", "signature", "received_at_epoch_ms"}
            envelope = PaymentWebhookEnvelope.model_validate_json(message)
            assert (envelope.provider, envelope.raw_body, envelope.signature) == ("sandbox", raw, signature or None)


def _stored(template: str, *, carrier: str, text: str, signature: str | None) -> CarrierWebhookEnvelope:
    headers = {} if signature is None else {SIGNATURE_HEADER: signature}
    form = render(template, input=Input(body=text, path={"carrier": carrier}, header=headers),
                  context={"requestTimeEpoch": EPOCH_MS, "requestId": "r-1"})
    fields = parse_qs(form, strict_parsing=True)  # SQS decodes the form the same way
    assert fields["Action"] == ["SendMessage"]
    (message,) = fields["MessageBody"]
    assert set(json.loads(message)) == {"carrier", "body_b64", "signature", "received_at_epoch_ms"}
    return CarrierWebhookEnvelope.model_validate_json(message)


def test_webhook_goes_straight_to_sqs(synth):
    method = _webhook(synth)
    integration = method["Integration"]
    assert ":sqs:path/" in json.dumps(integration["Uri"])
    assert integration["PassthroughBehavior"] == "NEVER"
    assert integration["RequestParameters"] == {
        "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"
    }
    assert len(set(integration["RequestTemplates"].values())) == 1, "one envelope for every accepted content type"
    accepted, not_stored = integration["IntegrationResponses"]
    assert (accepted["StatusCode"], not_stored["StatusCode"]) == ("202", "500")
    assert json.loads(render(accepted["ResponseTemplates"]["application/json"],
                             context={"requestId": "r-1"}))["accepted"] is True
    # A webhook that could not be stored is a problem, like every error of the API (the local gateway's too).
    problem = Problem.model_validate_json(not_stored["ResponseTemplates"]["application/json"])
    assert (problem.status, problem.code) == (500, "internal_error")
    assert not_stored["ResponseParameters"] == {"method.response.header.Content-Type": f"'{PROBLEM_JSON}'"}
    assert {"StatusCode": "500", "ResponseParameters": {"method.response.header.Content-Type": True}} in \
        method["MethodResponses"]


def test_webhook_envelope_carries_the_request_intact(synth):
    template = next(iter(_webhook(synth)["Integration"]["RequestTemplates"].values()))
    for raw in BODIES:
        for signature in SIGNATURES:
            for carrier in CARRIERS:
                envelope = _stored(template, carrier=carrier, text=raw.decode("utf-8"), signature=signature)
                assert envelope.raw_body == raw
                assert envelope.carrier == carrier
                assert envelope.signature == (signature or None)
                assert envelope.received_at_epoch_ms == EPOCH_MS


def test_webhook_body_that_is_not_utf8_still_makes_a_valid_envelope(synth):
    template = next(iter(_webhook(synth)["Integration"]["RequestTemplates"].values()))
    as_api_gateway_sees_it = NOT_UTF8.decode("utf-8", "replace")
    envelope = _stored(template, carrier="sandbox", text=as_api_gateway_sees_it, signature="sha256=x")
    assert envelope.raw_body == as_api_gateway_sees_it.encode("utf-8")
