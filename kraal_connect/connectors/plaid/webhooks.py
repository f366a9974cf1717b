"""Plaid signs each webhook with an ES256 JWT in the Plaid-Verification header: the SHA-256 of the raw
body and when it was sent (iat), signed with a key Plaid names by id (kid) and serves to its clients
(/webhook_verification_key/get). Pure: the keys come in through a callable; webhook_keys.py is the
site's, cached and rate-limited."""

import hashlib
import hmac
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import api_jws
from jwt.algorithms import ECAlgorithm

from kraal_connect.engine.errors import WebhookRejected

MAX_AGE_SECONDS = 5 * 60
# Plaid's clock and ours may disagree by a little; a token from further ahead was not made by Plaid now.
CLOCK_SKEW_SECONDS = 30
# A token is taken while its iat is in [now - MAX_AGE, now + SKEW]: a delivery remembered this long is
# known for as long as it could be replayed.
REPLAY_WINDOW_SECONDS = MAX_AGE_SECONDS + CLOCK_SKEW_SECONDS
# Plaid's key ids are UUIDs; a longer one is not Plaid's and is not worth a cache entry or a call.
MAX_KEY_ID_LENGTH = 64

# The site's key cache and fetch budget (webhook_keys.py).
KEY_CACHE_SECONDS = 24 * 3600
UNKNOWN_KEY_SECONDS = 5 * 60
KEY_FETCHES_PER_MINUTE = 10

# keys(kid) -> (client, JWK) of each Plaid client of the site that holds a key under kid; iterated
# only until one verifies, so a site source can fetch lazily.
Keys = Callable[[str], Iterable[tuple[str, dict]]]


@dataclass(frozen=True)
class SignedWebhook:
	client: str  # the Plaid client whose key verified it
	issued_at: int


def verify_webhook(body: bytes, token: str | None, keys: Keys, now: float) -> SignedWebhook:
	"""Who signed the raw body, and when; WebhookRejected unless the token is an ES256 JWT, recent,
	over exactly these bytes, and verified by a key one of the clients `keys` gives holds.

	keys is asked only once the token's header and claims check out, so a stale or mismatched token
	costs no key lookup, let alone a call to Plaid.
	"""
	if not token:
		raise WebhookRejected("no Plaid-Verification header")
	kid = _key_id(token)
	try:
		# Read before the signature is checked, to spare the key lookup; the signature checked below
		# covers these very bytes, so what was read is what Plaid signed.
		claims = jwt.decode(token, options={"verify_signature": False})
	except jwt.PyJWTError:
		raise WebhookRejected("Plaid-Verification is not a JWT") from None
	check_claims(claims, body, now)
	for client, jwk in keys(kid):
		if _verifies(token, jwk):
			return SignedWebhook(client, int(claims["iat"]))
	raise WebhookRejected(f"signature does not verify under key {kid}")


def _key_id(token: str) -> str:
	try:
		header = jwt.get_unverified_header(token)
	except jwt.PyJWTError:
		raise WebhookRejected("Plaid-Verification is not a JWT") from None
	kid = header.get("kid")
	if header.get("alg") != "ES256" or not isinstance(kid, str) or not 0 < len(kid) <= MAX_KEY_ID_LENGTH:
		raise WebhookRejected("Plaid-Verification must be an ES256 JWT with a key id")
	return kid


def check_claims(claims: Mapping[str, Any], body: bytes, now: float) -> None:
	"""iat within MAX_AGE_SECONDS before now and CLOCK_SKEW_SECONDS after; the body's hash as signed."""
	issued_at = claims.get("iat")
	if not isinstance(issued_at, int | float) or isinstance(issued_at, bool) or not math.isfinite(issued_at):
		raise WebhookRejected("the token has no iat")
	if now - issued_at > MAX_AGE_SECONDS:
		raise WebhookRejected("webhook is older than five minutes")
	if issued_at - now > CLOCK_SKEW_SECONDS:
		raise WebhookRejected("webhook is issued in the future")
	signed_hash = claims.get("request_body_sha256")
	if not isinstance(signed_hash, str) or not hmac.compare_digest(
		signed_hash.encode(), hashlib.sha256(body).hexdigest().encode()
	):
		raise WebhookRejected("body does not match the signed hash")


def _verifies(token: str, jwk: dict) -> bool:
	try:
		api_jws.decode(token, key=ECAlgorithm.from_jwk(json.dumps(jwk)), algorithms=["ES256"])
	except (jwt.PyJWTError, ValueError, TypeError):
		return False
	return True


def key_lifetime(jwk: Mapping[str, Any], now: float) -> int:
	"""Seconds a fetched key may verify webhooks from now: until its expired_at, at most a day; 0 for a
	key Plaid has expired."""
	expired_at = jwk.get("expired_at")
	if expired_at is None:
		return KEY_CACHE_SECONDS
	return max(0, min(KEY_CACHE_SECONDS, int(expired_at - now)))


def fetch_window(now: float) -> int:
	"""The minute key fetches are counted in."""
	return int(now // 60)


def may_fetch(fetches_this_minute: int) -> bool:
	"""Whether the site may ask Plaid for a key, this one counted."""
	return fetches_this_minute <= KEY_FETCHES_PER_MINUTE
