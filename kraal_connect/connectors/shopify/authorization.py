"""Shopify's authorization code grant, the part that needs no site: the consent URL, the checks of
Shopify's redirect back (the HMAC over its query, the shop domain's form, the store the flow was started
for), the scopes an integration needs and the exchange of the code for an access token.

connectors/shopify/oauth.py binds it to the site; the standalone tests drive it against the emulator.
"""

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from kraal_connect.connectors.shopify.mapping import CUSTOMERS, INVENTORY, ORDERS, PAYOUTS, PRODUCTS
from kraal_connect.connectors.token_exchange import token_answer
from kraal_connect.engine.endpoints import EndpointNotAllowed, check_endpoint
from kraal_connect.engine.errors import AuthenticationError, TransientError

# Shopify's own rule for a store's permanent domain: anything else is not a store this flow may name.
SHOP_DOMAIN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-]*\.myshopify\.com$")
AUTHORIZE_PATH = "/admin/oauth/authorize"
TOKEN_PATH = "/admin/oauth/access_token"

SHOPIFY_SOURCE, ERPNEXT_SOURCE = "Shopify", "ERPNext"
# Every run reads the store's locations (their Warehouse mappings, the default warehouse).
LOCATIONS = "locations"
# ERPNext holding the stock: its quantities are set on the variants' inventory items at Shopify.
INVENTORY_PUSH = "inventory push"
# What each entity reads: a product's variants carry their inventory item (cost, tracked); an order
# names its customer.
ENTITY_SCOPES = {
	PRODUCTS: ("read_products", "read_inventory"),
	CUSTOMERS: ("read_customers",),
	ORDERS: ("read_orders", "read_customers"),
	INVENTORY: ("read_inventory",),
	PAYOUTS: ("read_shopify_payments_payouts",),
}


class Refused(Exception):
	"""Shopify's redirect back connects nothing; the message says why, for the user."""


@dataclass(frozen=True)
class Grant:
	access_token: str
	scopes: tuple[str, ...]


# -- scopes ---------------------------------------------------------------------------------------


def needed_scopes(integration) -> dict[str, tuple[str, ...]]:
	"""What needs which scopes: the locations, each enabled entity, the inventory push; read from an
	integration's entities and Inventory Source. Inventory levels are read only when Shopify holds the
	stock, as the connector's streams do."""
	needs = {LOCATIONS: ("read_locations",)}
	source = integration.inventory_source
	for row in integration.entities:
		if not row.enabled or row.entity not in ENTITY_SCOPES:
			continue
		if row.entity == INVENTORY and source != SHOPIFY_SOURCE:
			continue
		needs[row.entity] = ENTITY_SCOPES[row.entity]
	if source == ERPNEXT_SOURCE:
		needs[INVENTORY_PUSH] = ("write_inventory", "read_products")
	return needs


def scope_request(needs: Mapping[str, Sequence[str]]) -> list[str]:
	"""The scopes to ask for, each once; a read scope is left out where its write scope is asked for,
	since Shopify grants the read with the write."""
	wanted = {scope for scopes in needs.values() for scope in scopes}
	return sorted(s for s in wanted if not (s.startswith("read_") and f"write_{s[5:]}" in wanted))


def parse_scopes(value: str | None) -> tuple[str, ...]:
	"""Shopify's comma-separated scope list (the token answer's `scope`, the Granted Scopes field)."""
	return tuple(sorted({s.strip() for s in (value or "").replace("\n", ",").split(",") if s.strip()}))


def grants(granted: Sequence[str], scope: str) -> bool:
	"""Shopify answers the scopes it granted without the read scopes their write scopes imply."""
	return scope in granted or (scope.startswith("read_") and f"write_{scope[5:]}" in granted)


def missing_scopes(needs: Mapping[str, Sequence[str]], granted: Sequence[str]) -> dict[str, list[str]]:
	"""For each scope the store has not granted, what needs it."""
	missing: dict[str, list[str]] = {}
	for needer, scopes in needs.items():
		for scope in scopes:
			if not grants(granted, scope):
				missing.setdefault(scope, []).append(needer)
	return missing


def missing_message(missing: Mapping[str, Sequence[str]]) -> str:
	named = "; ".join(
		f"{scope} (needed by {', '.join(needers)})" for scope, needers in sorted(missing.items())
	)
	return f"Shopify has not granted {named}; connect Shopify again and approve the access it asks for"


def check_granted(integration) -> None:
	"""AuthenticationError naming each scope an enabled entity needs and the store did not grant. A token
	pasted from a custom app comes with no Granted Scopes: Shopify said nothing to check against."""
	granted = parse_scopes(integration.granted_scopes)
	if not granted:
		return
	missing = missing_scopes(needed_scopes(integration), granted)
	if missing:
		raise AuthenticationError(missing_message(missing))


# -- the consent URL ------------------------------------------------------------------------------


def check_shop(shop: str | None) -> str:
	"""The store's permanent domain in lower case; Refused when it is not of Shopify's form (another
	host, a path, a custom domain)."""
	shop = (shop or "").strip()
	if not SHOP_DOMAIN.match(shop):
		raise Refused(f"{shop or 'an empty shop'!r} is not a store's x.myshopify.com domain")
	return shop.lower()


def oauth_base(shop: str, api_base_url: str | None, vendor_hosts: tuple[str, ...]) -> str:
	"""Where the store's OAuth endpoints are: https://<shop>, unless the API Base URL names another host
	than Shopify's (the emulator, which a site allows only with kraal_allow_custom_endpoints)."""
	try:
		check_endpoint("Shopify", vendor_hosts, api_base_url)
	except EndpointNotAllowed:
		return api_base_url.rstrip("/")
	return f"https://{shop}"


def authorize_url(base: str, client_id: str, scopes: Sequence[str], redirect_uri: str, state: str) -> str:
	"""Shopify's consent page for an offline (store-wide) token: no grant_options[]=per-user, since the
	syncs run without a person signed in."""
	query = {"client_id": client_id, "scope": ",".join(scopes), "redirect_uri": redirect_uri, "state": state}
	return f"{base}{AUTHORIZE_PATH}?{urlencode(query)}"


# -- the redirect back ----------------------------------------------------------------------------


def query_hmac(query: Mapping[str, Sequence[str]], secret: str) -> str:
	"""Shopify's signature of a redirect: the hex HMAC-SHA256, keyed with the app's client secret, of the
	query's other parameters sorted as key=value and joined by &, with %, & and = escaped so that one
	parameter cannot pass for two; a repeated `name[]` is signed as name=["a", "b"]."""

	def pair(key: str, values: Sequence[str]) -> str:
		if key.endswith("[]"):
			key, value = key[:-2], json.dumps([str(v) for v in values])
		elif len(values) == 1:
			value = values[0]
		else:
			raise Refused(f"Shopify sends {key} once, not {len(values)} times")
		key = key.replace("%", "%25").replace("=", "%3D")
		return f"{key}={value.replace('%', '%25')}".replace("&", "%26")

	message = "&".join(sorted(pair(k, v) for k, v in query.items() if k != "hmac"))
	return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def check_redirect(query: Mapping[str, Sequence[str]], client_secret: str, shop_asked: str | None) -> str:
	"""The authorization code of Shopify's redirect back, once it is signed with the app's secret, names a
	store domain of Shopify's form and the store the flow was started for; Refused otherwise."""
	single = {k: v[0] if len(v) == 1 else "" for k, v in query.items()}
	if single.get("error"):
		raise Refused(f"Shopify did not connect the store: {single['error']}")
	signed = single.get("hmac") or ""
	if not client_secret or not hmac.compare_digest(
		signed.encode(), query_hmac(query, client_secret).encode()
	):
		raise Refused("this answer was not signed by Shopify with the app's client secret")
	shop = check_shop(single.get("shop"))
	if shop != shop_asked:
		raise Refused(f"Shopify answered for store {shop}, but the connection was started for {shop_asked}")
	if not single.get("code"):
		raise Refused("Shopify sent no authorization code")
	return single["code"]


def exchange_code(base: str, client_id: str, client_secret: str, code: str, timeout: float = 30) -> Grant:
	"""The store's access token and the scopes granted with it. Shopify's codes work once: a failure here
	is not retried, the user connects again."""
	try:
		response = requests.post(
			f"{base}{TOKEN_PATH}",
			data={"client_id": client_id, "client_secret": client_secret, "code": code},
			headers={"Accept": "application/json"},
			timeout=timeout,
		)
	except requests.RequestException as exc:
		raise TransientError(f"network: could not reach Shopify ({type(exc).__name__})") from None
	answer = token_answer("Shopify", response.status_code, response.headers, response.json, "access_token")
	return Grant(answer["access_token"], parse_scopes(answer.get("scope")))
