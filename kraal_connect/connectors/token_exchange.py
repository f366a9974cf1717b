"""How a vendor's OAuth token endpoint answers an authorization code (Shopify, Login with Amazon):
the one reading of that answer both flows share. Pure: the caller makes the request."""

from collections.abc import Mapping

from kraal_connect.engine.errors import AuthenticationError, SyncError, TransientError, retry_after_seconds


def token_answer(vendor: str, status: int, headers: Mapping[str, str], read_json, wanted: str) -> dict:
	"""The answer's JSON when it carries `wanted` (the token); otherwise the error, in words.

	read_json: the response's .json (a body that is not JSON counts as empty). Only the vendor's
	structured error (error, error_description) is quoted, never the body: it may echo what was sent.
	A code works once, so an AuthenticationError means the user connects again.
	"""
	if status == 429 or status >= 500:
		raise TransientError(
			f"{vendor} answered HTTP {status}", retry_after=retry_after_seconds(headers.get("Retry-After"))
		)
	try:
		body = read_json()
	except ValueError:
		body = {}
	body = body if isinstance(body, dict) else {}
	if status == 200 and body.get(wanted):
		return body
	reason = ": ".join(str(body[k]) for k in ("error", "error_description") if body.get(k))
	if status in (400, 401, 403):
		raise AuthenticationError(f"{vendor} refused the authorization code ({reason or f'HTTP {status}'})")
	raise SyncError(f"{vendor} answered the token exchange with HTTP {status}")
