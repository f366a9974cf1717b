"""A vendor that never answers: every client gives up after its configured timeout with an error the
engine retries, instead of holding the run (and its integration's lock) for good."""

import threading
import time
from contextlib import contextmanager

import pytest

from emulators.plaid import PlaidEmulator
from kraal_connect.connectors.plaid.client import PlaidApi
from kraal_connect.connectors.qbo.client import QboApi, QboOAuth, Tokens
from kraal_connect.connectors.shopify.client import ShopifyApi
from kraal_connect.engine.errors import TransientError, as_transient
from tests.standalone.amazon_support import make_api
from tests.standalone.qbo_support import REALM, REDIRECT_URI
from tests.standalone.shopify_support import DOMAIN, TOKEN

pytest_plugins = [
	"tests.standalone.qbo_fixtures",
	"tests.standalone.shopify_fixtures",
	"tests.standalone.amazon_fixtures",
]

TIMEOUT = 0.5
PLATYPUS = "access-emulator-item-platypus"


@contextmanager
def gives_up(emulator, match: str):
	"""The call inside raises a retryable TransientError naming `match`, well inside three seconds. A
	client that would wait for ever gets its answer after a few seconds and fails the test instead."""
	safety = threading.Timer(5, emulator.clear_faults)
	safety.daemon = True
	safety.start()
	started = time.monotonic()
	try:
		with pytest.raises(TransientError, match=match) as raised:
			yield
	finally:
		safety.cancel()
	assert time.monotonic() - started < 3 * TIMEOUT + 1
	assert as_transient(raised.value) is raised.value


@pytest.mark.parametrize(
	"path, call",
	[
		("/accounts/get", lambda api: api.get_accounts(PLATYPUS)),
		("/transactions/sync", lambda api: api.sync_transactions(PLATYPUS, None)),
		("/link/token/create", lambda api: api.create_link_token("user-1", "Kraal")),
		("/webhook_verification_key/get", lambda api: api.get_webhook_verification_key("kid")),
	],
)
def test_plaid(plaid_emulator, path, call):
	plaid_emulator.add_fault(path=path, hang=True)
	api = PlaidApi("client-id", "secret", base_url=plaid_emulator.url, timeout=TIMEOUT)
	with gives_up(plaid_emulator, "could not reach Plaid .ReadTimeout"):
		call(api)


def qbo_oauth(emulator) -> QboOAuth:
	return QboOAuth("client-id", "client-secret", REDIRECT_URI, base_url=emulator.url, timeout=TIMEOUT)


def test_intuits_openid_discovery(qbo_emulator):
	qbo_emulator.add_fault(path="/.well-known/openid_configuration", hang=True)
	with gives_up(qbo_emulator, "could not reach Intuit's OpenID discovery"):
		qbo_oauth(qbo_emulator).authorization_url("state-1")


def test_intuits_token_endpoint_when_quickbooks_needs_a_fresh_access_token(qbo_emulator):
	refresh_token = qbo_emulator.issue_tokens(REALM)["refresh_token"]
	qbo_emulator.add_fault(path="/oauth2/v1/tokens/bearer", hang=True)
	api = QboApi(qbo_oauth(qbo_emulator), REALM, Tokens("", refresh_token), timeout=TIMEOUT)
	with gives_up(qbo_emulator, "could not reach Intuit's token endpoint"):
		api.query("Customer")


def test_the_quickbooks_accounting_api(qbo_emulator):
	issued = qbo_emulator.issue_tokens(REALM)
	tokens = Tokens(issued["access_token"], issued["refresh_token"])
	qbo_emulator.add_fault(path=f"/v3/company/{REALM}/cdc", hang=True)
	api = QboApi(qbo_oauth(qbo_emulator), REALM, tokens, timeout=TIMEOUT)
	with gives_up(qbo_emulator, "could not reach QuickBooks"):
		api.cdc(["Customer"], "2026-01-01T00:00:00+00:00")


def test_shopifys_admin_api(shopify):
	shopify.emulator.add_fault(path="/admin/api/*", hang=True)
	api = ShopifyApi(DOMAIN, TOKEN, base_url=shopify.emulator.url, timeout=TIMEOUT)
	with gives_up(shopify.emulator, "could not reach Shopify"):
		api.shop()


@pytest.mark.parametrize(
	"path, match",
	[("/auth/o2/token", "Login with Amazon: network"), ("/sellers/v1/*", "SP-API network")],
)
def test_amazons_login_and_selling_partner_api(amazon_emulator, path, match):
	amazon_emulator.add_fault(path=path, hang=True)
	api = make_api(amazon_emulator, timeout=TIMEOUT)
	try:
		with gives_up(amazon_emulator, match):
			api.marketplaces()
	finally:
		api.close()


def test_stopping_an_emulator_lets_the_requests_it_holds_go(plaid_data):
	emulator = PlaidEmulator(plaid_data).start()
	emulator.add_fault(path="/accounts/get", hang=True)
	api = PlaidApi("client-id", "secret", base_url=emulator.url, timeout=TIMEOUT)
	with gives_up(emulator, "ReadTimeout"):
		api.get_accounts(PLATYPUS)
	started = time.monotonic()
	emulator.stop()  # joins its request threads: the held one must not wait for a release that never comes
	assert time.monotonic() - started < 2
