"""Tokens for the tests of the operators' identity: minted with moto's Cognito signing key (the one its cognito-idp
signs every pool's tokens with), forged with another key, or made by hand (alg none, HS256 with the public key)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.utilities.utils import load_resource

PRIVATE_JWK = load_resource("cognitoidp/resources/jwks-private.json")
SIGNING_KEY = jwt.PyJWK(PRIVATE_JWK).key
JWKS = load_resource("cognitoidp/resources/jwks-public.json")
KID = PRIVATE_JWK["kid"]


def mint(payload: dict, key=SIGNING_KEY, kid: str | None = KID) -> str:
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid} if kid is not None else {})


def forged(payload: dict) -> str:
    """Signed with a key of our own under the pool's kid."""
    return mint(payload, key=rsa.generate_private_key(public_exponent=65537, key_size=2048))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade(header: dict, payload: dict, signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{b64(signature)}"


def unsigned(payload: dict) -> str:
    """alg: none."""
    return handmade({"alg": "none", "typ": "JWT", "kid": KID}, payload)


def hs256_with_the_public_key(payload: dict) -> str:
    """The algorithm-confusion attack: HMAC-SHA256 keyed with the pool's public key (PEM), which anyone can fetch."""
    public_pem = jwt.PyJWK(JWKS["keys"][0]).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": KID}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())}"
