"""The back office's identity on the local stack: moto's cognito-idp issues the operators' tokens, and the local gateway
guards the admin API as API Gateway's Cognito user pools authorizer does (RS256 against the pool's JWKS, fetched from
moto's HTTP endpoint; issuer, audience, expiry, token use), answering 401 problems before any function runs."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager

import jwt
import pytest
from cognito_tokens import forged, hs256_with_the_public_key, mint, unsigned

from dawra.adapters.identity import CognitoSignIn, Tokens
from dawra.domain.errors import Unauthenticated
from dawra.local.actors import http
from dawra.local.seed import create_operator, seed_operators
from dawra.topology import TOPOLOGY

POOL = TOPOLOGY.operators_pool


@pytest.fixture(scope="module")
def operators(local_stack):
    return {operator.role: operator for operator in seed_operators(local_stack.cloud)}


@pytest.fixture(scope="module")
def client_id(local_stack):
    return local_stack.cloud.resolve_ref("user_pool", POOL.id, "client_id")


@pytest.fixture(scope="module")
def agent_tokens(operators, client_id) -> Tokens:
    return CognitoSignIn(client_id).sign_in(operators["agent"].username, operators["agent"].password)


def me(stack, authorization: str | None):
    return http("GET", f"{stack.gateway_url}/admin/api/me", headers={"Authorization": authorization}
                if authorization is not None else {})


def invocations(stack, function_id: str) -> int:
    return stack.cloud.lambdas.invocations[TOPOLOGY.function(function_id).name]


def assert_refused(stack, authorization: str | None):
    before = invocations(stack, "admin-api")
    answer = me(stack, authorization)
    assert answer.status == 401, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.body["code"] == "unauthenticated" and answer.body["detail"] == "Unauthorized"
    assert invocations(stack, "admin-api") == before, "a refused request never reaches the function"


def payload_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_the_pool_groups_and_client_are_the_topologys(local_stack):
    idp = local_stack.cloud.client("cognito-idp")
    pool_id = local_stack.cloud.resolve_ref("user_pool", POOL.id, "id")
    assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Name"] == POOL.name
    groups = {g["GroupName"]: g["Description"] for g in idp.list_groups(UserPoolId=pool_id)["Groups"]}
    assert groups == {group.name: group.description for group in POOL.groups}
    (client,) = idp.list_user_pool_clients(UserPoolId=pool_id)["UserPoolClients"]
    described = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client["ClientId"])["UserPoolClient"]
    assert described["ClientName"] == POOL.client_name and "ClientSecret" not in described
    assert set(described["ExplicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH",
                                                   "ALLOW_REFRESH_TOKEN_AUTH"}


def test_an_agent_token_reaches_the_admin_api_with_its_claims(local_stack, agent_tokens):
    claims = payload_of(agent_tokens.id_token)
    assert claims["iss"] == f"https://cognito-idp.us-east-1.amazonaws.com/{local_stack.cloud.resolve_ref('user_pool', POOL.id, 'id')}"
    assert claims["token_use"] == "id" and claims["cognito:groups"] == ["agent"] and claims["custom:locale"] == "ar"
    answer = me(local_stack, f"Bearer {agent_tokens.id_token}")
    assert answer.status == 200, answer.body
    assert answer.body["username"] == "agent" and answer.body["roles"] == ["agent"]
    assert answer.body["user_id"] == claims["sub"]
    assert me(local_stack, agent_tokens.id_token).status == 200  # the raw token, as API Gateway also accepts


@contextmanager
def echoing(stack, function_id: str):
    """The function's handler replaced by one that answers with the event it was given (a stand-in container)."""
    runtime = stack.cloud.lambdas.by_name[TOPOLOGY.function(function_id).name]

    def echo(event, context):
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}

    with runtime.lock:
        saved, runtime.idle = runtime.idle, [echo] * 8
    try:
        yield
    finally:
        with runtime.lock:
            runtime.idle = saved


def test_the_claims_reach_the_function_as_api_gateway_writes_them(local_stack, operators, client_id):
    manager = operators["manager"]
    token = CognitoSignIn(client_id).sign_in(manager.username, manager.password).id_token
    with echoing(local_stack, "admin-api"):
        answer = http("GET", f"{local_stack.gateway_url}/admin/api/orders/ord_1?status=CONFIRMED",
                      headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 200, answer.body
    event = answer.body
    assert event["resource"] == "/admin/api/{proxy+}" and event["pathParameters"] == {"proxy": "orders/ord_1"}
    claims = event["requestContext"]["authorizer"]["claims"]
    assert all(isinstance(value, str) for value in claims.values())
    verified = payload_of(token)
    assert claims["sub"] == verified["sub"] and claims["cognito:username"] == "manager"
    assert claims["cognito:groups"] == "manager" and claims["token_use"] == "id" and claims["aud"] == client_id
    assert claims["exp"] == time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(verified["exp"]))
    assert claims["auth_time"] == str(verified["auth_time"])


def test_several_groups_arrive_comma_separated(local_stack, client_id):
    both = create_operator(local_stack.cloud, "lead-agent", "lead@dawra.example", ("agent", "warehouse"))
    token = CognitoSignIn(client_id).sign_in(both.username, both.password).id_token
    with echoing(local_stack, "admin-api"):
        event = me(local_stack, f"Bearer {token}").body
    groups = event["requestContext"]["authorizer"]["claims"]["cognito:groups"]
    assert sorted(groups.split(",")) == ["agent", "warehouse"]


def test_missing_empty_and_garbage_authorization_is_refused(local_stack):
    for authorization in (None, "", "Bearer", "Bearer ", "Basic YWdlbnQ6cGFzcw==", "not-a-jwt", "a.b.c"):
        assert_refused(local_stack, authorization)


def test_forged_expired_unsigned_and_confused_tokens_are_refused(local_stack, agent_tokens):
    claims = payload_of(agent_tokens.id_token)
    now = int(time.time())
    assert_refused(local_stack, f"Bearer {forged(claims)}")
    assert_refused(local_stack, f"Bearer {mint({**claims, 'iat': now - 7200, 'exp': now - 3600})}")
    assert_refused(local_stack, f"Bearer {unsigned(claims)}")
    assert_refused(local_stack, f"Bearer {hs256_with_the_public_key(claims)}")
    assert me(local_stack, f"Bearer {mint(claims)}").status == 200  # the same claims, signed as moto signs: fine


def test_a_token_of_another_pool_is_refused(local_stack):
    idp = local_stack.cloud.client("cognito-idp")
    other = idp.create_user_pool(PoolName="someone-elses-pool")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=other, ClientName="theirs", GenerateSecret=False,
                                         ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=other, Username="agent", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=other, Username="agent", Password="Theirs-pass-1!", Permanent=True)
    idp.create_group(UserPoolId=other, GroupName="manager")
    idp.admin_add_user_to_group(UserPoolId=other, Username="agent", GroupName="manager")
    token = CognitoSignIn(client).sign_in("agent", "Theirs-pass-1!").id_token
    assert payload_of(token)["cognito:groups"] == ["manager"]  # signed by moto with the same key as our pool's
    assert_refused(local_stack, f"Bearer {token}")


def test_a_token_for_another_client_of_the_pool_is_refused(local_stack, operators):
    idp = local_stack.cloud.client("cognito-idp")
    pool_id = local_stack.cloud.resolve_ref("user_pool", POOL.id, "id")
    other = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="another-app", GenerateSecret=False,
                                        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    token = CognitoSignIn(other).sign_in(operators["agent"].username, operators["agent"].password).id_token
    assert_refused(local_stack, f"Bearer {token}")


def test_an_access_token_is_refused(local_stack, agent_tokens):
    assert payload_of(agent_tokens.access_token)["token_use"] == "access"
    assert_refused(local_stack, f"Bearer {agent_tokens.access_token}")


def test_a_wrong_password_does_not_sign_in(operators, client_id):
    with pytest.raises(Unauthenticated, match="wrong username or password"):
        CognitoSignIn(client_id).sign_in(operators["agent"].username, "Wrong-password-1!")
    with pytest.raises(Unauthenticated, match="wrong username or password"):
        CognitoSignIn(client_id).sign_in("nobody-here", "Wrong-password-1!")


def test_the_curl_sign_in_of_make_up_works_against_the_aws_endpoint(local_stack, operators, client_id):
    """make up prints an InitiateAuth call on moto's HTTP endpoint (no AWS CLI, no signature): the same, here."""
    agent = operators["agent"]
    answer = http("POST", f"{local_stack.aws_endpoint}/", json.dumps({
        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
        "AuthParameters": {"USERNAME": agent.username, "PASSWORD": agent.password}}).encode(),
        {"Content-Type": "application/x-amz-json-1.1",
         "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
    assert answer.status == 200, answer.body
    assert me(local_stack, f"Bearer {answer.body['AuthenticationResult']['IdToken']}").status == 200


def test_the_most_specific_route_wins(local_stack, agent_tokens):
    """/admin/api/{proxy+} (the admin API, behind the authorizer) over /admin/{proxy+} (the console, no authorizer)."""
    api, console = invocations(local_stack, "admin-api"), invocations(local_stack, "console")
    with echoing(local_stack, "console"):
        page = http("GET", f"{local_stack.gateway_url}/admin/orders/ord_1")
        home = http("GET", f"{local_stack.gateway_url}/admin")
    assert page.status == 200 and page.body["resource"] == "/admin/{proxy+}"
    assert page.body["pathParameters"] == {"proxy": "orders/ord_1"} and "authorizer" not in page.body["requestContext"]
    assert home.status == 200 and home.body["resource"] == "/admin"
    assert invocations(local_stack, "console") == console + 2
    assert me(local_stack, f"Bearer {agent_tokens.id_token}").status == 200
    assert invocations(local_stack, "admin-api") == api + 1
    assert http("DELETE", f"{local_stack.gateway_url}/admin/api/me").status == 405
