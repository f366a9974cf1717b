"""What every vendor's webhook must be before anything reads a secret, the database or its body as
JSON; the HMAC check Shopify and Intuit share; and what a delivery is recognised by when it comes again.

Pure (no frappe): engine/webhooks.py applies it to the site's requests.
"""

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping

from kraal_connect.engine.errors import WebhookRejected

# Vendors' notifications are a few KiB: a body near this size is not one, and is not read further.
MAX_BODY_BYTES = 2 * 1024 * 1024
JSON = "application/json"
# A refusal has the same body whatever its reason, so a caller learns nothing but the status.
REFUSED = {"accepted": False}


class MalformedWebhook(WebhookRejected):
	"""Not what the vendor sends: another content type, or a signed body that is not its JSON."""

	status = 400


class OversizedWebhook(WebhookRejected):
	status = 413


def refusal_status(exc: WebhookRejected) -> int:
	"""400 or 413 for a request that is not a webhook at all, 401 for one whose signature fails."""
	return getattr(exc, "status", 401)


def screen(content_length: int | None, mimetype: str | None) -> None:
	"""Refuse a request by its headers alone, before its body is read."""
	if content_length is not None and content_length > MAX_BODY_BYTES:
		raise OversizedWebhook(f"body of {content_length} bytes is over {MAX_BODY_BYTES}")
	if (mimetype or "").lower() != JSON:
		raise MalformedWebhook(f"content type is not {JSON}")


def check_length(body: bytes) -> None:
	"""The body as read: a request sent without Content-Length (chunked) is only known here."""
	if len(body) > MAX_BODY_BYTES:
		raise OversizedWebhook(f"body is over {MAX_BODY_BYTES} bytes")


def json_object(body: bytes) -> dict:
	"""A verified body as the JSON object every vendor's webhook is; MalformedWebhook otherwise."""
	try:
		payload = json.loads(body)
	except ValueError:
		raise MalformedWebhook("body is not JSON") from None
	if not isinstance(payload, dict):
		raise MalformedWebhook("body is not a JSON object")
	return payload


def hmac_signature(value: str | None, header: str) -> bytes:
	"""The digest a base64 HMAC header carries (Shopify's and Intuit's scheme); checked before any
	secret is read."""
	if not value:
		raise WebhookRejected(f"no {header} header")
	try:
		return base64.b64decode(value, validate=True)
	except (binascii.Error, ValueError):
		raise WebhookRejected(f"{header} is not base64") from None


def hmac_signers(body: bytes, signature: bytes, secrets: Mapping[str, str]) -> list[str]:
	"""The names in `secrets` whose secret signed exactly these bytes: HMAC-SHA256 over the raw body,
	compared in constant time. WebhookRejected when none did."""
	signed = [
		name
		for name, secret in secrets.items()
		if secret and hmac.compare_digest(signature, hmac.new(secret.encode(), body, hashlib.sha256).digest())
	]
	if not signed:
		raise WebhookRejected("the signature does not match the body under any configured secret")
	return signed


def delivery_key(body: bytes, delivery: str = "") -> str:
	"""What a delivery is recognised by when it comes again: the signed body and what tells its
	deliveries apart (Shopify's webhook id, Plaid's signed iat); hashed, so the key's length does not
	depend on what a caller sent."""
	return hashlib.sha256(hashlib.sha256(body).digest() + delivery.encode()).hexdigest()
