"""The operators' token verifier and sign-in (dawra/adapters/identity.py), without a cloud: tokens are minted with
moto's Cognito signing key (tests/cognito_tokens.py) or forged; sign-in runs against botocore's Stubber."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.stub import Stubber
from cognito_tokens import JWKS, b64, forged, handmade, hs256_with_the_public_key, mint, unsigned

from dawra.adapters.identity import CognitoSignIn, TokenVerifier, issuer_of
from dawra.domain.access import Actor, Role
from dawra.domain.errors import TransientError, Unauthenticated

POOL = "us-east-1_OperatorsPool1"
OTHER_POOL = "us-east-1_SomeOtherPool2"
CLIENT = "backofficeclient0000000001"


def claims(**overrides):
    now = int(time.time())
    base = {"iss": issuer_of(POOL), "sub": "5f0c1a2b-0000-4000-8000-00000000a9e1", "aud": CLIENT, "token_use": "id",
            "iat": now, "auth_time": now, "exp": now + 3600, "cognito:username": "agent",
            "email": "agent@dawra.example", "email_verified": True, "cognito:groups": ["agent"],
            "custom:locale": "ar"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def verifier():
    return TokenVerifier(POOL, CLIENT, jwks=JWKS)


def refused(verifier, token) -> str:
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(token)
    message = caught.value.message
    if isinstance(token, str) and len(token) > 8:
        assert token not in message and token[-8:] not in message  # never echoes the token
    return message


def test_a_valid_id_token_is_the_operator(verifier):
    assert verifier.verify(mint(claims())) == Actor(user_id="5f0c1a2b-0000-4000-8000-00000000a9e1",
                                                    username="agent", roles=frozenset({Role.AGENT}), language="ar")


def test_a_signature_made_with_another_key_under_the_pools_kid_is_refused(verifier):
    assert "signature" in refused(verifier, forged(claims()))


def test_a_payload_changed_after_signing_is_refused(verifier):
    header, _, signature = mint(claims()).split(".")
    promoted = b64(json.dumps(claims(**{"cognito:groups": ["manager"]})).encode())
    assert "signature" in refused(verifier, f"{header}.{promoted}.{signature}")


def test_an_expired_token_is_refused(verifier):
    now = int(time.time())
    assert "expired" in refused(verifier, mint(claims(iat=now - 7200, auth_time=now - 7200, exp=now - 3600)))


def test_expiry_has_a_small_leeway_only(verifier):
    now = int(time.time())
    verifier.verify(mint(claims(exp=now - 5)))  # a few seconds of clock skew
    assert "expired" in refused(verifier, mint(claims(exp=now - 60)))


def test_a_token_issued_in_the_future_or_not_valid_yet_is_refused(verifier):
    now = int(time.time())
    assert "not valid yet" in refused(verifier, mint(claims(iat=now + 600)))
    assert "not valid yet" in refused(verifier, mint(claims(nbf=now + 600)))


def test_alg_none_is_refused(verifier):
    assert "RS256" in refused(verifier, unsigned(claims()))
    assert "RS256" in refused(verifier, handmade({"alg": "None", "kid": "dummy"}, claims()))


def test_hs256_signed_with_the_public_key_is_refused(verifier):
    assert "RS256" in refused(verifier, hs256_with_the_public_key(claims()))


def test_a_token_of_another_pool_is_refused_though_moto_signs_every_pool_with_one_key(verifier):
    assert "another user pool" in refused(verifier, mint(claims(iss=issuer_of(OTHER_POOL))))
    assert "another user pool" in refused(verifier, mint(claims(iss=issuer_of(POOL, "eu-west-1"))))


def test_a_token_for_another_client_is_refused(verifier):
    assert "another client" in refused(verifier, mint(claims(aud="someotherclient00000000001")))
    assert "another client" in refused(verifier, mint(claims(aud=[CLIENT, "someotherclient00000000001"])))


def test_an_access_token_is_refused_where_an_id_token_is_needed(verifier):
    access = claims(aud=None, client_id=CLIENT, token_use="access", username="agent", scope="aws.cognito.signin.user.admin")
    assert "aud" in refused(verifier, mint(access))
    assert "id token" in refused(verifier, mint(claims(token_use="access")))


def test_a_verifier_of_access_tokens_checks_their_client():
    access_verifier = TokenVerifier(POOL, CLIENT, jwks=JWKS, use="access")
    access = claims(aud=None, client_id=CLIENT, token_use="access", username="agent")
    assert access_verifier.verify(mint(access)).username == "agent"
    with pytest.raises(Unauthenticated, match="another client"):
        access_verifier.verify(mint({**access, "client_id": "someotherclient00000000001"}))
    with pytest.raises(Unauthenticated, match="access token"):
        access_verifier.verify(mint(claims()))


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "token_use", "aud", "iss"])
def test_a_token_missing_a_required_claim_is_refused(verifier, missing):
    refused(verifier, mint(claims(**{missing: None})))


def test_a_token_without_a_kid_or_with_an_unknown_kid_is_refused(verifier):
    assert "signing key" in refused(verifier, mint(claims(), kid=None))
    assert "signing key" in refused(verifier, mint(claims(), kid="rotated-away"))


@pytest.mark.parametrize("garbage", ["", "x", "a.b", "a.b.c", "a.b.c.d", "Bearer", "e30.e30.", "💥.💥.💥",
                                     "eyJhbGciOiJSUzI1NiJ9." * 3, "x" * 20_000])
def test_garbage_is_refused(verifier, garbage):
    refused(verifier, garbage)


def test_a_token_that_names_no_user_is_refused(verifier):
    assert "user" in refused(verifier, mint(claims(**{"cognito:username": None})))


def test_the_issuer_is_derived_from_the_pool_id():
    assert issuer_of("eu-west-1_AbC123") == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
    with pytest.raises(ValueError):
        issuer_of("not-a-pool-id")


# --- the JWKS over HTTP: fetched once, refetched for an unknown kid at most once per cooldown -----------------------


class _JwksServer:
    def __init__(self, jwks):
        self.hits = 0
        self.jwks = jwks
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits += 1
                body = json.dumps(server.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{POOL}/.well-known/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server():
    server = _JwksServer(JWKS)
    yield server
    server.close()


def test_the_jwks_is_fetched_once_and_cached(jwks_server):
    verifier = TokenVerifier(POOL, CLIENT, jwks_url=jwks_server.url)
    for _ in range(5):
        verifier.verify(mint(claims()))
    assert jwks_server.hits == 1


def test_unknown_kids_refetch_the_jwks_at_most_once_per_cooldown(jwks_server):
    verifier = TokenVerifier(POOL, CLIENT, jwks_url=jwks_server.url)
    verifier.verify(mint(claims()))
    for attempt in range(10):
        with pytest.raises(Unauthenticated):
            verifier.verify(mint(claims(), kid=f"junk-{attempt}"))
    assert jwks_server.hits == 1  # still within the cooldown of the first fetch: junk kids cost no fetch


def test_an_unreachable_jwks_is_transient_not_a_refusal(jwks_server):
    url = jwks_server.url
    jwks_server.close()
    with pytest.raises(TransientError):
        TokenVerifier(POOL, CLIENT, jwks_url=url).verify(mint(claims()))


# --- signing in ---------------------------------------------------------------------------------------------------


@pytest.fixture
def cognito():
    client = boto3.client("cognito-idp", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber


def _expect_initiate(flow, parameters):
    return {"AuthFlow": flow, "ClientId": CLIENT, "AuthParameters": parameters}


def test_sign_in_returns_the_tokens(cognito):
    client, stubber = cognito
    stubber.add_response("initiate_auth", {"AuthenticationResult": {
        "IdToken": "id.token.x", "AccessToken": "access.token.x", "RefreshToken": "refresh-x", "ExpiresIn": 3600,
        "TokenType": "Bearer"}}, _expect_initiate("USER_PASSWORD_AUTH",
                                                  {"USERNAME": "agent", "PASSWORD": "S3cret-pass!"}))
    tokens = CognitoSignIn(CLIENT, client).sign_in("agent", "S3cret-pass!")
    assert (tokens.id_token, tokens.access_token, tokens.refresh_token, tokens.expires_in) == (
        "id.token.x", "access.token.x", "refresh-x", 3600)
    assert "token" not in repr(tokens).replace("Tokens(", "")


@pytest.mark.parametrize("code", ["NotAuthorizedException", "UserNotFoundException"])
def test_a_wrong_password_and_an_unknown_user_are_refused_alike(cognito, code):
    client, stubber = cognito
    stubber.add_client_error("initiate_auth", service_error_code=code, service_message="Incorrect username or password.",
                             http_status_code=400)
    with pytest.raises(Unauthenticated) as caught:
        CognitoSignIn(CLIENT, client).sign_in("agent", "wrong-password")
    assert caught.value.message == "wrong username or password"


def test_empty_credentials_are_refused_without_asking_cognito(cognito):
    client, _ = cognito
    with pytest.raises(Unauthenticated, match="wrong username or password"):
        CognitoSignIn(CLIENT, client).sign_in("agent", "")


@pytest.mark.parametrize(("code", "status"), [("TooManyRequestsException", 400), ("InternalErrorException", 500)])
def test_throttling_and_server_errors_are_transient(cognito, code, status):
    client, stubber = cognito
    stubber.add_client_error("initiate_auth", service_error_code=code, http_status_code=status)
    with pytest.raises(TransientError):
        CognitoSignIn(CLIENT, client).sign_in("agent", "S3cret-pass!")


def test_a_challenge_is_a_step_this_sign_in_does_not_take(cognito):
    client, stubber = cognito
    stubber.add_response("initiate_auth", {"ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": "s" * 20,
                                           "ChallengeParameters": {}})
    with pytest.raises(Unauthenticated, match="SOFTWARE_TOKEN_MFA"):
        CognitoSignIn(CLIENT, client).sign_in("agent", "S3cret-pass!")


def test_refresh_keeps_the_refresh_token_cognito_does_not_rotate(cognito):
    client, stubber = cognito
    stubber.add_response("initiate_auth", {"AuthenticationResult": {
        "IdToken": "id.token.y", "AccessToken": "access.token.y", "ExpiresIn": 3600}},
        _expect_initiate("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": "refresh-x"}))
    tokens = CognitoSignIn(CLIENT, client).refresh("refresh-x")
    assert (tokens.id_token, tokens.refresh_token) == ("id.token.y", "refresh-x")
    stubber.add_client_error("initiate_auth", service_error_code="NotAuthorizedException", http_status_code=400)
    with pytest.raises(Unauthenticated, match="sign in again"):
        CognitoSignIn(CLIENT, client).refresh("revoked")
