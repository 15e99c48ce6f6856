"""Operators' identity: Cognito user pool tokens, verified the way API Gateway's Cognito user pools authorizer verifies
them, and signing in with a username and password.

:class:`TokenVerifier` checks a Cognito ID token (by default) exactly as the deployed authorizer does, so the local
gateway and the console (which verifies its own session cookie) accept and refuse the same tokens as AWS:
the algorithm is RS256 and nothing else (``alg: none`` and HS256 signed with the public key are refused before any
key is looked at), the ``kid`` names a key of the pool's JWKS, the signature holds, ``iss`` is the pool
(``https://cognito-idp.<region>.amazonaws.com/<pool id>``: a token from another pool is refused even when, as in
moto, every pool signs with the same key), ``exp``/``iat``/``nbf`` hold with a small leeway, ``token_use`` is the
expected one and the audience is the app client (``aud`` on ID tokens, ``client_id`` on access tokens). Every
failure is :class:`~dawra.domain.errors.Unauthenticated` with a message that never contains the token; a JWKS that
cannot be fetched is :class:`~dawra.domain.errors.TransientError` (503, retry).

The JWKS is fetched from ``https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json`` (or the local
override, ``DAWRA_JWKS_URL``: the embedded cloud's moto endpoint serves the same path) and cached: the key set for an
hour, and an unknown ``kid`` refetches it at most once per cooldown (five minutes), so junk tokens cannot make every
request fetch the JWKS.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import jwt
from botocore.exceptions import ClientError

from dawra.adapters import aws
from dawra.adapters.errors import error_code, transient_errors
from dawra.contracts.admin import actor_from_claims
from dawra.domain.access import Actor
from dawra.domain.errors import TransientError, Unauthenticated

if TYPE_CHECKING:
    from dawra.contracts.env import Settings

ALGORITHM = "RS256"  # what Cognito signs with; the only algorithm accepted
LEEWAY_S = 10  # clock skew tolerated on exp, iat and nbf
MAX_TOKEN_CHARS = 16 * 1024  # Cognito tokens are a few KiB; anything far larger is not one
JWKS_LIFESPAN_S = 3600  # Cognito rotates its keys rarely
JWKS_COOLDOWN_S = 300  # at most one refetch per this long for a kid the cached set does not have
JWKS_TIMEOUT_S = 3
WRONG_CREDENTIALS = "wrong username or password"
# Errors InitiateAuth answers for credentials that do not sign in. One message for all of them, so a caller cannot
# tell an unknown user from a wrong password.
SIGN_IN_REFUSED = frozenset({"NotAuthorizedException", "UserNotFoundException", "PasswordResetRequiredException",
                             "UserNotConfirmedException"})


def issuer_of(user_pool_id: str, region: str | None = None) -> str:
    """The ``iss`` of the pool's tokens. A pool id is ``<region>_<random>``, so the region is its prefix."""
    return f"https://cognito-idp.{region or region_of(user_pool_id)}.amazonaws.com/{user_pool_id}"


def region_of(user_pool_id: str) -> str:
    region, separator, rest = user_pool_id.partition("_")
    if not (separator and region and rest):
        raise ValueError("a Cognito user pool id looks like <region>_<id>")
    return region


def jwks_url_of(user_pool_id: str, region: str | None = None) -> str:
    return f"{issuer_of(user_pool_id, region)}/.well-known/jwks.json"


class _StaticKeys:
    """A JWKS given as data (tests, and the embedded cloud when it serves no HTTP endpoint)."""

    def __init__(self, jwks: Mapping[str, Any]):
        self._keys = jwt.PyJWKSet.from_dict(dict(jwks))

    def get_signing_key(self, kid: str) -> jwt.PyJWK:
        for key in self._keys.keys:
            if key.key_id == kid:
                return key
        raise jwt.PyJWKClientError("no such key")


class TokenVerifier:
    """Verifies the pool's tokens (see the module's docstring for every check)."""

    def __init__(self, user_pool_id: str, client_id: str, *, region: str | None = None, jwks_url: str | None = None,
                 jwks: Mapping[str, Any] | None = None, use: Literal["id", "access"] = "id",
                 leeway_s: float = LEEWAY_S):
        """jwks_url: where the pool's JWKS is fetched (default: Cognito's own URL for the pool); jwks: the key set
        itself, instead of fetching it; use: the token_use accepted (an ID token, as the authorizer of a method with
        no OAuth scopes requires)."""
        self.user_pool_id, self.client_id, self.use, self.leeway_s = user_pool_id, client_id, use, leeway_s
        self.issuer = issuer_of(user_pool_id, region)
        self.jwks_url = jwks_url or jwks_url_of(user_pool_id, region)
        self._static = _StaticKeys(jwks) if jwks is not None else None
        self._client: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        if not (settings.user_pool_id and settings.user_pool_client_id):
            raise ValueError("USER_POOL_ID and USER_POOL_CLIENT_ID are needed to verify operators' tokens")
        return cls(settings.user_pool_id, settings.user_pool_client_id, jwks_url=settings.jwks_url)

    def verify(self, token: str) -> Actor:
        """The operator a valid token describes (dawra.contracts.admin reads the claims, as for the authorizer's)."""
        return actor_from_claims(self.verify_claims(token))

    def verify_claims(self, token: str) -> dict[str, Any]:
        """The token's verified payload (claims as Cognito wrote them); Unauthenticated otherwise."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise Unauthenticated("the token is not a JWT")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not a JWT") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated(f"tokens must be signed with {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("the token names no signing key")
        key = self._signing_key(kid)
        if key.key_type != "RSA" or key.algorithm_name != ALGORITHM:
            raise Unauthenticated("the token's signing key is not an RS256 key")
        is_id = self.use == "id"
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=[ALGORITHM], issuer=self.issuer, leeway=self.leeway_s,
                audience=self.client_id if is_id else None,
                options={"require": ["exp", "iat", "iss", "sub", "token_use", *(["aud"] if is_id else [])],
                         "verify_aud": is_id, "strict_aud": is_id})
        except jwt.PyJWTError as error:
            raise Unauthenticated(_reason(error)) from None
        if claims.get("token_use") != self.use:
            raise Unauthenticated(f"an {self.use} token is needed")
        if not is_id and claims.get("client_id") != self.client_id:
            raise Unauthenticated("the token was issued to another client")
        return claims

    def _signing_key(self, kid: str) -> jwt.PyJWK:
        try:
            if self._static is not None:
                return self._static.get_signing_key(kid)
            return self._jwks_client().get_signing_key(kid)
        except jwt.PyJWKClientConnectionError:
            raise TransientError("the user pool's signing keys could not be fetched") from None
        except jwt.PyJWTError:  # a kid the pool does not have (after at most one refetch per cooldown)
            raise Unauthenticated("the token's signing key is not the user pool's") from None

    def _jwks_client(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._client is None:
                self._client = jwt.PyJWKClient(self.jwks_url, cache_jwk_set=True, lifespan=JWKS_LIFESPAN_S,
                                               timeout=JWKS_TIMEOUT_S, cooldown_duration=JWKS_COOLDOWN_S)
            return self._client


def _reason(error: jwt.PyJWTError) -> str:
    """What was wrong, in our words (PyJWT's messages are not part of this contract)."""
    if isinstance(error, jwt.ExpiredSignatureError):
        return "the token has expired"
    if isinstance(error, jwt.ImmatureSignatureError):
        return "the token is not valid yet"
    if isinstance(error, jwt.InvalidIssuerError):
        return "the token was issued by another user pool"
    if isinstance(error, jwt.InvalidAudienceError):
        return "the token was issued to another client"
    if isinstance(error, jwt.InvalidSignatureError):
        return "the token's signature is not valid"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"the token has no {error.claim} claim"
    return "the token is not valid"


# --- signing in ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str | None
    expires_in: int  # seconds

    def __repr__(self) -> str:  # never the tokens themselves, in a log line or a traceback
        return f"Tokens(expires_in={self.expires_in})"


class CognitoSignIn:
    """Signs an operator in with the app client's USER_PASSWORD_AUTH flow (the client has no secret), and refreshes
    their tokens with REFRESH_TOKEN_AUTH."""

    def __init__(self, client_id: str, client: Any = None):
        self.client_id = client_id
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or aws.client("cognito-idp")

    def sign_in(self, username: str, password: str) -> Tokens:
        if not username or not password:
            raise Unauthenticated(WRONG_CREDENTIALS)
        return self._initiate("USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password}, None)

    def refresh(self, refresh_token: str) -> Tokens:
        if not refresh_token:
            raise Unauthenticated("sign in again")
        return self._initiate("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token}, refresh_token)

    def _initiate(self, flow: str, parameters: dict[str, str], refresh_token: str | None) -> Tokens:
        with transient_errors(f"Cognito InitiateAuth {flow}"):
            try:
                answer = self.client.initiate_auth(AuthFlow=flow, ClientId=self.client_id, AuthParameters=parameters)
            except ClientError as error:
                if error_code(error) in SIGN_IN_REFUSED:
                    raise Unauthenticated(WRONG_CREDENTIALS if refresh_token is None else "sign in again") from None
                raise
        if answer.get("ChallengeName"):  # a new password, or a TOTP code: a step this sign-in does not take
            raise Unauthenticated(f"signing in needs a further step ({answer['ChallengeName']})")
        result = answer["AuthenticationResult"]
        return Tokens(id_token=result["IdToken"], access_token=result["AccessToken"],
                      refresh_token=result.get("RefreshToken", refresh_token), expires_in=int(result["ExpiresIn"]))
