"""Connect Shopify and Connect Amazon on a real site (issue 13).

Each vendor's own authorization flow runs end to end against its emulator over HTTP (the consent page
agrees at once and redirects back to the callback), then a sync runs with the token it obtained. A forged
callback (a bad HMAC, a used, unknown or another user's state, another store or seller, a declined
consent, a bad code) is refused with HTTP 400 and stores nothing. When the vendor revokes the token, the
sync stops at Needs Re-authentication and connecting again keeps the links, mappings and cursors: the
next sync imports nothing again. Shopify's compliance webhooks are answered 200 when signed, 401 when
not, and shop/redact disconnects and removes the token while the books stay.
"""

import json
import shutil
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import frappe
import pytest
import requests
from frappe.utils.password import remove_encrypted_password
from werkzeug.test import EnvironBuilder

from emulators.amazon import AmazonEmulator
from emulators.shopify import delivery_headers, sign_query
from kraal_connect.connectors.amazon import mapping as amazon_mapping
from kraal_connect.connectors.amazon import oauth as amazon_oauth
from kraal_connect.connectors.shopify import authorization, compliance
from kraal_connect.connectors.shopify import oauth as shopify_oauth
from kraal_connect.engine.runner import run_integration
from tests.bench import amazon_helpers
from tests.bench.shopify_helpers import APP, DOMAIN, SECRET, connect_store, purge_integration
from tests.bench.site_helpers import counts, ensure_user, latest_log

pytest_plugins = ["tests.bench.shopify_helpers"]

LWA = json.loads((amazon_helpers.FIXTURES / "lwa.json").read_text())
APP_ID = next(iter(LWA["applications"]))
SELLER = LWA["selling_partner_id"]
ALL_SHOPIFY_SCOPES = ("read_customers", "read_inventory", "read_locations", "read_orders", "read_products")


# -- the browser's part ---------------------------------------------------------------------------


def consent(url: str) -> str:
	"""The vendor's consent page (the emulator's agrees at once): where it sends the browser back."""
	answer = requests.get(url, allow_redirects=False, timeout=10)
	assert answer.status_code == 302, answer.text
	return answer.headers["Location"]


def callback(oauth, location: str) -> tuple[int, int]:
	"""(status, database writes) of the browser arriving at a callback URL, as Frappe hands it over: the
	request with its query string, and the query as the method's arguments besides Frappe's own cmd."""
	frappe.db.commit()
	query = urlsplit(location).query
	frappe.local.request = EnvironBuilder(method="GET", query_string=query).get_request()
	frappe.local.response = frappe._dict()
	oauth.callback(cmd=f"{oauth.__name__}.callback", **{k: v[0] for k, v in parse_qs(query).items()})
	writes = frappe.db.transaction_writes
	response = frappe.local.response
	status = 302 if response.get("type") == "redirect" else response.http_status_code
	frappe.db.commit()
	return status, writes


def with_query(location: str, resign: bool = False, **changes) -> str:
	"""The redirect with parameters changed; signed again with the app's secret when `resign`, as Shopify
	signs a genuine redirect (for another store, say)."""
	parts = urlsplit(location)
	params = {k: v[0] for k, v in parse_qs(parts.query).items()}
	params.update(changes)
	if resign:
		params["hmac"] = sign_query(params, SECRET)
	return parts._replace(query=urlencode(params)).geturl()


def connection(integration: str) -> dict:
	"""What a callback may store: the secrets, the account, the grant, the status."""
	doc = frappe.get_doc("Kraal Integration", integration)
	secrets = {
		f: doc.get_password(f, raise_exception=False)
		for f in ("access_token", "refresh_token", "webhook_secret")
	}
	fields = ["external_account", "granted_scopes", "amazon_marketplaces", "enabled", "status", "modified"]
	return {**secrets, **frappe.db.get_value("Kraal Integration", integration, fields, as_dict=True)}


def links(integration: str) -> set[tuple[str, str, str]]:
	return {
		(r.external_type, r.external_id, r.reference_name)
		for r in frappe.get_all(
			"Kraal External Link",
			filters={"integration": integration},
			fields=["external_type", "external_id", "reference_name"],
		)
	}


def cursors(integration: str) -> dict[str, str]:
	doc = frappe.get_doc("Kraal Integration", integration)
	return {row.entity: row.cursor for row in doc.entities}


def assert_wrote_nothing_new(integration: str) -> None:
	log = latest_log(integration)
	assert log.status == "Success", [(f.external_id, f.message) for f in log.failures]
	assert all(c[1:4] == (0, 0, 0) for c in counts(log).values()), counts(log)


@pytest.fixture
def other_user():
	"""A Kraal Connect Manager: may connect integrations, but did not start this flow."""
	yield ensure_user("kraal-vendor-auth-other@example.com", "Kraal Connect Manager", "Other")
	frappe.set_user("Administrator")


# -- Shopify --------------------------------------------------------------------------------------


@pytest.fixture
def shop(shopify_company, shopify_store):
	"""A Shopify integration with the app's client id and secret, its locations, gateways and taxes
	mapped, and no store or token yet; purged afterwards with all it wrote."""
	name = connect_store(
		shopify_store.emulator.url,
		external_account="",
		access_token="",
		webhook_secret="",
		client_id=APP["client_id"],
		client_secret=SECRET,
	)
	yield name
	frappe.db.delete("Comment", {"reference_doctype": "Kraal Integration", "reference_name": name})
	purge_integration(name)


def connect_shopify(integration: str, shop_domain: str = DOMAIN) -> str:
	"""Connect Shopify as a person does: the consent URL for the store; Shopify's redirect back."""
	return consent(shopify_oauth.authorization_url(integration, shop_domain))


def set_entity(integration: str, entity: str, enabled: int) -> None:
	doc = frappe.get_doc("Kraal Integration", integration)
	doc.entity_row(entity).enabled = enabled
	doc.save()
	frappe.db.commit()


def test_shopify_connected_through_its_consent_syncs_and_after_reauthorization_resumes_without_reimporting(
	shop, shopify_store
):
	emulator = shopify_store.emulator
	assert callback(shopify_oauth, connect_shopify(shop))[0] == 302
	doc = frappe.get_doc("Kraal Integration", shop)
	token = doc.get_password("access_token")
	assert token in emulator.tokens and token != APP["access_token"]  # OAuth's, not the custom app's
	assert (doc.external_account, doc.enabled, doc.status) == (DOMAIN, 1, "Active")
	assert authorization.parse_scopes(doc.granted_scopes) == ALL_SHOPIFY_SCOPES == emulator.tokens[token]
	assert doc.get_password("webhook_secret") == SECRET  # the app's secret signs the store's webhooks

	run_integration(shop, "Manual")
	first = latest_log(shop)
	assert first.status == "Success", [(f.external_id, f.message) for f in first.failures]
	assert counts(first)["order"] == (7, 6, 0, 0, 1, 0)
	written, read_up_to = links(shop), cursors(shop)

	emulator.revoke(token)  # the store owner removed the app's access
	run_integration(shop, "Manual")
	assert frappe.db.get_value("Kraal Integration", shop, "status") == "Needs Re-authentication"
	assert (links(shop), cursors(shop)) == (written, read_up_to)

	assert callback(shopify_oauth, connect_shopify(shop))[0] == 302
	doc.reload()
	assert doc.get_password("access_token") in emulator.tokens
	assert (doc.status, doc.status_reason) == ("Active", "")
	run_integration(shop, "Manual")
	assert_wrote_nothing_new(shop)
	assert links(shop) == written


FORGED = {
	"bad hmac": lambda location: with_query(location, code="a-code-of-my-own"),
	"another store": lambda location: with_query(location, resign=True, shop="another-store.myshopify.com"),
	"a host that is not a store": lambda location: with_query(location, resign=True, shop="evil.example"),
	"unknown state": lambda location: with_query(location, resign=True, state="never-issued"),
}


@pytest.mark.parametrize("forgery", sorted(FORGED))
def test_a_forged_shopify_callback_is_refused_and_stores_nothing(shop, forgery):
	genuine = connect_shopify(shop)
	before = connection(shop)
	assert callback(shopify_oauth, FORGED[forgery](genuine)) == (400, 0)
	assert connection(shop) == before
	# The refusal took the flow's state: only a state never issued leaves the genuine answer usable.
	assert callback(shopify_oauth, genuine)[0] == (302 if forgery == "unknown state" else 400)


def test_a_shopify_state_works_once_and_for_the_user_who_started_it(shop, other_user):
	genuine = connect_shopify(shop)
	assert callback(shopify_oauth, genuine)[0] == 302
	after = connection(shop)
	assert callback(shopify_oauth, genuine) == (400, 0)
	assert connection(shop) == after

	started = connect_shopify(shop)
	for user in (other_user, "Guest"):
		frappe.set_user(user)
		assert callback(shopify_oauth, started) == (400, 0)
		frappe.set_user("Administrator")
	assert connection(shop) == after


def test_a_declined_shopify_consent_stores_nothing(shop, shopify_store):
	shopify_store.emulator.deny_consent = True
	before = connection(shop)
	assert callback(shopify_oauth, connect_shopify(shop)) == (400, 0)
	assert connection(shop) == before


def test_connecting_names_its_store_of_shopifys_form_and_keeps_to_it(shop):
	with pytest.raises(frappe.ValidationError, match="is not a store's"):
		shopify_oauth.authorization_url(shop, "kraal-outfitters.example")
	assert callback(shopify_oauth, connect_shopify(shop))[0] == 302
	with pytest.raises(frappe.ValidationError, match="create another integration"):
		shopify_oauth.authorization_url(shop, "another-store.myshopify.com")


def test_a_scope_an_entity_needs_and_the_store_did_not_grant_is_named_before_a_sync(shop, shopify_store):
	emulator = shopify_store.emulator
	emulator.withheld_scopes = {"read_customers"}
	assert callback(shopify_oauth, connect_shopify(shop))[0] == 302
	doc = frappe.get_doc("Kraal Integration", shop)
	assert doc.status == "Needs Re-authentication"
	assert "read_customers (needed by customer, order)" in doc.status_reason
	assert run_integration(shop, "Manual") is None  # nothing runs until it is connected again

	# The owner grants what was asked, but an entity switched on later needs more.
	emulator.withheld_scopes = set()
	set_entity(shop, "order", 0)
	assert callback(shopify_oauth, connect_shopify(shop))[0] == 302
	assert "read_orders" not in authorization.parse_scopes(
		frappe.db.get_value("Kraal Integration", shop, "granted_scopes")
	)
	set_entity(shop, "order", 1)
	run_integration(shop, "Manual")
	doc.reload()
	assert doc.status == "Needs Re-authentication"
	assert "read_orders (needed by order)" in doc.status_reason
	assert not links(shop)  # named before anything was read or written

	assert callback(shopify_oauth, connect_shopify(shop))[0] == 302  # asks for what the entities need now
	doc.reload()
	assert (doc.status, authorization.parse_scopes(doc.granted_scopes)) == ("Active", ALL_SHOPIFY_SCOPES)


# -- Shopify's compliance webhooks ----------------------------------------------------------------


def deliver(topic: str, payload: dict, secret: str = SECRET, shop_domain: str = DOMAIN, delivery=None):
	"""(answer, status, database writes) of a compliance webhook as Shopify delivers it, taken as Guest."""
	body = json.dumps(payload).encode()
	headers = delivery_headers(body, topic, secret, shop_domain, delivery)
	frappe.db.commit()
	frappe.set_user("Guest")
	try:
		frappe.local.request = EnvironBuilder(method="POST", data=body, headers=headers).get_request()
		frappe.local.response = frappe._dict()
		answer = shopify_oauth.compliance_webhook()
		writes = frappe.db.transaction_writes
		frappe.db.commit()
	finally:
		frappe.set_user("Administrator")
	return answer, frappe.local.response.get("http_status_code", 200), writes


def comments(integration: str) -> list[str]:
	return frappe.get_all(
		"Comment",
		filters={
			"reference_doctype": "Kraal Integration",
			"reference_name": integration,
			"comment_type": "Info",
		},
		order_by="creation",
		pluck="content",
	)


CUSTOMER = {"id": 191167, "email": "alice@example.com", "phone": "555-625-1199"}


def test_compliance_webhooks_are_answered_as_shopify_requires_and_leave_the_books(shop):
	assert callback(shopify_oauth, connect_shopify(shop))[0] == 302
	customer = frappe.get_doc(
		{"doctype": "Customer", "customer_name": f"Kraal Compliance {shop}", "customer_type": "Individual"}
	).insert()
	frappe.get_doc(
		{
			"doctype": "Kraal External Link",
			"integration": shop,
			"external_type": "customer",
			"external_id": "gid://shopify/Customer/191167",
			"reference_doctype": "Customer",
			"reference_name": customer.name,
		}
	).insert(ignore_permissions=True)
	shop_body = {"shop_id": 60001, "shop_domain": DOMAIN}
	request = {**shop_body, "customer": CUSTOMER, "orders_requested": [5001], "data_request": {"id": 9999}}

	delivery = str(uuid.uuid4())
	assert deliver(compliance.DATA_REQUEST, request, delivery=delivery)[:2] == ({"accepted": True}, 200)
	assert deliver(compliance.DATA_REQUEST, request, delivery=delivery) == ({"accepted": False}, 200, 0)
	[noted] = comments(shop)
	assert "customers/data_request 9999" in noted and f"Customer {customer.name}" in noted
	assert CUSTOMER["email"] not in noted and CUSTOMER["phone"] not in noted

	assert deliver(compliance.CUSTOMER_REDACT, request, secret="another-apps-secret") == (
		{"accepted": False},
		401,
		0,
	)
	assert deliver(compliance.SHOP_REDACT, shop_body, shop_domain="another-store.myshopify.com")[:2] == (
		{"accepted": False},
		401,
	)
	# A customer's signed request passed off as shop/redact, the topic that disconnects.
	assert deliver(compliance.SHOP_REDACT, request) == ({"accepted": False}, 400, 0)
	assert frappe.db.get_value("Kraal Integration", shop, "status") == "Active"

	redact = {**shop_body, "customer": CUSTOMER, "orders_to_redact": [5001]}
	assert deliver(compliance.CUSTOMER_REDACT, redact)[:2] == ({"accepted": True}, 200)
	assert "customers/redact" in comments(shop)[-1]
	assert frappe.db.exists("Customer", customer.name)

	assert deliver(compliance.SHOP_REDACT, shop_body)[:2] == ({"accepted": True}, 200)
	doc = frappe.get_doc("Kraal Integration", shop)
	assert (doc.enabled, doc.status, doc.granted_scopes) == (0, "Disconnected", "")
	assert doc.get_password("access_token", raise_exception=False) is None
	assert "shop/redact" in comments(shop)[-1]
	assert frappe.db.exists("Customer", customer.name) and links(shop)  # the books and links stay

	# Installed again: connecting again resumes on the same links.
	assert callback(shopify_oauth, connect_shopify(shop))[0] == 302
	assert frappe.db.get_value("Kraal Integration", shop, ["enabled", "status"]) == (1, "Active")


# -- Amazon ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def amazon_company(site):
	amazon_helpers.ensure_company()


@pytest.fixture
def seller(amazon_company, amazon_emulator, amazon_data):
	"""An Amazon integration with the app's id and LWA credentials and every money key mapped, never
	connected (no refresh token, no marketplaces); the merchant's knife in stock. Purged afterwards."""
	amazon_helpers.stock_the_knife()
	name = amazon_helpers.connect(amazon_emulator.url, amazon_data)
	remove_encrypted_password("Kraal Integration", name, "refresh_token")
	frappe.db.set_value(
		"Kraal Integration", name, {"refresh_token": "", "marketplace_ids": "", "app_id": APP_ID}
	)
	frappe.db.commit()
	yield name
	amazon_helpers.purge(name)
	amazon_helpers.unstock_the_knife()


@pytest.fixture
def amazon_data(tmp_path) -> Path:
	return Path(shutil.copytree(amazon_helpers.FIXTURES, tmp_path / "amazon"))


@pytest.fixture
def amazon_emulator(amazon_data):
	emulator = AmazonEmulator(amazon_data).start()
	emulator.set_rate_limit("getCatalogItem", burst=10)  # two catalog items a second would make runs sleep
	yield emulator
	emulator.stop()


def connect_amazon(integration: str) -> str:
	return consent(amazon_oauth.authorization_url(integration))


def test_amazon_connected_through_seller_central_syncs_and_after_reauthorization_resumes_without_reimporting(
	seller, amazon_emulator
):
	assert callback(amazon_oauth, connect_amazon(seller))[0] == 302
	doc = frappe.get_doc("Kraal Integration", seller)
	refresh_token = doc.get_password("refresh_token")
	assert refresh_token.startswith("Atzr|emulator-")
	assert (doc.external_account, doc.enabled, doc.status) == (SELLER, 1, "Active")
	listed = amazon_oauth.participating_marketplaces(seller)
	assert [m["id"] for m in listed] == [amazon_helpers.US, amazon_helpers.CA]  # Mexico: not participating
	assert json.loads(doc.amazon_marketplaces) == listed
	with pytest.raises(frappe.ValidationError):
		amazon_oauth.choose_marketplaces(seller, json.dumps(["A1AM78C64UM0Y8"]))
	amazon_oauth.choose_marketplaces(seller, json.dumps([amazon_helpers.US]))
	assert frappe.db.get_value("Kraal Integration", seller, "marketplace_ids") == amazon_helpers.US

	run_integration(seller, "Manual")
	first = latest_log(seller)
	assert first.status == "Success", [(f.external_id, f.message) for f in first.failures]
	assert set(amazon_helpers.linked(seller, amazon_mapping.ORDERS)) >= {
		"111-4827361-0012001",
		"111-4827361-0012002",
		"111-4827361-0012003",
	}
	written, read_up_to = links(seller), cursors(seller)

	amazon_emulator.revoke(refresh_token)  # the seller removed the app
	run_integration(seller, "Manual")
	assert frappe.db.get_value("Kraal Integration", seller, "status") == "Needs Re-authentication"
	assert (links(seller), cursors(seller)) == (written, read_up_to)

	assert callback(amazon_oauth, connect_amazon(seller))[0] == 302
	doc.reload()
	assert doc.get_password("refresh_token") != refresh_token
	assert (doc.status, doc.marketplace_ids) == ("Active", amazon_helpers.US)
	run_integration(seller, "Manual")
	assert_wrote_nothing_new(seller)
	assert links(seller) == written


AMAZON_FORGED = {
	"bad code": lambda location: with_query(location, spapi_oauth_code="ANforged"),
	"unknown state": lambda location: with_query(location, state="never-issued"),
	"no code": lambda location: with_query(location, spapi_oauth_code=""),
}


@pytest.mark.parametrize("forgery", sorted(AMAZON_FORGED))
def test_a_forged_amazon_callback_is_refused_and_stores_nothing(seller, forgery):
	genuine = connect_amazon(seller)
	before = connection(seller)
	assert callback(amazon_oauth, AMAZON_FORGED[forgery](genuine)) == (400, 0)
	assert connection(seller) == before


def test_an_amazon_state_works_once_and_for_the_user_who_started_it(seller, other_user):
	started = connect_amazon(seller)
	for user in (other_user, "Guest"):
		frappe.set_user(user)
		assert callback(amazon_oauth, started) == (400, 0)
		frappe.set_user("Administrator")
	assert callback(amazon_oauth, started) == (400, 0)  # the refusal used it up

	genuine = connect_amazon(seller)
	assert callback(amazon_oauth, genuine)[0] == 302
	after = connection(seller)
	assert callback(amazon_oauth, genuine) == (400, 0)
	assert connection(seller) == after


def test_a_declined_consent_or_another_seller_stores_nothing(seller, amazon_emulator):
	amazon_emulator.deny_consent = True
	before = connection(seller)
	assert callback(amazon_oauth, connect_amazon(seller)) == (400, 0)
	assert connection(seller) == before

	amazon_emulator.deny_consent = False
	assert callback(amazon_oauth, connect_amazon(seller))[0] == 302
	connected = connection(seller)
	amazon_emulator.consenting_seller = (
		"A1OTHERSELLER"  # someone signs in to Seller Central as another seller
	)
	assert callback(amazon_oauth, connect_amazon(seller)) == (400, 0)
	assert connection(seller) == connected


# -- who may start a flow -------------------------------------------------------------------------


@pytest.fixture
def accounts_manager():
	email = ensure_user("kraal-vendor-auth-accounts@example.com", "Accounts Manager", "Accounts")
	frappe.set_user(email)
	yield email
	frappe.set_user("Administrator")


def test_only_who_may_change_credentials_starts_a_flow_and_an_accounts_manager_chooses_marketplaces(
	shop, seller, accounts_manager
):
	with pytest.raises(frappe.PermissionError):
		shopify_oauth.authorization_url(shop, DOMAIN)
	with pytest.raises(frappe.PermissionError):
		amazon_oauth.authorization_url(seller)
	frappe.set_user("Administrator")
	assert callback(amazon_oauth, connect_amazon(seller))[0] == 302
	frappe.set_user(accounts_manager)
	amazon_oauth.choose_marketplaces(seller, json.dumps([amazon_helpers.US, amazon_helpers.CA]))
	frappe.db.commit()
	assert frappe.db.get_value("Kraal Integration", seller, "marketplace_ids").splitlines() == [
		amazon_helpers.US,
		amazon_helpers.CA,
	]
