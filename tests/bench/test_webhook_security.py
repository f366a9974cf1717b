"""Webhook and OAuth security on a real site (issue 10).

Every bad input to each webhook endpoint (Plaid, Intuit, Shopify) is refused with 401, 400 or 413 and
the same fixed body, and leaves nothing behind: no database write, no Error Log, no Sync Log, no queued
job, no waiting record, no call to the vendor. A replayed or doubled delivery queues one job. A
QuickBooks OAuth state works once, for ten minutes, for the user who started it.

Each test's integrations have an item, shop domain or verifier token of their own, so deliveries reach
them only, whatever other suites run on the site at the same time.
"""

import hashlib
import io
import json
import shutil
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import frappe
import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from frappe.utils.background_jobs import get_job, get_queue
from werkzeug.test import EnvironBuilder

from emulators.plaid import PlaidEmulator
from emulators.shopify import sign
from kraal_connect.connectors.plaid import link, webhook_keys
from kraal_connect.connectors.plaid.webhooks import KEY_FETCHES_PER_MINUTE
from kraal_connect.connectors.qbo import oauth
from kraal_connect.connectors.shopify import endpoints
from kraal_connect.engine import oauth_flow, pending
from kraal_connect.engine.runner import WEBHOOK
from kraal_connect.engine.webhook_intake import MAX_BODY_BYTES
from tests.bench import plaid_helpers, qbo_helpers
from tests.bench.shopify_helpers import SECRET, retried_on_deadlock
from tests.bench.site_helpers import ensure_user

pytest_plugins = ["tests.bench.shopify_helpers", "tests.bench.qbo_helpers"]

REFUSED = {"accepted": False}
OVERSIZED = b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}'


# -- calling an endpoint as a request would ------------------------------------------------------


def request(body: bytes, headers: dict, chunked: bool = False):
	if chunked:  # no Content-Length: only the body as read says how long it is
		return EnvironBuilder(
			method="POST",
			input_stream=io.BytesIO(body),
			headers={**headers, "Transfer-Encoding": "chunked"},
			environ_overrides={"wsgi.input_terminated": True},
		).get_request()
	return EnvironBuilder(method="POST", data=body, headers=headers).get_request()


def call(endpoint, body: bytes, headers: dict, chunked: bool = False) -> tuple[dict, int, int]:
	"""(answer, status, database writes) of one request; committed afterwards, as a request ends."""
	frappe.db.commit()
	frappe.local.request = request(body, headers, chunked)
	frappe.local.response = frappe._dict()
	frappe.local.cache = {}
	answer = endpoint()
	writes = frappe.db.transaction_writes
	frappe.db.commit()  # jobs queued after commit go to Redis now
	return answer, frappe.local.response.get("http_status_code", 200), writes


def at_once(endpoint, body: bytes, headers: dict, times: int = 2) -> list[tuple[dict, int]]:
	"""The same delivery made `times` times at the same instant, each by a worker of its own."""
	site, sites_path = frappe.local.site, frappe.local.sites_path
	start = threading.Barrier(times)
	answers = []

	def deliver():
		frappe.init(site=site, sites_path=sites_path)
		frappe.connect()
		try:
			frappe.local.request = request(body, headers)
			frappe.local.response = frappe._dict()
			start.wait()
			answer = endpoint()
			frappe.db.commit()
			answers.append((answer, frappe.local.response.get("http_status_code", 200)))
		finally:
			frappe.destroy()

	workers = [threading.Thread(target=deliver) for _ in range(times)]
	for worker in workers:
		worker.start()
	for worker in workers:
		worker.join(60)
	return answers


def jobs_of(integration: str) -> list[str]:
	return sorted(j for j in get_queue("long").job_ids if f"::{integration}" in j)


def delete_jobs_of(integration: str) -> None:
	for job_id in jobs_of(integration):
		job = get_job(job_id.split("::", 1)[1])
		if job:
			job.delete()


def footprint(integration: str) -> dict:
	"""What a webhook could leave behind for an integration, and on the site."""
	return {
		"error logs": frappe.db.count("Error Log"),
		"error logs to insert": frappe.cache.llen("insert_queue_for_Error Log"),
		"sync logs": frappe.db.count("Kraal Sync Log", {"integration": integration}),
		"jobs": jobs_of(integration),
		"waiting": {e: pending.waiting(WEBHOOK, integration, e) for e in ("order", "product", "customer")},
		"integration": frappe.db.get_value(
			"Kraal Integration", integration, ["modified", "enabled", "status", "status_reason"], as_dict=True
		),
	}


def assert_refused(endpoint, integration: str, body: bytes, headers: dict, status: int, chunked=False):
	before = footprint(integration)
	answer, got, writes = call(endpoint, body, headers, chunked)
	assert (answer, got) == (REFUSED, status)
	assert writes == 0
	assert footprint(integration) == before


# -- Plaid -----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def key_fetch_budget(monkeypatch):
	"""Key fetches counted in a minute of this test's own, so other suites' fetches do not spend it."""
	window = f"test-{uuid.uuid4().hex}"
	monkeypatch.setattr(webhook_keys, "fetch_window", lambda now: window)
	yield webhook_keys.fetch_counter(0)
	frappe.cache.delete(webhook_keys.fetch_counter(0))


def new_item(plaid_data: Path) -> str:
	"""An item of this test's own in the emulator's private dataset."""
	item_id = f"item-sec-{uuid.uuid4().hex[:8]}"
	shutil.copytree(plaid_data / "items" / "item-platypus", plaid_data / "items" / item_id)
	return item_id


@pytest.fixture
def bank(plaid_emulator, plaid_data):
	"""A Plaid integration linked to an item of its own; (integration, item id)."""
	item_id = new_item(plaid_data)
	name = plaid_helpers.connect_bank(item_id, plaid_emulator.url)
	yield name, item_id
	delete_jobs_of(name)
	retried_on_deadlock(plaid_helpers.purge_integration, name)


def sync_webhook(item_id: str) -> bytes:
	return json.dumps(
		{"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE", "item_id": item_id}
	).encode()


def plaid_headers(token: str | None, content_type: str | None = "application/json") -> dict:
	headers = {"Content-Type": content_type} if content_type else {}
	if token:
		headers["Plaid-Verification"] = token
	return headers


def forged_token(body: bytes, kid: str) -> str:
	"""A well-formed Plaid-Verification over this body, signed by a key that is not Plaid's."""
	claims = {"iat": int(time.time()), "request_body_sha256": hashlib.sha256(body).hexdigest()}
	key = ec.generate_private_key(ec.SECP256R1())
	return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})


def plaid_corpus(emulator, plaid_data, item_id: str) -> list[tuple[str, bytes, dict, int]]:
	body = sync_webhook(item_id)
	impostor = PlaidEmulator(plaid_data)
	impostor.key_id = emulator.key_id  # claims Plaid's key id, signs with a key of its own
	malformed = b'{"webhook_type": "TRANSACTIONS", '
	return [
		("unsigned", body, plaid_headers(None), 401),
		("not a JWT", body, plaid_headers("not.a.jwt"), 401),
		("forged under Plaid's key id", body, plaid_headers(impostor.sign_webhook(body)), 401),
		("signed for another body", body, plaid_headers(emulator.sign_webhook(body + b" ")), 401),
		("stale", body, plaid_headers(emulator.sign_webhook(body, time.time() - 400)), 401),
		("from the future", body, plaid_headers(emulator.sign_webhook(body, time.time() + 120)), 401),
		("oversized", OVERSIZED, plaid_headers(emulator.sign_webhook(OVERSIZED)), 413),
		("malformed JSON, signed", malformed, plaid_headers(emulator.sign_webhook(malformed)), 400),
		("a JSON list, signed", b"[]", plaid_headers(emulator.sign_webhook(b"[]")), 400),
		("text/plain, signed", body, plaid_headers(emulator.sign_webhook(body), "text/plain"), 400),
		("no content type, signed", body, plaid_headers(emulator.sign_webhook(body), None), 400),
	]


def test_every_bad_plaid_delivery_is_refused_and_leaves_nothing(bank, plaid_emulator, plaid_data):
	name, item_id = bank
	list(webhook_keys.site_keys(plaid_emulator.key_id))  # Plaid's key is known, as after any delivery
	plaid_emulator.requests.clear()
	for case, body, headers, status in plaid_corpus(plaid_emulator, plaid_data, item_id):
		try:
			assert_refused(link.webhook, name, body, headers, status)
		except AssertionError as exc:
			raise AssertionError(f"{case}: {exc}") from None
	oversized = plaid_headers(plaid_emulator.sign_webhook(OVERSIZED))
	assert_refused(link.webhook, name, OVERSIZED, oversized, 413, chunked=True)
	assert plaid_emulator.requests == []  # no forgery made the site call Plaid


def test_a_plaid_delivery_is_taken_once_and_its_replay_queues_nothing_more(bank, plaid_emulator):
	name, item_id = bank
	body = sync_webhook(item_id)
	headers = plaid_headers(plaid_emulator.sign_webhook(body))
	assert call(link.webhook, body, headers)[:2] == ({"accepted": True}, 200)
	assert jobs_of(name) == [f"{frappe.local.site}::kraal_sync::{name}"]
	delete_jobs_of(name)  # the run started; the replay must not queue another
	after_first = footprint(name)
	assert call(link.webhook, body, headers) == ({"accepted": False}, 200, 0)
	assert footprint(name) == after_first


def test_two_identical_plaid_deliveries_at_once_queue_one_job(bank, plaid_emulator):
	name, item_id = bank
	body = sync_webhook(item_id)
	answers = at_once(link.webhook, body, plaid_headers(plaid_emulator.sign_webhook(body)))
	assert sorted(a["accepted"] for a, _ in answers) == [False, True]
	assert {status for _, status in answers} == {200}
	assert len(jobs_of(name)) == 1


def test_made_up_key_ids_cost_at_most_one_call_each_and_none_past_the_budget(
	bank, plaid_emulator, key_fetch_budget
):
	name, item_id = bank
	body = sync_webhook(item_id)
	kid = uuid.uuid4().hex
	plaid_emulator.requests.clear()
	assert_refused(link.webhook, name, body, plaid_headers(forged_token(body, kid)), 401)
	assert plaid_emulator.requests == [{"method": "POST", "path": "/webhook_verification_key/get"}]
	plaid_emulator.requests.clear()
	assert_refused(link.webhook, name, body, plaid_headers(forged_token(body, kid)), 401)
	assert plaid_emulator.requests == []  # the unknown id is remembered

	frappe.cache.set(key_fetch_budget, KEY_FETCHES_PER_MINUTE)  # this minute's budget is spent
	for _ in range(3):
		assert_refused(link.webhook, name, body, plaid_headers(forged_token(body, uuid.uuid4().hex)), 401)
	assert plaid_emulator.requests == []


def test_an_item_signed_for_by_another_plaid_clients_key_is_refused(bank, plaid_emulator, tmp_path):
	"""The integration the item names must call Plaid as the client whose key verified the webhook."""
	other_data = Path(shutil.copytree(plaid_emulator.data_dir, tmp_path / "other"))
	other_emulator = PlaidEmulator(other_data).start()
	other = None
	try:
		item_id = new_item(other_data)
		other = plaid_helpers.connect_bank(item_id, other_emulator.url)
		frappe.db.set_value("Kraal Integration", other, "client_id", "kraal-other")
		frappe.db.commit()
		body = sync_webhook(item_id)
		assert_refused(link.webhook, other, body, plaid_headers(plaid_emulator.sign_webhook(body)), 401)
		assert call(link.webhook, body, plaid_headers(other_emulator.sign_webhook(body)))[:2] == (
			{"accepted": True},
			200,
		)
		assert len(jobs_of(other)) == 1
	finally:
		other_emulator.stop()
		if other:
			delete_jobs_of(other)
			retried_on_deadlock(plaid_helpers.purge_integration, other)


# -- Intuit (QuickBooks) ---------------------------------------------------------------------------

VERIFIER_TOKEN = f"kraal-security-{uuid.uuid4().hex}"


@pytest.fixture
def company_books(qbo_company, qbo_emulator):
	"""A QuickBooks integration in parallel run, connected through the OAuth flow, with a verifier
	token of its own."""
	name = qbo_helpers.connect(qbo_emulator.url, webhook_secret=VERIFIER_TOKEN)
	frappe.db.set_value("Kraal Integration", name, "qbo_mode", "Parallel-run")
	frappe.db.commit()
	yield name
	delete_jobs_of(name)
	# Other suites write the same company's ledgers at the same time: a deadlock is tried again.
	retried_on_deadlock(qbo_helpers.purge_integration, name)


def notification(entity_id: str = "132") -> bytes:
	event = {"name": "Invoice", "id": entity_id, "operation": "Update", "lastUpdated": "2026-07-01T10:00:00Z"}
	return json.dumps(
		{"eventNotifications": [{"realmId": qbo_helpers.REALM, "dataChangeEvent": {"entities": [event]}}]}
	).encode()


def intuit_headers(signature: str | None, content_type: str = "application/json") -> dict:
	headers = {"Content-Type": content_type}
	if signature:
		headers["intuit-signature"] = signature
	return headers


def test_every_bad_intuit_delivery_is_refused_and_leaves_nothing(company_books):
	body = notification()
	malformed = b'{"eventNotifications": '
	not_notification = b'{"eventNotifications": [{"dataChangeEvent": {}}]}'
	for case, payload, headers, status in [
		("unsigned", body, intuit_headers(None), 401),
		("not base64", body, intuit_headers("%%% not base64 %%%"), 401),
		("another app's token", body, intuit_headers(sign(body, "another-apps-token")), 401),
		("signed for another body", body, intuit_headers(sign(notification("133"), VERIFIER_TOKEN)), 401),
		("oversized", OVERSIZED, intuit_headers(sign(OVERSIZED, VERIFIER_TOKEN)), 413),
		("malformed JSON, signed", malformed, intuit_headers(sign(malformed, VERIFIER_TOKEN)), 400),
		(
			"not a notification, signed",
			not_notification,
			intuit_headers(sign(not_notification, VERIFIER_TOKEN)),
			400,
		),
		("text/plain, signed", body, intuit_headers(sign(body, VERIFIER_TOKEN), "text/plain"), 400),
	]:
		try:
			assert_refused(oauth.webhook, company_books, payload, headers, status)
		except AssertionError as exc:
			raise AssertionError(f"{case}: {exc}") from None


def test_an_intuit_delivery_is_taken_once_and_its_replay_queues_nothing_more(company_books):
	body = notification()
	headers = intuit_headers(sign(body, VERIFIER_TOKEN))
	assert call(oauth.webhook, body, headers)[:2] == ({"accepted": True}, 200)
	assert jobs_of(company_books) == [f"{frappe.local.site}::kraal_sync::{company_books}"]
	delete_jobs_of(company_books)  # the run started; the replay must not queue another
	after_first = footprint(company_books)
	assert call(oauth.webhook, body, headers) == ({"accepted": False}, 200, 0)
	assert footprint(company_books) == after_first


def test_two_identical_intuit_deliveries_at_once_queue_one_job(company_books):
	body = notification("134")
	answers = at_once(oauth.webhook, body, intuit_headers(sign(body, VERIFIER_TOKEN)))
	assert sorted(a["accepted"] for a, _ in answers) == [False, True]
	assert len(jobs_of(company_books)) == 1


# -- Shopify ---------------------------------------------------------------------------------------

ORDER = {"id": 5002, "admin_graphql_api_id": "gid://shopify/Order/5002", "name": "#1002"}


@pytest.fixture
def shop(connected):
	"""A Shopify integration of a store domain of its own; (integration, domain)."""
	domain = f"kraal-sec-{uuid.uuid4().hex[:8]}.myshopify.com"
	name = connected(external_account=domain)
	yield name, domain
	for entity in ("order", "product", "customer", "inventory_level"):
		pending.done(WEBHOOK, name, entity, pending.waiting(WEBHOOK, name, entity))
	delete_jobs_of(name)


def shopify_headers(body: bytes, domain: str, secret: str | None = SECRET, **overrides) -> dict:
	headers = {
		"Content-Type": "application/json",
		"X-Shopify-Topic": "orders/create",
		"X-Shopify-Shop-Domain": domain,
		"X-Shopify-Webhook-Id": str(uuid.uuid4()),
	}
	if secret is not None:
		headers["X-Shopify-Hmac-Sha256"] = sign(body, secret)
	headers.update(overrides)
	return {k: v for k, v in headers.items() if v is not None}


def test_every_bad_shopify_delivery_is_refused_and_leaves_nothing(shop):
	name, domain = shop
	body = json.dumps(ORDER).encode()
	malformed = b'{"id": 5002, '
	shop_body = json.dumps({"id": 5002, "admin_graphql_api_id": ORDER["admin_graphql_api_id"]}).encode()
	for case, payload, headers, status in [
		("unsigned", body, shopify_headers(body, domain, secret=None), 401),
		("not base64", body, shopify_headers(body, domain, **{"X-Shopify-Hmac-Sha256": "not base64!"}), 401),
		("another app's secret", body, shopify_headers(body, domain, secret="another-app"), 401),
		("signed for another body", body, shopify_headers(body + b" ", domain), 401),
		("an unknown store", body, shopify_headers(body, "elsewhere.myshopify.com"), 401),
		("no store", body, shopify_headers(body, domain, **{"X-Shopify-Shop-Domain": None}), 401),
		("oversized", OVERSIZED, shopify_headers(OVERSIZED, domain), 413),
		("text/plain, signed", body, shopify_headers(body, domain, **{"Content-Type": "text/plain"}), 400),
		("malformed JSON, signed", malformed, shopify_headers(malformed, domain), 400),
		("no topic, signed", body, shopify_headers(body, domain, **{"X-Shopify-Topic": None}), 400),
		# An order's signed body replayed as app/uninstalled (the topic is not signed) disconnects nothing.
		(
			"an order as app/uninstalled",
			shop_body,
			shopify_headers(shop_body, domain, **{"X-Shopify-Topic": "app/uninstalled"}),
			400,
		),
	]:
		try:
			assert_refused(endpoints.webhook, name, payload, headers, status)
		except AssertionError as exc:
			raise AssertionError(f"{case}: {exc}") from None


def test_a_refused_delivery_does_not_use_up_its_delivery_id(shop):
	name, domain = shop
	body = json.dumps(ORDER).encode()
	delivery = str(uuid.uuid4())
	forged = shopify_headers(body, domain, secret="another-app", **{"X-Shopify-Webhook-Id": delivery})
	assert_refused(endpoints.webhook, name, body, forged, 401)
	genuine = shopify_headers(body, domain, **{"X-Shopify-Webhook-Id": delivery})
	assert call(endpoints.webhook, body, genuine)[:2] == ({"accepted": True}, 200)
	assert pending.waiting(WEBHOOK, name, "order") == [ORDER["admin_graphql_api_id"]]


def test_a_shopify_delivery_is_taken_once_and_its_replay_queues_nothing_more(shop):
	name, domain = shop
	body = json.dumps(ORDER).encode()
	headers = shopify_headers(body, domain)
	assert call(endpoints.webhook, body, headers)[:2] == ({"accepted": True}, 200)
	assert jobs_of(name) == [f"{frappe.local.site}::kraal_{WEBHOOK}::{name}::order"]
	delete_jobs_of(name)  # the job started; the replay must not queue another
	pending.done(WEBHOOK, name, "order", pending.waiting(WEBHOOK, name, "order"))  # and took the record
	after_first = footprint(name)
	assert call(endpoints.webhook, body, headers) == ({"accepted": False}, 200, 0)
	assert footprint(name) == after_first


def test_two_identical_shopify_deliveries_at_once_queue_one_record_and_one_job(shop):
	name, domain = shop
	body = json.dumps(ORDER).encode()
	answers = at_once(endpoints.webhook, body, shopify_headers(body, domain), times=3)
	assert sorted(a["accepted"] for a, _ in answers) == [False, False, True]
	assert pending.waiting(WEBHOOK, name, "order") == [ORDER["admin_graphql_api_id"]]
	assert len(jobs_of(name)) == 1


# -- QuickBooks OAuth state ------------------------------------------------------------------------


def consent(integration: str) -> dict:
	"""Intuit's answer to the consent page (the emulator agrees at once): code, state and realmId."""
	location = requests.get(oauth.authorization_url(integration), allow_redirects=False, timeout=10)
	return {k: v[0] for k, v in parse_qs(urlsplit(location.headers["Location"]).query).items()}


def connection(integration: str) -> dict:
	"""What a callback stores: tokens, company, status."""
	doc = frappe.get_doc("Kraal Integration", integration)
	return {
		"access": doc.get_password("access_token", raise_exception=False),
		"refresh": doc.get_password("refresh_token", raise_exception=False),
		**frappe.db.get_value(
			"Kraal Integration",
			integration,
			["external_account", "enabled", "status", "modified"],
			as_dict=True,
		),
	}


def callback(**answer) -> tuple[int, int]:
	"""(status, database writes) of Intuit's redirect to the callback."""
	frappe.db.commit()
	frappe.local.response = frappe._dict()
	oauth.callback(**answer)
	writes = frappe.db.transaction_writes
	status = (
		302 if frappe.local.response.get("type") == "redirect" else frappe.local.response.http_status_code
	)
	frappe.db.commit()
	return status, writes


def assert_callback_refused(integration: str, **answer) -> None:
	before = connection(integration)
	assert callback(**answer) == (400, 0)
	assert connection(integration) == before


@pytest.fixture
def other_user():
	# An Accounts Manager may configure integrations: still not the one who started this flow.
	yield ensure_user("kraal-oauth-other@example.com", "Accounts Manager", "Other")
	frappe.set_user("Administrator")


def test_a_state_works_once(company_books):
	answer = consent(company_books)
	assert callback(**answer)[0] == 302
	assert_callback_refused(company_books, **answer)


def test_an_expired_state_is_refused(company_books, monkeypatch):
	monkeypatch.setattr(oauth_flow, "STATE_SECONDS", 1)
	answer = consent(company_books)
	time.sleep(1.5)
	assert_callback_refused(company_books, **answer)


def test_a_state_another_user_started_is_refused_and_used_up(company_books, other_user):
	for user in (other_user, "Guest"):
		answer = consent(company_books)
		frappe.set_user(user)
		assert_callback_refused(company_books, **answer)
		frappe.set_user("Administrator")
		assert_callback_refused(company_books, **answer)  # the refusal took it: not even its owner may use it


@pytest.mark.parametrize(
	"failure",
	[{"error": "access_denied", "code": None}, {"code": "not-a-code-intuit-gave"}, {"realmId": "999"}],
	ids=["consent denied", "bad code", "another company"],
)
def test_a_failed_callback_uses_up_its_state(company_books, failure):
	answer = consent(company_books)
	assert_callback_refused(company_books, **{**answer, **failure})
	assert_callback_refused(company_books, **answer)
