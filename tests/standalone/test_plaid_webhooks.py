"""Plaid webhooks: the ES256 JWT over the raw body, its age, who holds the key that verified it, and the
site's key cache and fetch budget decisions."""

import hashlib
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from emulators.plaid import PlaidEmulator
from kraal_connect.connectors.plaid.client import PlaidApi
from kraal_connect.connectors.plaid.webhooks import (
	CLOCK_SKEW_SECONDS,
	KEY_CACHE_SECONDS,
	KEY_FETCHES_PER_MINUTE,
	MAX_AGE_SECONDS,
	SignedWebhook,
	fetch_window,
	key_lifetime,
	may_fetch,
	verify_webhook,
)
from kraal_connect.engine.errors import WebhookRejected
from kraal_connect.engine.webhook_intake import MalformedWebhook, json_object

BODY = json.dumps(
	{"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE", "item_id": "item-platypus"}
).encode()
NOW = 1_767_000_000.0


class Signer:
	"""A key pair of our own, to sign whatever claims a test needs."""

	def __init__(self, kid: str = "kid-1"):
		self.kid = kid
		self.private = ec.generate_private_key(ec.SECP256R1())
		self.jwk = json.loads(ECAlgorithm.to_jwk(self.private.public_key())) | {"expired_at": None}

	def sign(self, claims: dict) -> str:
		return jwt.encode(claims, self.private, algorithm="ES256", headers={"kid": self.kid})

	def sign_body(self, body: bytes, issued_at: float = NOW) -> str:
		return self.sign({"iat": int(issued_at), "request_body_sha256": _sha256(body)})


def _sha256(body: bytes) -> str:
	return hashlib.sha256(body).hexdigest()


class Keys:
	"""keys(kid) as the site gives them, (client, JWK) one at a time; remembers which clients were
	asked for, as the site fetches them."""

	def __init__(self, by_client: dict[str, dict]):
		self.by_client = by_client
		self.asked: list[str] = []

	def __call__(self, kid: str):
		for client, jwk in self.by_client.items():
			self.asked.append(client)
			yield client, jwk


@pytest.fixture
def signer():
	return Signer()


@pytest.fixture
def keys(signer):
	return Keys({"client-a": signer.jwk})


def test_a_webhook_signed_by_plaid_over_http_verifies(plaid_emulator):
	"""Keys come from the emulator over HTTP, as they come from Plaid."""
	api = PlaidApi("client-id", "secret", base_url=plaid_emulator.url)
	now = time.time()
	signed = verify_webhook(
		BODY,
		plaid_emulator.sign_webhook(BODY, now),
		lambda kid: [("client-id", api.get_webhook_verification_key(kid))],
		now,
	)
	assert signed == SignedWebhook("client-id", int(now))


def test_the_client_whose_key_verified_is_named_and_no_further_client_is_asked(signer):
	other = Signer(signer.kid)  # another client's key under the same id
	keys = Keys({"client-a": other.jwk, "client-b": signer.jwk, "client-c": signer.jwk})
	assert verify_webhook(BODY, signer.sign_body(BODY), keys, NOW) == SignedWebhook("client-b", int(NOW))
	assert keys.asked == ["client-a", "client-b"]


def test_a_changed_body_is_rejected_without_asking_for_a_key(signer, keys):
	token = signer.sign_body(BODY)
	with pytest.raises(WebhookRejected, match="body does not match"):
		verify_webhook(BODY.replace(b"item-platypus", b"item-tattersall"), token, keys, NOW)
	assert keys.asked == []


@pytest.mark.parametrize(
	("token", "reason"),
	[
		(None, "no Plaid-Verification"),
		("", "no Plaid-Verification"),
		("not.a.jwt", "not a JWT"),
		("%%%.%%%.%%%", "not a JWT"),
		("eyJhbGciOiJFUzI1NiJ9", "not a JWT"),
	],
)
def test_missing_and_garbled_headers_are_rejected_without_asking_for_a_key(keys, token, reason):
	with pytest.raises(WebhookRejected, match=reason):
		verify_webhook(BODY, token, keys, NOW)
	assert keys.asked == []


def test_a_signature_by_another_key_under_a_known_id_is_rejected(signer, keys):
	impostor = Signer(signer.kid)
	with pytest.raises(WebhookRejected, match="signature does not verify"):
		verify_webhook(BODY, impostor.sign_body(BODY), keys, NOW)


def test_an_id_no_client_holds_a_key_for_is_rejected(signer):
	with pytest.raises(WebhookRejected, match="signature does not verify"):
		verify_webhook(BODY, signer.sign_body(BODY), Keys({}), NOW)


def test_a_malformed_key_verifies_nothing(signer):
	with pytest.raises(WebhookRejected, match="signature does not verify"):
		verify_webhook(BODY, signer.sign_body(BODY), Keys({"client-a": {"kty": "EC", "crv": "P-256"}}), NOW)


def test_symmetric_algorithms_and_tokens_without_a_usable_key_id_are_rejected(signer, keys):
	claims = {"iat": int(NOW), "request_body_sha256": _sha256(BODY)}
	for forged in (
		jwt.encode(claims, "secret", algorithm="HS256", headers={"kid": signer.kid}),
		jwt.encode(claims, signer.private, algorithm="ES256"),  # no kid
		jwt.encode(claims, signer.private, algorithm="ES256", headers={"kid": "k" * 65}),
	):
		with pytest.raises(WebhookRejected, match="ES256 JWT with a key id"):
			verify_webhook(BODY, forged, keys, NOW)
	assert keys.asked == []


@pytest.mark.parametrize(
	("issued_at", "reason"),
	[
		(NOW - MAX_AGE_SECONDS - 1, "older than five minutes"),
		(NOW - 3600, "older than five minutes"),
		(NOW + CLOCK_SKEW_SECONDS + 1, "in the future"),
		(NOW + 3600, "in the future"),
	],
)
def test_stale_or_future_tokens_are_rejected_without_asking_for_a_key(signer, keys, issued_at, reason):
	with pytest.raises(WebhookRejected, match=reason):
		verify_webhook(BODY, signer.sign_body(BODY, issued_at), keys, NOW)
	assert keys.asked == []


@pytest.mark.parametrize("issued_at", [NOW - MAX_AGE_SECONDS, NOW, NOW + CLOCK_SKEW_SECONDS])
def test_tokens_within_the_age_and_the_clock_skew_verify(signer, keys, issued_at):
	assert verify_webhook(BODY, signer.sign_body(BODY, issued_at), keys, NOW).issued_at == int(issued_at)


@pytest.mark.parametrize(
	"claims",
	[
		{"request_body_sha256": _sha256(BODY)},
		{"iat": str(int(NOW)), "request_body_sha256": _sha256(BODY)},
		{"iat": True, "request_body_sha256": _sha256(BODY)},
		{"iat": None, "request_body_sha256": _sha256(BODY)},
	],
)
def test_a_token_without_a_numeric_iat_is_rejected(signer, keys, claims):
	with pytest.raises(WebhookRejected, match="no iat"):
		verify_webhook(BODY, signer.sign(claims), keys, NOW)
	assert keys.asked == []


def test_a_token_without_the_body_hash_is_rejected(signer, keys):
	for claims in ({"iat": int(NOW)}, {"iat": int(NOW), "request_body_sha256": 12}):
		with pytest.raises(WebhookRejected, match="body does not match"):
			verify_webhook(BODY, signer.sign(claims), keys, NOW)


def test_the_emulators_signature_and_an_impostors_differ(plaid_emulator, plaid_data):
	impostor = PlaidEmulator(plaid_data)
	impostor.key_id = plaid_emulator.key_id  # claims the real key id, signs with its own key
	api = PlaidApi("client-id", "secret", base_url=plaid_emulator.url)
	with pytest.raises(WebhookRejected, match="signature does not verify"):
		verify_webhook(
			BODY,
			impostor.sign_webhook(BODY),
			lambda kid: [("client-id", api.get_webhook_verification_key(kid))],
			time.time(),
		)


def test_a_verified_body_is_read_as_a_json_object():
	assert json_object(BODY)["item_id"] == "item-platypus"
	for body in (b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"):
		with pytest.raises(MalformedWebhook):
			json_object(body)


def test_a_key_is_kept_until_it_expires_and_a_day_at_most():
	assert key_lifetime({"expired_at": None}, NOW) == KEY_CACHE_SECONDS
	assert key_lifetime({}, NOW) == KEY_CACHE_SECONDS
	assert key_lifetime({"expired_at": NOW + 600}, NOW) == 600
	assert key_lifetime({"expired_at": NOW + 10 * KEY_CACHE_SECONDS}, NOW) == KEY_CACHE_SECONDS
	assert key_lifetime({"expired_at": NOW}, NOW) == 0  # Plaid expired it: it verifies nothing
	assert key_lifetime({"expired_at": NOW - 1}, NOW) == 0


def test_key_fetches_are_counted_per_minute_and_capped():
	assert fetch_window(NOW) == fetch_window(NOW - NOW % 60 + 59.9)
	assert fetch_window(NOW - NOW % 60 + 60) == fetch_window(NOW) + 1
	assert [may_fetch(n) for n in (1, KEY_FETCHES_PER_MINUTE, KEY_FETCHES_PER_MINUTE + 1)] == [
		True,
		True,
		False,
	]
