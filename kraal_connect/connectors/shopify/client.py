"""Shopify's Admin GraphQL API through ShopifyAPI (shopify.Session + shopify.GraphQL).

One store per ShopifyApi; several can live in one process because the library's global session is
only active while the GraphQL client is built. base_url points the session at another host (the
emulator): the library builds every URL from the session's protocol and url.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import shopify

from kraal_connect.connectors.shopify import queries
from kraal_connect.engine.errors import AuthenticationError, SyncError, TransientError, retry_after_seconds

API_VERSION = "2026-01"
# Shopify's largest page: a store has fewer locations than that.
LOCATIONS_PAGE = 250
# inventorySetQuantities takes at most this many quantities a call.
INVENTORY_BATCH_SIZE = 250
WEBHOOK_TOPICS = (
	"orders/create",
	"orders/updated",
	"orders/paid",
	"orders/cancelled",
	"refunds/create",
	"products/update",
	"products/delete",
	"inventory_levels/update",
	"customers/update",
	"app/uninstalled",
)
# Error codes a person has to act on: the app lacks a scope, or its token was revoked.
AUTH_CODES = frozenset({"ACCESS_DENIED", "UNAUTHORIZED", "FORBIDDEN"})
TRANSIENT_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"})


@dataclass(frozen=True)
class Connection:
	"""One page of a connection: its nodes and where the next page starts."""

	nodes: list[dict]
	end_cursor: str | None
	has_next_page: bool


class _GraphQL(shopify.GraphQL):
	"""shopify.GraphQL with a timeout. The library's execute waits forever on a stalled connection and
	prints error bodies to stdout; this one raises HTTPError with the body still readable."""

	def __init__(self, timeout: float):
		super().__init__()
		self.headers = dict(self.headers)  # the library hands out the session's own header dict
		self.timeout = timeout

	def execute(self, query, variables=None, operation_name=None):
		headers = self.merge_headers(
			{"Accept": "application/json", "Content-Type": "application/json"}, self.headers
		)
		body = json.dumps({"query": query, "variables": variables, "operationName": operation_name}).encode()
		request = urllib.request.Request(self.endpoint, body, headers)
		with urllib.request.urlopen(request, timeout=self.timeout) as response:
			return response.read().decode()


def throttle_wait(cost: dict) -> float | None:
	"""Seconds until the bucket holds the points the refused query asked for."""
	status = cost.get("throttleStatus") or {}
	requested, available, rate = (
		cost.get("requestedQueryCost"),
		status.get("currentlyAvailable"),
		status.get("restoreRate"),
	)
	if requested is None or available is None or not rate:
		return None
	return max(0.0, (float(requested) - float(available)) / float(rate))


def translate_errors(body: dict) -> SyncError:
	"""A GraphQL errors list as the engine error it amounts to."""
	errors = body.get("errors")
	if isinstance(errors, str | dict):
		errors = [{"message": str(errors)}]
	codes = {(e.get("extensions") or {}).get("code") for e in errors}
	message = "; ".join(e.get("message", "") for e in errors)
	if "THROTTLED" in codes:
		cost = (body.get("extensions") or {}).get("cost") or {}
		return TransientError("Shopify throttled the query", retry_after=throttle_wait(cost))
	if codes & AUTH_CODES:
		return AuthenticationError(f"Shopify refused access: {message}")
	if codes & TRANSIENT_CODES:
		return TransientError(f"Shopify: {message}")
	return SyncError(f"Shopify: {message}")


def translate_http(exc: urllib.error.HTTPError) -> SyncError:
	status = exc.code
	if status in (401, 403):
		return AuthenticationError(
			f"Shopify refused the access token (HTTP {status}); check the store domain and the token"
		)
	if status == 429 or status >= 500:
		return TransientError(
			f"Shopify answered HTTP {status}", retry_after=retry_after_seconds(exc.headers.get("Retry-After"))
		)
	if status == 402:
		return SyncError("Shopify: the store is frozen (HTTP 402 Payment Required)")
	if status == 404:
		return SyncError(f"Shopify: no Admin API at this store for version {API_VERSION} (HTTP 404)")
	if status == 423:
		return SyncError("Shopify: the store is locked (HTTP 423)")
	return SyncError(f"Shopify answered HTTP {status}")


def user_errors(mutation: str, payload: dict | None) -> None:
	"""Raise SyncError naming the input field Shopify rejected."""
	errors = (payload or {}).get("userErrors") or []
	if errors:
		details = "; ".join(
			f"{'.'.join(e.get('field') or ['(input)'])}: {e.get('message')}"
			+ (f" ({e['code']})" if e.get("code") else "")
			for e in errors
		)
		raise SyncError(f"Shopify rejected {mutation}: {details}")


def updated_since(since: str | None, field: str = "updated_at") -> str | None:
	return f"{field}:>='{since}'" if since else None


def batches(quantities: Iterable[dict], size: int = INVENTORY_BATCH_SIZE) -> Iterator[list[dict]]:
	"""inventorySetQuantities inputs cut to what one call takes."""
	batch: list[dict] = []
	for row in quantities:
		batch.append(row)
		if len(batch) == size:
			yield batch
			batch = []
	if batch:
		yield batch


class ShopifyApi:
	"""The Shopify calls Kraal makes. Every call raises engine errors, never the library's."""

	def __init__(self, shop_domain: str, access_token: str, base_url: str | None = None, timeout: float = 60):
		session = shopify.Session(shop_domain, API_VERSION, access_token)
		if not session.url:
			raise ValueError(f"{shop_domain!r} is not a Shopify store domain")
		self.shop_domain = session.url
		if base_url:
			target = urlsplit(base_url)
			session.protocol, session.url = target.scheme, target.netloc
		shopify.ShopifyResource.activate_session(session)
		try:
			self.graphql = _GraphQL(timeout)
		finally:
			shopify.ShopifyResource.clear_session()

	def execute(self, document: str, variables: dict | None = None) -> dict:
		"""The data of one GraphQL operation; throttling, HTTP and GraphQL errors as engine errors."""
		try:
			raw = self.graphql.execute(document, variables)
		except urllib.error.HTTPError as exc:
			raise translate_http(exc) from None
		except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
			reason = getattr(exc, "reason", exc)
			raise TransientError(f"network: could not reach Shopify ({reason})") from None
		try:
			body = json.loads(raw)
		except ValueError:
			raise TransientError("Shopify answered with something that is not JSON") from None
		if body.get("errors"):
			raise translate_errors(body)
		return body.get("data") or {}

	def _connection(self, document: str, path: str, variables: dict) -> Connection:
		data = self.execute(document, variables)
		for key in path.split("."):
			if data.get(key) is None:
				raise SyncError(f"Shopify has no {key} {variables.get(key) or ''}".rstrip())
			data = data[key]
		page = data.get("pageInfo") or {}
		return Connection(data.get("nodes") or [], page.get("endCursor"), bool(page.get("hasNextPage")))

	# -- reading ---------------------------------------------------------------------------------
	def shop(self) -> dict:
		"""Name, currency, time zone of the store: what Test Connection shows."""
		return self.execute(queries.SHOP)["shop"]

	def locations(self) -> list[dict]:
		return self._connection(queries.LOCATIONS, "locations", {"first": LOCATIONS_PAGE}).nodes

	def shop_and_locations(self) -> tuple[dict, list[dict]]:
		"""What a run sets up from, in one call: the store and its locations."""
		data = self.execute(queries.SHOP_AND_LOCATIONS, {"first": LOCATIONS_PAGE})
		return data["shop"], (data.get("locations") or {}).get("nodes") or []

	def products(self, since: str | None, after: str | None, first: int) -> Connection:
		return self._connection(
			queries.PRODUCTS, "products", {"first": first, "after": after, "query": updated_since(since)}
		)

	def product_deletions(self, since: str | None, after: str | None, first: int) -> Connection:
		terms = ["subject_type:PRODUCT", "action:destroy", updated_since(since, "created_at")]
		return self._connection(
			queries.PRODUCT_DELETIONS,
			"events",
			{"first": first, "after": after, "query": " AND ".join(t for t in terms if t)},
		)

	def customers(self, since: str | None, after: str | None, first: int) -> Connection:
		return self._connection(
			queries.CUSTOMERS, "customers", {"first": first, "after": after, "query": updated_since(since)}
		)

	def orders(self, since: str | None, after: str | None, first: int) -> Connection:
		return self._connection(
			queries.ORDERS, "orders", {"first": first, "after": after, "query": updated_since(since)}
		)

	def inventory_levels(
		self, location_id: str, since: str | None, after: str | None, first: int
	) -> Connection:
		variables = {"location": location_id, "first": first, "after": after, "query": updated_since(since)}
		return self._connection(queries.INVENTORY_LEVELS, "location.inventoryLevels", variables)

	def product(self, product_id: str) -> dict | None:
		return self.execute(queries.PRODUCT, {"id": product_id}).get("product")

	def customer(self, customer_id: str) -> dict | None:
		return self.execute(queries.CUSTOMER, {"id": customer_id}).get("customer")

	def order(self, order_id: str) -> dict | None:
		return self.execute(queries.ORDER, {"id": order_id}).get("order")

	def inventory_level(self, level_id: str) -> dict | None:
		return self.execute(queries.INVENTORY_LEVEL, {"id": level_id}).get("inventoryLevel")

	def inventory_item_ids(self, variant_ids: list[str]) -> dict[str, str]:
		"""variant id -> inventory item id, for pushing quantities of the Items ERPNext knows."""
		nodes = self.execute(queries.VARIANT_INVENTORY_ITEMS, {"ids": variant_ids}).get("nodes") or []
		return {n["id"]: n["inventoryItem"]["id"] for n in nodes if n and n.get("inventoryItem")}

	# -- writing ---------------------------------------------------------------------------------
	def set_quantities(
		self, quantities: list[dict], name: str = "available", reason: str = "correction"
	) -> str:
		"""Set absolute quantities (one batch, see batches()); ERPNext is the source, so no compare."""
		if len(quantities) > INVENTORY_BATCH_SIZE:
			raise ValueError(f"at most {INVENTORY_BATCH_SIZE} quantities a call; use batches()")
		rows = [{**row, "changeFromQuantity": None} for row in quantities]
		data = self.execute(
			queries.SET_QUANTITIES, {"input": {"name": name, "reason": reason, "quantities": rows}}
		)
		payload = data.get("inventorySetQuantities")
		user_errors("inventorySetQuantities", payload)
		return payload["inventoryAdjustmentGroup"]["id"]

	def webhook_subscriptions(self, uri: str | None = None) -> list[dict]:
		return self._connection(
			queries.WEBHOOK_SUBSCRIPTIONS, "webhookSubscriptions", {"first": 100, "uri": uri}
		).nodes

	def subscribe_webhooks(self, uri: str, topics: Iterable[str] = WEBHOOK_TOPICS) -> list[dict]:
		"""Subscribe uri to the topics it lacks (safe to repeat); returns the subscriptions created."""
		existing = {s["topic"] for s in self.webhook_subscriptions(uri)}
		created = []
		for topic in topics:
			enum = topic_enum(topic)
			if enum in existing:
				continue
			payload = self.execute(queries.WEBHOOK_CREATE, {"topic": enum, "uri": uri}).get(
				"webhookSubscriptionCreate"
			)
			user_errors(f"webhookSubscriptionCreate {topic}", payload)
			created.append(payload["webhookSubscription"])
		return created

	def unsubscribe_webhooks(self, uri: str) -> list[str]:
		"""Remove every subscription that delivers to uri; returns their ids."""
		removed = []
		for subscription in self.webhook_subscriptions(uri):
			payload = self.execute(queries.WEBHOOK_DELETE, {"id": subscription["id"]}).get(
				"webhookSubscriptionDelete"
			)
			user_errors("webhookSubscriptionDelete", payload)
			removed.append(payload["deletedWebhookSubscriptionId"])
		return removed


def topic_enum(topic: str) -> str:
	"""orders/create (the X-Shopify-Topic form) -> ORDERS_CREATE (the GraphQL enum)."""
	return topic.replace("/", "_").upper()
