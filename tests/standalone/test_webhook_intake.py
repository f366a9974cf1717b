"""What every vendor's webhook must be before its signature is even checked, the HMAC check Shopify
and Intuit share, and the key a repeated delivery is known by."""

import base64
import hashlib
import hmac

import pytest

from kraal_connect.engine.errors import WebhookRejected
from kraal_connect.engine.webhook_intake import (
	MAX_BODY_BYTES,
	MalformedWebhook,
	OversizedWebhook,
	check_length,
	delivery_key,
	hmac_signature,
	hmac_signers,
	refusal_status,
	screen,
)

BODY = b'{"id": 1}'
HEADER = "X-Test-Hmac"


def signed(body: bytes, secret: str) -> bytes:
	return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def test_a_json_request_of_a_webhooks_size_passes_the_screen():
	screen(len(BODY), "application/json")
	screen(None, "application/json")  # chunked: only the body as read says how long it is
	screen(MAX_BODY_BYTES, "APPLICATION/JSON")
	check_length(b"x" * MAX_BODY_BYTES)


@pytest.mark.parametrize(
	("length", "mimetype", "status"),
	[
		(MAX_BODY_BYTES + 1, "application/json", 413),
		(10**12, None, 413),  # the size is refused before the content type is even looked at
		(len(BODY), "text/plain", 400),
		(len(BODY), "application/x-www-form-urlencoded", 400),
		(len(BODY), "", 400),
		(len(BODY), None, 400),
	],
)
def test_oversized_or_non_json_requests_are_refused_by_their_headers(length, mimetype, status):
	with pytest.raises(WebhookRejected) as refused:
		screen(length, mimetype)
	assert refusal_status(refused.value) == status


def test_a_body_longer_than_its_headers_said_is_refused_as_read():
	with pytest.raises(OversizedWebhook) as refused:
		check_length(b"x" * (MAX_BODY_BYTES + 1))
	assert refusal_status(refused.value) == 413


def test_a_bad_signature_is_a_401_and_a_signed_body_that_is_not_json_a_400():
	assert refusal_status(WebhookRejected("forged")) == 401
	assert refusal_status(MalformedWebhook("not JSON")) == 400


def test_the_signers_are_the_secrets_that_made_the_signature():
	secrets = {"a": "secret-a", "b": "secret-b", "c": "secret-a", "unset": ""}
	given = hmac_signature(base64.b64encode(signed(BODY, "secret-a")).decode(), HEADER)
	assert hmac_signers(BODY, given, secrets) == ["a", "c"]


@pytest.mark.parametrize(
	("body", "signature", "secrets"),
	[
		(BODY + b" ", signed(BODY, "secret-a"), {"a": "secret-a"}),  # the body changed
		(BODY, signed(BODY, "forger"), {"a": "secret-a"}),  # another secret
		(BODY, signed(BODY, "secret-a")[:16], {"a": "secret-a"}),  # truncated
		(BODY, signed(BODY, ""), {"a": ""}),  # an integration with no secret signs nothing
		(BODY, signed(BODY, "secret-a"), {}),  # no integration to check against
	],
)
def test_a_signature_no_configured_secret_made_is_refused(body, signature, secrets):
	with pytest.raises(WebhookRejected, match="does not match") as refused:
		hmac_signers(body, signature, secrets)
	assert refusal_status(refused.value) == 401


@pytest.mark.parametrize(
	("value", "reason"),
	[
		(None, "no X-Test-Hmac header"),
		("", "no X-Test-Hmac header"),
		("not base64!", "not base64"),
		("é", "not base64"),
	],
)
def test_a_missing_or_garbled_signature_header_is_refused(value, reason):
	with pytest.raises(WebhookRejected, match=reason):
		hmac_signature(value, HEADER)


def test_a_delivery_is_known_by_its_signed_body_and_its_delivery_id():
	key = delivery_key(BODY, "delivery-1")
	assert key == delivery_key(BODY, "delivery-1")
	assert (
		len(
			{
				key,
				delivery_key(BODY, "delivery-2"),
				delivery_key(BODY + b" ", "delivery-1"),
				delivery_key(BODY),
			}
		)
		== 4
	)
	assert len(delivery_key(BODY, "x" * 10_000)) == 64  # whatever a caller sends as its id
