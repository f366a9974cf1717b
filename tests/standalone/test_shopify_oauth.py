"""Shopify's OAuth without a site: the HMAC over a redirect's query (Shopify's documented example, and
the same answer as ShopifyAPI's own check), what a redirect back must be to connect anything, the scopes an
integration asks for, the compliance webhooks' bodies, and the whole consent and token exchange against the
emulator over HTTP."""

import json
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import shopify

from emulators.shopify import sign_query
from kraal_connect.connectors.shopify import authorization, compliance
from kraal_connect.connectors.shopify.authorization import Refused
from kraal_connect.connectors.shopify.client import ShopifyApi
from kraal_connect.connectors.shopify.webhooks import signature
from kraal_connect.engine.errors import AuthenticationError, TransientError
from kraal_connect.engine.webhook_intake import MalformedWebhook, hmac_signers
from tests.standalone.shopify_support import APP, DOMAIN, SECRET

pytest_plugins = ("tests.standalone.shopify_fixtures",)

CLIENT_ID = APP["client_id"]
REDIRECT = "https://books.example/api/method/kraal_connect.connectors.shopify.oauth.callback"
VENDOR_HOSTS = ("*.myshopify.com",)
STATE = "c0ffee0ddba11"


def entities(*enabled: str, inventory_source: str = "Shopify", granted: str = "") -> SimpleNamespace:
	"""An integration as needed_scopes reads it: entity rows, Inventory Source, Granted Scopes."""
	rows = [
		SimpleNamespace(entity=e, enabled=e in enabled)
		for e in ("product", "customer", "order", "inventory_level")
	]
	return SimpleNamespace(entities=rows, inventory_source=inventory_source, granted_scopes=granted)


def signed(secret: str = SECRET, **params) -> dict[str, list[str]]:
	"""A redirect's query as Shopify signs it, in the form the site reads it (each name -> its values)."""
	params = {"code": "a-code", "shop": DOMAIN, "state": STATE, "timestamp": "1790000000", **params}
	params["hmac"] = sign_query(params, secret)
	return {k: [v] for k, v in params.items()}


# -- the HMAC -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
	"query, expected",
	[
		(
			"code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&timestamp=1337178173",
			"4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20",
		),
		(
			"code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&state=0.6784241404160823"
			"&timestamp=1337178173",
			"700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf",
		),
	],
)
def test_the_hmac_of_shopifys_documented_examples(query, expected):
	"""Shopify's own example redirects, signed with the secret "hush"."""
	params = parse_qs(query)
	assert authorization.query_hmac(params, "hush") == expected
	assert (
		authorization.query_hmac({**params, "hmac": [expected]}, "hush") == expected
	)  # hmac itself left out


@pytest.mark.parametrize(
	"params",
	[
		{"code": "c", "shop": DOMAIN, "state": "s", "timestamp": "1"},
		{"shop": DOMAIN, "note": "a=b&c=d", "odd%key=": "100%"},  # the delimiters escaped, not mistaken
		{"shop": DOMAIN, "ids[]": ["2", "1"], "timestamp": "1"},  # an array signed as ids=["2", "1"]
	],
)
def test_the_hmac_is_the_one_shopifyapi_checks(params, monkeypatch):
	monkeypatch.setattr(shopify.Session, "secret", "app-secret")
	expected = shopify.Session.calculate_hmac(params)
	as_read = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
	assert authorization.query_hmac(as_read, "app-secret") == expected


def test_a_genuine_redirect_gives_its_code():
	assert authorization.check_redirect(signed(), SECRET, DOMAIN) == "a-code"


@pytest.mark.parametrize(
	"query, reason",
	[
		({**signed(), "code": ["another-code"]}, "not signed by Shopify"),
		({**signed(), "state": ["a-state-of-another-flow"]}, "not signed by Shopify"),
		({k: v for k, v in signed().items() if k != "hmac"}, "not signed by Shopify"),
		(signed(secret="another-apps-secret"), "not signed by Shopify"),
		({**signed(), "extra": ["added"]}, "not signed by Shopify"),
		(signed(shop="other-store.myshopify.com"), "started for kraal-outfitters.myshopify.com"),
		(signed(shop="evil.example/x.myshopify.com"), "is not a store's x.myshopify.com domain"),
		(signed(shop="kraal-outfitters.myshopify.com.evil.example"), "is not a store's"),
		(signed(code=""), "no authorization code"),
		({**signed(), "shop": [DOMAIN, DOMAIN]}, "not 2 times"),
		({"error": ["access_denied"], "state": [STATE]}, "access_denied"),
	],
	ids=[
		"code swapped",
		"state swapped",
		"no hmac",
		"another secret",
		"parameter added",
		"another store",
		"a host that is not a store",
		"a store domain as a prefix",
		"no code",
		"shop repeated",
		"consent declined",
	],
)
def test_a_redirect_that_is_not_shopifys_answer_to_this_flow_is_refused(query, reason):
	with pytest.raises(Refused, match=reason):
		authorization.check_redirect(query, SECRET, DOMAIN)


def test_no_client_secret_verifies_nothing():
	with pytest.raises(Refused, match="not signed"):
		authorization.check_redirect(signed(), "", DOMAIN)


@pytest.mark.parametrize("shop", ["Kraal-Outfitters.myshopify.com", " kraal-outfitters.myshopify.com "])
def test_a_store_domain_is_kept_in_lower_case(shop):
	assert authorization.check_shop(shop) == DOMAIN


@pytest.mark.parametrize(
	"shop",
	[
		"",
		None,
		"kraal.example",
		"-kraal.myshopify.com",
		"kraal.myshopify.com/admin",
		"https://kraal.myshopify.com",
	],
)
def test_what_is_not_a_store_domain_is_refused(shop):
	with pytest.raises(Refused):
		authorization.check_shop(shop)


# -- scopes ---------------------------------------------------------------------------------------


def test_the_scopes_follow_the_enabled_entities_and_where_the_stock_is_held():
	assert authorization.scope_request(authorization.needed_scopes(entities("order"))) == [
		"read_customers",
		"read_locations",
		"read_orders",
	]
	everything = entities("product", "customer", "order", "inventory_level")
	assert authorization.scope_request(authorization.needed_scopes(everything)) == [
		"read_customers",
		"read_inventory",
		"read_locations",
		"read_orders",
		"read_products",
	]
	# ERPNext holding the stock: Shopify's levels are not read, ERPNext's are written (write implies read).
	pushing = entities("product", "inventory_level", inventory_source="ERPNext")
	needs = authorization.needed_scopes(pushing)
	assert "inventory_level" not in needs
	assert authorization.scope_request(needs) == ["read_locations", "read_products", "write_inventory"]


def test_a_missing_scope_is_named_with_what_needs_it():
	integration = entities("product", "order", granted="read_locations,read_orders,read_products")
	with pytest.raises(AuthenticationError) as raised:
		authorization.check_granted(integration)
	message = str(raised.value)
	assert "read_customers (needed by order)" in message
	assert "read_inventory (needed by product)" in message
	assert "connect Shopify again" in message


def test_a_write_scope_grants_its_read_scope():
	integration = entities(
		"product", "inventory_level", granted="read_locations,write_products,write_inventory"
	)
	authorization.check_granted(integration)


def test_a_custom_apps_token_has_no_grant_to_check():
	authorization.check_granted(entities("product", "customer", "order", granted=""))


def test_oauth_goes_to_the_store_unless_the_base_url_is_an_emulator():
	assert authorization.oauth_base(DOMAIN, None, VENDOR_HOSTS) == f"https://{DOMAIN}"
	assert authorization.oauth_base(DOMAIN, f"https://{DOMAIN}", VENDOR_HOSTS) == f"https://{DOMAIN}"
	assert authorization.oauth_base(DOMAIN, "http://127.0.0.1:8702/", VENDOR_HOSTS) == "http://127.0.0.1:8702"


def test_the_consent_url_asks_for_an_offline_token_with_the_scopes():
	url = authorization.authorize_url(
		f"https://{DOMAIN}", CLIENT_ID, ["read_orders", "read_products"], REDIRECT, STATE
	)
	parts = urlsplit(url)
	assert (parts.netloc, parts.path) == (DOMAIN, "/admin/oauth/authorize")
	assert parse_qs(parts.query) == {
		"client_id": [CLIENT_ID],
		"scope": ["read_orders,read_products"],
		"redirect_uri": [REDIRECT],
		"state": [STATE],
	}


# -- against the emulator -------------------------------------------------------------------------


def consent(store, scopes=("read_locations", "read_orders")) -> dict[str, list[str]]:
	"""The store owner's answer on the emulator's consent page: the query of its redirect."""
	url = authorization.authorize_url(store.emulator.url, CLIENT_ID, list(scopes), REDIRECT, STATE)
	answer = requests.get(url, allow_redirects=False, timeout=10)
	assert answer.status_code == 302
	location = urlsplit(answer.headers["Location"])
	assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
	return parse_qs(location.query)


def test_a_store_connected_through_the_emulator_syncs_with_the_token_it_gave(shopify):
	query = consent(shopify, ["read_locations", "read_orders", "read_products"])
	assert query["state"] == [STATE]
	code = authorization.check_redirect(query, SECRET, DOMAIN)
	grant = authorization.exchange_code(shopify.emulator.url, CLIENT_ID, SECRET, code)
	assert grant.scopes == ("read_locations", "read_orders", "read_products")
	assert grant.access_token.startswith("shpat_")
	api = ShopifyApi(DOMAIN, grant.access_token, base_url=shopify.emulator.url, timeout=10)
	assert api.shop()["myshopifyDomain"] == DOMAIN


def test_a_code_works_once(shopify):
	code = authorization.check_redirect(consent(shopify), SECRET, DOMAIN)
	authorization.exchange_code(shopify.emulator.url, CLIENT_ID, SECRET, code)
	with pytest.raises(AuthenticationError, match="not found or was already used"):
		authorization.exchange_code(shopify.emulator.url, CLIENT_ID, SECRET, code)


def test_a_code_is_not_exchanged_with_another_apps_secret(shopify):
	code = authorization.check_redirect(consent(shopify), SECRET, DOMAIN)
	with pytest.raises(AuthenticationError, match="invalid_client"):
		authorization.exchange_code(shopify.emulator.url, CLIENT_ID, "not-the-secret", code)


def test_a_declined_consent_connects_nothing(shopify):
	requests.post(f"{shopify.emulator.url}/_emulator/consent", json={"deny": True}, timeout=10)
	query = consent(shopify)
	assert query == {"error": ["access_denied"], "state": [STATE]}
	with pytest.raises(Refused, match="access_denied"):
		authorization.check_redirect(query, SECRET, DOMAIN)


def test_a_scope_the_owner_withheld_is_missing_from_the_grant(shopify):
	requests.post(
		f"{shopify.emulator.url}/_emulator/consent", json={"withhold": ["read_customers"]}, timeout=10
	)
	needs = authorization.needed_scopes(entities("order"))
	code = authorization.check_redirect(consent(shopify, authorization.scope_request(needs)), SECRET, DOMAIN)
	grant = authorization.exchange_code(shopify.emulator.url, CLIENT_ID, SECRET, code)
	assert authorization.missing_scopes(needs, grant.scopes) == {"read_customers": ["order"]}


def test_a_revoked_token_is_refused_by_the_api(shopify):
	code = authorization.check_redirect(consent(shopify), SECRET, DOMAIN)
	grant = authorization.exchange_code(shopify.emulator.url, CLIENT_ID, SECRET, code)
	requests.post(f"{shopify.emulator.url}/_emulator/revoke", json={}, timeout=10)
	api = ShopifyApi(DOMAIN, grant.access_token, base_url=shopify.emulator.url, timeout=10)
	with pytest.raises(AuthenticationError):
		api.shop()


def test_an_unknown_client_id_gets_no_consent_page(shopify):
	url = authorization.authorize_url(shopify.emulator.url, "another-app", ["read_orders"], REDIRECT, STATE)
	assert requests.get(url, allow_redirects=False, timeout=10).status_code == 400


def test_shopify_down_at_the_exchange_is_transient(shopify):
	requests.post(
		f"{shopify.emulator.url}/_emulator/faults",
		json={"path": "/admin/oauth/access_token", "status": 503},
		timeout=10,
	)
	with pytest.raises(TransientError):
		authorization.exchange_code(shopify.emulator.url, CLIENT_ID, SECRET, "any")


# -- compliance webhooks --------------------------------------------------------------------------


def headers(topic: str, shop: str = DOMAIN) -> dict[str, str]:
	return {"X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop}


def body(**payload) -> bytes:
	return json.dumps({"shop_id": 60001, "shop_domain": DOMAIN, **payload}).encode()


CUSTOMER = {"id": 191167, "email": "alice@example.com", "phone": "555-625-1199"}


def test_a_data_request_names_the_customer_and_orders_but_keeps_no_contact_details():
	request = compliance.read(
		body(customer=CUSTOMER, orders_requested=[5001, 5002], data_request={"id": 9999}),
		headers(compliance.DATA_REQUEST),
	)
	assert request == compliance.ComplianceRequest(
		compliance.DATA_REQUEST,
		DOMAIN,
		customer_id="gid://shopify/Customer/191167",
		order_ids=("gid://shopify/Order/5001", "gid://shopify/Order/5002"),
		request_id="9999",
	)


def test_a_customer_redact_and_a_shop_redact_are_read():
	redact = compliance.read(
		body(customer=CUSTOMER, orders_to_redact=[5001]), headers(compliance.CUSTOMER_REDACT)
	)
	assert (redact.customer_id, redact.order_ids) == (
		"gid://shopify/Customer/191167",
		("gid://shopify/Order/5001",),
	)
	assert compliance.read(body(), headers(compliance.SHOP_REDACT)) == compliance.ComplianceRequest(
		compliance.SHOP_REDACT, DOMAIN
	)


@pytest.mark.parametrize(
	"raw, topic, shop, reason",
	[
		(body(), compliance.SHOP_REDACT, "other-store.myshopify.com", "another shop"),
		(body(customer=CUSTOMER, orders_to_redact=[]), compliance.SHOP_REDACT, DOMAIN, "sent as shop/redact"),
		(body(), compliance.CUSTOMER_REDACT, DOMAIN, "names no customer"),
		(body(), "orders/create", DOMAIN, "not a compliance topic"),
		(b"[]", compliance.SHOP_REDACT, DOMAIN, "not a JSON object"),
		(body(customer=CUSTOMER, orders_to_redact="5001"), compliance.CUSTOMER_REDACT, DOMAIN, "not a list"),
	],
	ids=[
		"another shop",
		"customer body as shop/redact",
		"no customer",
		"other topic",
		"not an object",
		"orders",
	],
)
def test_a_compliance_body_that_does_not_fit_its_headers_is_malformed(raw, topic, shop, reason):
	with pytest.raises(MalformedWebhook, match=reason):
		compliance.read(raw, headers(topic, shop))


def test_the_emulator_signs_compliance_webhooks_with_the_apps_secret(shopify, receiver):
	answer = requests.post(
		f"{shopify.emulator.url}/_emulator/webhook",
		json={
			"url": receiver.url,
			"topic": compliance.SHOP_REDACT,
			"payload": {"shop_id": 1, "shop_domain": DOMAIN},
		},
		timeout=10,
	).json()
	delivered_headers, delivered_body = receiver.received[-1]
	assert answer["status"] == 200
	assert hmac_signers(delivered_body, signature(delivered_headers), {"the app": SECRET}) == ["the app"]
	assert compliance.read(delivered_body, delivered_headers).topic == compliance.SHOP_REDACT
