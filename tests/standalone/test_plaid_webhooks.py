import json
import time

import pytest

from kraal_connect.connectors.plaid.client import PlaidApi
from kraal_connect.connectors.plaid.webhooks import verify_webhook
from kraal_connect.engine.errors import WebhookRejected

BODY = json.dumps(
	{"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE", "item_id": "item-platypus"}
).encode()


@pytest.fixture
def get_key(plaid_emulator):
	"""Keys come from the emulator over HTTP, as they come from Plaid."""
	return PlaidApi("client-id", "secret", base_url=plaid_emulator.url).get_webhook_verification_key


def test_signed_webhook_is_accepted(plaid_emulator, get_key):
	payload = verify_webhook(BODY, plaid_emulator.sign_webhook(BODY), get_key)
	assert payload["webhook_code"] == "SYNC_UPDATES_AVAILABLE"


def test_changed_body_is_rejected(plaid_emulator, get_key):
	token = plaid_emulator.sign_webhook(BODY)
	with pytest.raises(WebhookRejected, match="body does not match"):
		verify_webhook(BODY.replace(b"item-platypus", b"item-tattersall"), token, get_key)


def test_unsigned_and_garbage_headers_are_rejected(get_key):
	with pytest.raises(WebhookRejected, match="no Plaid-Verification"):
		verify_webhook(BODY, None, get_key)
	with pytest.raises(WebhookRejected, match="not a JWT"):
		verify_webhook(BODY, "not.a.jwt", get_key)


def test_signature_by_another_key_is_rejected(plaid_emulator, plaid_data, get_key):
	from emulators.plaid import PlaidEmulator

	impostor = PlaidEmulator(plaid_data)
	impostor.key_id = plaid_emulator.key_id  # claims the real key id, signs with its own key
	with pytest.raises(WebhookRejected, match="signature does not verify"):
		verify_webhook(BODY, impostor.sign_webhook(BODY), get_key)


def test_symmetric_or_unsigned_algorithms_are_rejected(get_key):
	import jwt

	forged = jwt.encode({"iat": int(time.time()), "request_body_sha256": "x"}, "secret", algorithm="HS256")
	with pytest.raises(WebhookRejected, match="ES256"):
		verify_webhook(BODY, forged, get_key)


def test_old_webhooks_are_rejected(plaid_emulator, get_key):
	token = plaid_emulator.sign_webhook(BODY, issued_at=time.time() - 600)
	with pytest.raises(WebhookRejected, match="older than five minutes"):
		verify_webhook(BODY, token, get_key)
