"""The keys that verify Plaid's webhooks on the site: fetched from Plaid with the credentials of the
site's Plaid clients, kept in Redis, and fetched at most KEY_FETCHES_PER_MINUTE times a minute whatever
callers send, so forged tokens naming made-up key ids cannot make the site call Plaid over and over.

A client is a client id at its endpoint: one Plaid account's sandbox and production have keys and
secrets of their own."""

import json
import time
from collections.abc import Callable, Iterator

import frappe

from kraal_connect.connectors.plaid.integration import PlaidConnector
from kraal_connect.connectors.plaid.webhooks import (
	UNKNOWN_KEY_SECONDS,
	fetch_window,
	key_lifetime,
	may_fetch,
)
from kraal_connect.engine.errors import SyncError

# Kept for a key Plaid did not give (unknown id, expired, Plaid unreachable): asked again only after it.
NO_KEY = b""


def client_of(integration) -> str:
	"""The Plaid client an integration (a doc or a row with its credentials' fields) calls as."""
	return f"{integration.client_id} at {integration.api_base_url or integration.environment or 'sandbox'}"


def site_keys(kid: str) -> Iterator[tuple[str, dict]]:
	"""(client, key) for each Plaid client of the enabled integrations that holds a key under kid:
	the keys already kept first, then fetched one client at a time, only as the caller asks for more."""
	now = time.time()
	to_fetch = []
	for client, integration in _clients().items():
		cached = _kept(client, kid)
		if cached is None:
			to_fetch.append((client, integration))
		elif cached != NO_KEY:
			yield client, json.loads(cached)
	for client, integration in to_fetch:
		jwk = _fetch(client, integration, kid, now)
		if jwk:
			yield client, jwk


def client_keys(client: str, integration: str) -> Callable[[str], Iterator[tuple[str, dict]]]:
	"""keys() for one client, asked with the credentials of this integration."""

	def keys(kid: str) -> Iterator[tuple[str, dict]]:
		cached = _kept(client, kid)
		if cached is None:
			jwk = _fetch(client, integration, kid, time.time())
		else:
			jwk = json.loads(cached) if cached != NO_KEY else None
		if jwk:
			yield client, jwk

	return keys


def _clients() -> dict[str, str]:
	"""Each Plaid client of the enabled integrations -> the newest integration calling as it, whose
	credentials ask Plaid for its keys."""
	clients: dict[str, str] = {}
	for row in frappe.get_all(
		"Kraal Integration",
		filters={"vendor": PlaidConnector.vendor, "enabled": 1, "client_id": ("is", "set")},
		fields=["name", "client_id", "api_base_url", "environment"],
		order_by="creation desc",
	):
		clients.setdefault(client_of(row), row.name)
	return clients


def _cache_key(client: str, kid: str) -> str:
	return frappe.cache.make_key(f"kraal_plaid_webhook_key::{client}::{kid}")


def _kept(client: str, kid: str) -> bytes | None:
	"""The kept answer for this client and key id: the key's JSON, NO_KEY, or None if none is kept."""
	return frappe.cache.get(_cache_key(client, kid))


def _fetch(client: str, integration: str, kid: str, now: float) -> dict | None:
	"""Ask Plaid for the key, within the site's budget, and keep the answer: the key until it expires,
	its absence for UNKNOWN_KEY_SECONDS."""
	if not _take_fetch(now):
		return None  # over budget: refused without a call, and not remembered, so it is asked later
	try:
		doc = frappe.get_doc("Kraal Integration", integration)
		jwk = PlaidConnector(doc).api.get_webhook_verification_key(kid)
	except (SyncError, ValueError):
		jwk = None
	lifetime = key_lifetime(jwk, now) if jwk else 0
	if lifetime:
		frappe.cache.set(_cache_key(client, kid), json.dumps(jwk), ex=lifetime)
		return jwk
	frappe.cache.set(_cache_key(client, kid), NO_KEY, ex=UNKNOWN_KEY_SECONDS)
	return None


def fetch_counter(now: float) -> str:
	return frappe.cache.make_key(f"kraal_plaid_key_fetches::{fetch_window(now)}")


def _take_fetch(now: float) -> bool:
	"""Count one fetch against the site's budget for this minute (INCR and EXPIRE in one transaction,
	so every worker counts in the same place and the counter never outlives its minute)."""
	counter = fetch_counter(now)
	pipe = frappe.cache.pipeline()
	pipe.incr(counter)
	pipe.expire(counter, 120)
	fetches, _ = pipe.execute()
	return may_fetch(fetches)
