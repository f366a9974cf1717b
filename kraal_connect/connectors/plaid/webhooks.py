"""Plaid signs each webhook with an ES256 JWT in the Plaid-Verification header."""

import hashlib
import hmac
import json
import time
from collections.abc import Callable

import jwt
from jwt.algorithms import ECAlgorithm

from kraal_connect.engine.errors import WebhookRejected

MAX_AGE_SECONDS = 5 * 60


def verify_webhook(
	body: bytes, token: str | None, get_key: Callable[[str], dict], now: float | None = None
) -> dict:
	"""The webhook's JSON once its signature, age and body hash check out; WebhookRejected otherwise.

	get_key fetches the JWK for a key id (/webhook_verification_key/get).
	"""
	if not token:
		raise WebhookRejected("no Plaid-Verification header")
	try:
		header = jwt.get_unverified_header(token)
	except jwt.PyJWTError:
		raise WebhookRejected("Plaid-Verification is not a JWT") from None
	if header.get("alg") != "ES256" or not header.get("kid"):
		raise WebhookRejected("Plaid-Verification must be an ES256 JWT with a key id")
	jwk = get_key(header["kid"])
	if jwk.get("expired_at"):
		raise WebhookRejected(f"verification key {header['kid']} has expired")
	try:
		claims = jwt.decode(
			token,
			key=ECAlgorithm.from_jwk(json.dumps(jwk)),
			algorithms=["ES256"],
			options={"require": ["iat", "request_body_sha256"]},
		)
	except jwt.PyJWTError as exc:
		raise WebhookRejected(f"signature does not verify: {exc}") from None
	if (now or time.time()) - claims["iat"] > MAX_AGE_SECONDS:
		raise WebhookRejected("webhook is older than five minutes")
	if not hmac.compare_digest(str(claims["request_body_sha256"]), hashlib.sha256(body).hexdigest()):
		raise WebhookRejected("body does not match the signed hash")
	try:
		return json.loads(body)
	except ValueError:
		raise WebhookRejected("body is not JSON") from None
