"""A Shopify Admin GraphQL API emulator serving a dataset laid out as fixtures/shopify/README.md describes.

It is a real GraphQL server (graphql-core, the schema in shopify_schema.graphql): queries are parsed,
validated and executed, so a field Shopify does not have fails as it would at Shopify. Every answer
carries Shopify's query cost; a leaky bucket throttles like Shopify (HTTP 200, code THROTTLED).

The app's OAuth (authorization code grant) too: GET /admin/oauth/authorize is the consent page, already
agreed to by the store owner, which redirects to the redirect_uri with a code and Shopify's HMAC over the
query; POST /admin/oauth/access_token trades the code (once) for an access token that the GraphQL API
accepts, besides the custom app's token of app.json.

Control endpoints, besides those of emulators/base.py:
  POST /_emulator/throttle  {"maximumAvailable", "restoreRate", "currentlyAvailable"}: set the bucket
  POST /_emulator/webhook   {"url", "topic", "payload", "webhook_id"?}: send a webhook signed with the
                            dataset's app secret, as Shopify would; answers {"status", "body", "webhook_id"}
  POST /_emulator/consent   {"deny": false, "withhold": ["read_customers"]}: how the store owner answers
                            the next consent pages: decline, or grant all but these scopes
  POST /_emulator/revoke    {"token"?}: that access token, or every one OAuth issued, stops working (the
                            app was uninstalled)
"""

import base64
import hashlib
import hmac
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import requests
from graphql import (
	FieldNode,
	FragmentDefinitionNode,
	FragmentSpreadNode,
	GraphQLError,
	GraphQLInterfaceType,
	GraphQLObjectType,
	GraphQLSchema,
	GraphQLUnionType,
	IntValueNode,
	OperationDefinitionNode,
	VariableNode,
	build_schema,
	execute,
	get_named_type,
	is_leaf_type,
	is_list_type,
	is_non_null_type,
	parse,
	validate,
)

from emulators.base import Emulator, Request, Response

SCHEMA_FILE = Path(__file__).with_name("shopify_schema.graphql")
GRAPHQL_PATH = r"/admin/api/(?P<version>\d{4}-\d{2}|unstable)/graphql\.json"
MAX_QUERY_COST = 1000
# The name of a document's first operation, for the request log.
OPERATION_NAME = re.compile(r"\b(?:query|mutation)\s+(\w+)")
MAX_PAGE_SIZE = 250
MUTATION_COST = 10
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
INVENTORY_NAMES = ("available", "on_hand")
INVENTORY_REASONS = (
	"correction",
	"cycle_count_available",
	"damaged",
	"movement_created",
	"movement_updated",
	"movement_received",
	"movement_canceled",
	"other",
	"promotion",
	"quality_control",
	"received",
	"reservation_created",
	"reservation_deleted",
	"reservation_updated",
	"restock",
	"safety_stock",
	"shrinkage",
)
# Search fields each root connection understands: query key -> record field (None: the numeric id).
SEARCH_FIELDS = {
	"products": {"updated_at": "updatedAt", "created_at": "createdAt", "status": "status", "id": None},
	"productVariants": {"updated_at": "updatedAt", "sku": "sku", "id": None},
	"customers": {"updated_at": "updatedAt", "created_at": "createdAt", "id": None},
	"orders": {
		"updated_at": "updatedAt",
		"created_at": "createdAt",
		"processed_at": "processedAt",
		"id": None,
	},
	"events": {"action": "action", "subject_type": "subjectType", "created_at": "createdAt", "id": None},
	"inventoryLevels": {"updated_at": "updatedAt"},
	"locations": {"name": "name"},
	"webhookSubscriptions": {},
	"payouts": {"issued_at": "issuedAt", "status": "status", "id": None},
	"balanceTransactions": {
		"payments_transfer_id": lambda t: legacy_id((t.get("associatedPayout") or {}).get("id") or "0"),
		"payout_status": lambda t: (t.get("associatedPayout") or {}).get("status"),
		"processed_at": "transactionDate",
		"transaction_type": "type",
		"id": None,
	},
}
SORT_FIELDS = {
	"ID": None,
	"UPDATED_AT": "updatedAt",
	"CREATED_AT": "createdAt",
	"PROCESSED_AT": "processedAt",
	"TITLE": "title",
	"NAME": "name",
	"POSITION": "position",
	"SKU": "sku",
	"NUMBER": None,
	"RELEVANCE": None,
	"TOTAL_PRICE": None,
	"PRODUCT_TYPE": "productType",
	"VENDOR": "vendor",
	"ISSUED_AT": "issuedAt",
	"STATUS": "status",
}
# Balance transactions sort by their own names for the same keys.
BALANCE_SORT_FIELDS = {**SORT_FIELDS, "PROCESSED_AT": "transactionDate", "TRANSACTION_TYPE": "type"}
TIMESTAMP_FIELDS = ("updatedAt", "createdAt", "processedAt", "issuedAt", "transactionDate")
# Objects that other records refer to by id and that the dataset holds in their own files.
REFERENCED_TYPES = ("Location", "Customer", "Product", "ProductVariant", "InventoryItem")


def legacy_id(gid: str) -> int:
	"""The number in gid://shopify/Type/123 (or gid://shopify/Type/123?param=…)."""
	return int(gid.rsplit("/", 1)[-1].split("?", 1)[0])


def gid_type(gid: str) -> str:
	return gid.split("/")[3] if gid.startswith("gid://shopify/") else ""


def now_iso() -> str:
	return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(value: str) -> datetime:
	value = value.strip()
	if len(value) == 10:
		value += "T00:00:00Z"
	parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
	return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# -- signing ---------------------------------------------------------------------------------


def sign(body: bytes, secret: str) -> str:
	"""X-Shopify-Hmac-Sha256: base64 of the HMAC-SHA256 of the raw body, keyed with the app secret."""
	return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def sign_query(params: dict[str, str], secret: str) -> str:
	"""The hmac of an OAuth redirect: hex HMAC-SHA256 of the other parameters, sorted, as k=v joined by &
	(the parameters the emulator sends have no % & = to escape)."""
	message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
	return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def send_webhook(
	url: str,
	topic: str,
	payload: Any,
	secret: str,
	shop_domain: str = "emulator.myshopify.com",
	api_version: str = "2026-01",
	webhook_id: str | None = None,
) -> requests.Response:
	"""POST a webhook the way Shopify delivers one: JSON body, signed, with Shopify's headers."""
	body = json.dumps(payload).encode()
	headers = delivery_headers(body, topic, secret, shop_domain, webhook_id, api_version)
	return requests.post(url, data=body, headers=headers, timeout=30)


def delivery_headers(
	body: bytes,
	topic: str,
	secret: str,
	shop_domain: str = "emulator.myshopify.com",
	webhook_id: str | None = None,
	api_version: str = "2026-01",
) -> dict[str, str]:
	"""The headers Shopify sends with a webhook: its topic, store, delivery id and signature of body."""
	return {
		"Content-Type": "application/json",
		"X-Shopify-Topic": topic,
		"X-Shopify-Hmac-Sha256": sign(body, secret),
		"X-Shopify-Shop-Domain": shop_domain,
		"X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
		"X-Shopify-API-Version": api_version,
		"X-Shopify-Triggered-At": now_iso(),
	}


# -- search and paging -----------------------------------------------------------------------

_TERM = re.compile(r"""(?P<key>[a-z_]+):(?P<op>>=|<=|>|<|=)?(?P<value>'[^']*'|"[^"]*"|\S+)""")


def parse_search(query: str | None) -> list[tuple[str, str, str]]:
	"""Shopify search syntax, the part Kraal uses: key:value terms joined by spaces or AND."""
	if not query:
		return []
	return [
		(m["key"], m["op"] or "=", m["value"].strip("'\""))
		for m in _TERM.finditer(query)
		if m["key"] not in ("and", "or")
	]


def _matches(record: dict, field: str | Callable[[dict], Any] | None, op: str, value: str) -> bool:
	if callable(field):  # a value the record holds deeper down (a balance transaction's payout)
		return str(field(record) or "").lower() == value.lower()
	if field is None:
		actual, wanted = legacy_id(record["id"]), int(value)
	elif field in TIMESTAMP_FIELDS:
		if not record.get(field):
			return False
		actual, wanted = _timestamp(record[field]), _timestamp(value)
	else:
		return str(record.get(field) or "").lower() == value.lower()
	return {
		"=": actual == wanted,
		">": actual > wanted,
		">=": actual >= wanted,
		"<": actual < wanted,
		"<=": actual <= wanted,
	}[op]


def _encode_cursor(key: Any) -> str:
	return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_cursor(cursor: str) -> Any:
	try:
		return json.loads(base64.urlsafe_b64decode(cursor.encode()))
	except ValueError:
		raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor!r}") from None


def paginate(items: list[dict], args: dict, sort_key: Callable[[dict, int], list]) -> dict:
	"""A Relay connection over items, paged as Shopify pages: first/after, last/before, reverse."""
	first, last = args.get("first"), args.get("last")
	if first is None and last is None:
		raise GraphQLError("you must provide one of first or last")
	if max(first or 0, last or 0) > MAX_PAGE_SIZE:
		raise GraphQLError(f"The page size cannot exceed {MAX_PAGE_SIZE}")
	reverse = bool(args.get("reverse"))
	keyed = sorted(
		((sort_key(item, i), item) for i, item in enumerate(items)), key=lambda pair: pair[0], reverse=reverse
	)

	def beyond(key: list, cursor: list) -> bool:
		return key < cursor if reverse else key > cursor

	window = keyed
	if args.get("after"):
		after = _decode_cursor(args["after"])
		window = [(k, node) for k, node in window if beyond(k, after)]
	if args.get("before"):
		before = _decode_cursor(args["before"])
		window = [(k, node) for k, node in window if beyond(before, k)]
	page = window[:first] if first is not None else window[-last:] if last else []
	edges = [{"cursor": _encode_cursor(k), "node": node} for k, node in page]
	has_next = len(window) > len(page) if first is not None else bool(args.get("before"))
	has_previous = bool(args.get("after")) if first is not None else len(window) > len(page)
	return {
		"edges": edges,
		"nodes": [e["node"] for e in edges],
		"pageInfo": {
			"hasNextPage": has_next,
			"hasPreviousPage": has_previous,
			"startCursor": edges[0]["cursor"] if edges else None,
			"endCursor": edges[-1]["cursor"] if edges else None,
		},
	}


def _sorter(sort_key_name: str | None, fields: dict = SORT_FIELDS) -> Callable[[dict, int], list]:
	"""Sort values that compare and survive a JSON round trip in a cursor: [value as text, numeric id, id].

	The whole id breaks ties: inventory levels share their location's number."""
	field = fields.get(sort_key_name or "ID")

	def key(item: dict, _: int) -> list:
		value = item.get(field) if field else None
		text = f"{value:020d}" if isinstance(value, int) else str(value or "").lower()
		return [text, legacy_id(item["id"]), item["id"]]

	return key


def _in_stored_order(_: dict, index: int) -> list:
	return [index, index]


# -- query cost ------------------------------------------------------------------------------


class QueryCost:
	"""Shopify's cost model, simplified: an object costs 1, a scalar 0, a connection 2 plus its page
	size (first/last) times the cost of one node, a mutation 10, an interface or union the most any of
	its types' selections costs. The actual cost counts what came back."""

	def __init__(self, schema: GraphQLSchema, document, variables: dict | None):
		self.schema = schema
		self.variables = variables or {}
		self.fragments = {
			d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
		}

	def operation(self, operation: OperationDefinitionNode, data: dict | None = None) -> int:
		is_mutation = operation.operation.value == "mutation"
		root = self.schema.mutation_type if is_mutation else self.schema.query_type
		cost = self._selections(operation.selection_set, root, data, measured=data is not None)
		return cost + (MUTATION_COST if is_mutation else 0)

	def _size(self, node: FieldNode) -> int:
		for arg in node.arguments or ():
			if arg.name.value in ("first", "last"):
				if isinstance(arg.value, IntValueNode):
					return int(arg.value.value)
				if isinstance(arg.value, VariableNode):
					return int(self.variables.get(arg.value.name.value) or 0)
		return 1

	def _fields(self, selection_set, parent) -> list[tuple[FieldNode, Any]]:
		"""The fields a selection set asks of parent, fragments spread in; of an object type, only the
		fragments that apply to it."""
		result = []
		for selection in selection_set.selections if selection_set else ():
			if isinstance(selection, FieldNode):
				result.append((selection, parent))
			else:
				if isinstance(selection, FragmentSpreadNode):
					fragment = self.fragments[selection.name.value]
					condition, inner = fragment.type_condition, fragment.selection_set
				else:
					condition, inner = selection.type_condition, selection.selection_set
				target = self.schema.get_type(condition.name.value) if condition else parent
				if isinstance(parent, GraphQLObjectType) and not self._applies(target, parent):
					continue
				result += self._fields(inner, parent if isinstance(parent, GraphQLObjectType) else target)
		return result

	def _applies(self, condition, object_type: GraphQLObjectType) -> bool:
		if condition is object_type:
			return True
		if isinstance(condition, GraphQLInterfaceType | GraphQLUnionType):
			return self.schema.is_sub_type(condition, object_type)
		return False

	def _selections(self, selection_set, parent, data, measured: bool) -> int:
		if not measured and isinstance(parent, GraphQLInterfaceType | GraphQLUnionType):
			# Shopify charges an abstract type the most any of the types it may be costs.
			return max(
				(
					self._selections(selection_set, t, None, False)
					for t in self.schema.get_possible_types(parent)
				),
				default=0,
			)
		total = 0
		for node, owner in self._fields(selection_set, parent):
			name = node.name.value
			if name.startswith("__") or not isinstance(owner, GraphQLObjectType | GraphQLInterfaceType):
				continue
			field = owner.fields.get(name)
			if field is None:
				continue
			named = get_named_type(field.type)
			if is_leaf_type(named):
				continue
			key = node.alias.value if node.alias else name
			value = data.get(key) if measured and isinstance(data, dict) else None
			if measured and value is None:
				continue
			if named.name.endswith("Connection"):
				total += 2 + self._connection(node, named, value, measured)
			elif measured and isinstance(value, list):
				total += sum(1 + self._selections(node.selection_set, named, v, True) for v in value)
			else:
				total += 1 + self._selections(node.selection_set, named, value, measured)
		return total

	def _connection(self, node: FieldNode, connection, value, measured: bool) -> int:
		node_type = get_named_type(connection.fields["nodes"].type)
		per_node = []
		for sub, _ in self._fields(node.selection_set, connection):
			if sub.name.value == "nodes":
				per_node.append((sub.selection_set, "nodes", None))
			elif sub.name.value == "edges":
				for edge_field, _ in self._fields(
					sub.selection_set, get_named_type(connection.fields["edges"].type)
				):
					if edge_field.name.value == "node":
						per_node.append((edge_field.selection_set, "edges", edge_field))
		if not measured:
			return self._size(node) * sum(
				1 + self._selections(s, node_type, None, False) for s, _, _ in per_node
			)
		total = 0
		for selection_set, kind, edge_field in per_node:
			items = value.get(kind) or []
			if kind == "edges":
				node_key = edge_field.alias.value if edge_field.alias else "node"
				items = [e.get(node_key) for e in items]
			total += sum(1 + self._selections(selection_set, node_type, item, True) for item in items if item)
		return total


class CostBucket:
	"""Shopify's leaky bucket of query cost points, restored at restoreRate points a second."""

	def __init__(self, maximum: float, restore_rate: float, clock: Callable[[], float]):
		self.maximum = float(maximum)
		self.restore_rate = float(restore_rate)
		self.clock = clock
		self.available = self.maximum
		self.stamp = clock()
		self.lock = threading.Lock()

	def _refill(self) -> None:
		now = self.clock()
		self.available = min(self.maximum, self.available + (now - self.stamp) * self.restore_rate)
		self.stamp = now

	def take(self, cost: float) -> bool:
		with self.lock:
			self._refill()
			if cost > self.available + 1e-9:
				return False
			self.available -= cost
			return True

	def give_back(self, points: float) -> None:
		with self.lock:
			self.available = min(self.maximum, self.available + points)

	def set(self, maximum=None, restore_rate=None, available=None) -> None:
		with self.lock:
			self._refill()
			if maximum is not None:
				self.maximum = float(maximum)
			if restore_rate is not None:
				self.restore_rate = float(restore_rate)
			self.available = min(self.maximum, float(available) if available is not None else self.available)

	def status(self) -> dict:
		with self.lock:
			self._refill()
			return {
				"maximumAvailable": self.maximum,
				"currentlyAvailable": round(self.available, 6),
				"restoreRate": self.restore_rate,
			}


# -- the dataset -----------------------------------------------------------------------------


class DatasetFiles:
	"""The dataset's files, each parsed (and linked) once and again only when it changes on disk, so a
	large dataset (the benchmark's thousands of orders) is not parsed anew on every request."""

	def __init__(self):
		self._parsed: dict[str, tuple[tuple[int, int], dict]] = {}
		self._lock = threading.Lock()

	def load(self, directory: Path, link: Callable[[dict], None] | None = None) -> list[dict]:
		if not directory.is_dir():
			return []
		records = []
		for entry in sorted(os.scandir(directory), key=lambda e: e.name):
			if not entry.name.endswith(".json"):
				continue
			stat = entry.stat()
			signature = (stat.st_mtime_ns, stat.st_size)
			with self._lock:
				cached = self._parsed.get(entry.path)
			if cached is None or cached[0] != signature:
				record = json.loads(Path(entry.path).read_text())
				if link:
					link(record)
				cached = (signature, record)
				with self._lock:
					self._parsed[entry.path] = cached
			records.append(cached[1])
		return records


class Dataset:
	"""One request's view of the dataset directory, with the emulator's changes (inventory) on top.

	The records are shared between requests (see DatasetFiles): nothing here or in a resolver changes them.
	"""

	def __init__(self, emulator: "ShopifyEmulator"):
		self.emulator = emulator
		root, files = emulator.data_dir, emulator.files
		self.shop = emulator.read_json("shop.json")
		self.locations = files.load(root / "locations")
		self.products = files.load(root / "products", _link_product)
		self.customers = files.load(root / "customers")
		self.orders = files.load(root / "orders", _link_order)
		self.events = files.load(root / "events")
		# Shopify Payments: None for a store that does not use it, as Shopify answers.
		self.payments_account = (
			emulator.read_json("payments_account.json")
			if (root / "payments_account.json").is_file()
			else None
		)
		self.payouts = files.load(root / "payouts") if self.payments_account else []
		self.balance_transactions = files.load(root / "balance_transactions") if self.payments_account else []
		changes = emulator.inventory_changes
		self.levels = [
			{**level, **changes[level["id"]]} if level["id"] in changes else level
			for level in files.load(root / "inventory_levels")
		]
		self.variants = [variant for product in self.products for variant in _nodes(product.get("variants"))]
		self.by_id = {
			obj["id"]: obj
			for obj in (
				self.locations
				+ self.products
				+ self.customers
				+ self.orders
				+ self.levels
				+ self.variants
				+ [v["inventoryItem"] for v in self.variants if v.get("inventoryItem")]
				+ list(emulator.webhooks.values())
				+ self.payouts
				+ self.balance_transactions
			)
		}

	def node(self, gid: str | None) -> dict | None:
		obj = self.by_id.get(gid or "")
		return {"__typename": gid_type(gid), **obj} if obj else None


def _nodes(value: Any) -> list:
	if isinstance(value, dict):
		return value.get("nodes") or [e["node"] for e in value.get("edges") or []]
	return list(value or [])


def _link_product(product: dict) -> None:
	"""Each variant knows its product, and its inventory item its variant, as the API answers them."""
	summary = {k: v for k, v in product.items() if k != "variants"}
	for variant in _nodes(product.get("variants")):
		variant["product"] = summary
		item = variant.get("inventoryItem") or {}
		item["variant"] = {k: v for k, v in variant.items() if k != "inventoryItem"}


def _link_order(order: dict) -> None:
	"""Order files store references by id, as captures do; point them at the full objects."""
	applications = {a["index"]: a for a in _nodes(order.get("discountApplications"))}
	lines = {line["id"]: line for line in _nodes(order.get("lineItems"))}
	shipping = {s.get("id"): s for s in _nodes(order.get("shippingLines"))}
	for holder in list(lines.values()) + list(shipping.values()):
		for allocation in holder.get("discountAllocations") or []:
			index = (allocation.get("discountApplication") or {}).get("index")
			if index in applications:
				allocation["discountApplication"] = applications[index]
	for refund in order.get("refunds") or []:
		for row in _nodes(refund.get("refundLineItems")):
			row["lineItem"] = {**lines.get(row["lineItem"]["id"], {}), **row["lineItem"]}
		for row in _nodes(refund.get("refundShippingLines")):
			row["shippingLine"] = {**shipping.get(row["shippingLine"].get("id"), {}), **row["shippingLine"]}
	for fulfillment in order.get("fulfillments") or []:
		for row in _nodes(fulfillment.get("fulfillmentLineItems")):
			row["lineItem"] = {**lines.get(row["lineItem"]["id"], {}), **row["lineItem"]}


# -- resolvers -------------------------------------------------------------------------------


def _data(info) -> Dataset:
	return info.context["dataset"]


def _searched(info, connection: str, items: list[dict], query: str | None) -> list[dict]:
	fields = SEARCH_FIELDS[connection]
	for key, op, value in parse_search(query):
		if key not in fields:
			info.context["search_warnings"].append(
				{
					"path": [connection],
					"query": query,
					"warnings": [{"field": key, "message": "Invalid search field for this query."}],
				}
			)
			continue
		items = [item for item in items if _matches(item, fields[key], op, value)]
	return items


def _root_connection(name: str, items: Callable[[Dataset], list[dict]]):
	def resolve(_, info, **args):
		found = _searched(info, name, items(_data(info)), args.get("query"))
		return paginate(found, args, _sorter(args.get("sortKey")))

	return resolve


def _by_id(kind: str):
	def resolve(_, info, id=None):
		obj = _data(info).node(id)
		return obj if obj and obj["__typename"] == kind else None

	return resolve


def _nested_connection(field_name: str):
	def resolve(source, info, **args):
		return paginate(_nodes(source.get(field_name)), args, _in_stored_order)

	return resolve


def _nested_list(field_name: str):
	def resolve(source, info, first=None, **_):
		items = list(source.get(field_name) or [])
		return items[:first] if first is not None else items

	return resolve


def _reference(field_name: str):
	"""A stored reference ({"id", …}) filled in from the dataset where the object still exists."""

	def resolve(source, info, **_):
		stored = source.get(field_name)
		if not stored:
			return stored
		current = _data(info).by_id.get(stored.get("id"))
		return {**stored, **current} if current else stored

	return resolve


def _location_levels(source, info, **args):
	levels = [lv for lv in _data(info).levels if lv["location"]["id"] == source["id"]]
	return paginate(_searched(info, "inventoryLevels", levels, args.get("query")), args, _sorter("ID"))


def _location_level(source, info, inventoryItemId):
	return next(
		(
			lv
			for lv in _data(info).levels
			if lv["location"]["id"] == source["id"] and lv["item"]["id"] == inventoryItemId
		),
		None,
	)


def _item_levels(source, info, **args):
	levels = [lv for lv in _data(info).levels if lv["item"]["id"] == source["id"]]
	return paginate(_searched(info, "inventoryLevels", levels, args.get("query")), args, _sorter("ID"))


def _item_level(source, info, locationId):
	return next(
		(
			lv
			for lv in _data(info).levels
			if lv["item"]["id"] == source["id"] and lv["location"]["id"] == locationId
		),
		None,
	)


def _quantities(source, info, names):
	return [q for q in source.get("quantities") or [] if q["name"] in names]


def _webhook_subscriptions(_, info, **args):
	subscriptions = list(info.context["emulator"].webhooks.values())
	if args.get("topics"):
		subscriptions = [s for s in subscriptions if s["topic"] in args["topics"]]
	if args.get("uri"):
		subscriptions = [s for s in subscriptions if s["uri"] == args["uri"]]
	return paginate(subscriptions, args, _sorter(args.get("sortKey")))


def _payouts(_, info, **args):
	found = _searched(info, "payouts", _data(info).payouts, args.get("query"))
	if args.get("transactionType"):
		found = [p for p in found if p.get("transactionType") == args["transactionType"]]
	return paginate(found, args, _sorter(args.get("sortKey")))


def _balance_transactions(_, info, **args):
	transactions = _data(info).balance_transactions
	if args.get("hideTransfers"):
		transactions = [t for t in transactions if t.get("type") != "TRANSFER"]
	found = _searched(info, "balanceTransactions", transactions, args.get("query"))
	return paginate(found, args, _sorter(args.get("sortKey"), BALANCE_SORT_FIELDS))


def _set_quantities(_, info, input):
	return info.context["emulator"].set_quantities(_data(info), input)


def _webhook_create(_, info, topic, webhookSubscription):
	return info.context["emulator"].create_webhook(topic, webhookSubscription)


def _webhook_delete(_, info, id):
	return info.context["emulator"].delete_webhook(id)


def build_shopify_schema() -> GraphQLSchema:
	schema = build_schema(SCHEMA_FILE.read_text())
	query, mutation = schema.query_type, schema.mutation_type
	roots = {
		"shop": lambda _, info: _data(info).shop,
		"node": lambda _, info, id: _data(info).node(id),
		"nodes": lambda _, info, ids: [_data(info).node(i) for i in ids],
		"product": _by_id("Product"),
		"customer": _by_id("Customer"),
		"order": _by_id("Order"),
		"location": _by_id("Location"),
		"inventoryLevel": _by_id("InventoryLevel"),
		"products": _root_connection("products", lambda d: d.products),
		"productVariants": _root_connection("productVariants", lambda d: d.variants),
		"customers": _root_connection("customers", lambda d: d.customers),
		"orders": _root_connection("orders", lambda d: d.orders),
		"events": _root_connection("events", lambda d: d.events),
		"locations": _root_connection("locations", lambda d: d.locations),
		"webhookSubscriptions": _webhook_subscriptions,
		"shopifyPaymentsAccount": lambda _, info: _data(info).payments_account,
	}
	for name, resolver in roots.items():
		query.fields[name].resolve = resolver
	mutation.fields["inventorySetQuantities"].resolve = _set_quantities
	mutation.fields["webhookSubscriptionCreate"].resolve = _webhook_create
	mutation.fields["webhookSubscriptionDelete"].resolve = _webhook_delete
	special = {
		("Location", "inventoryLevels"): _location_levels,
		("Location", "inventoryLevel"): _location_level,
		("InventoryItem", "inventoryLevels"): _item_levels,
		("InventoryItem", "inventoryLevel"): _item_level,
		("InventoryLevel", "quantities"): _quantities,
		("ShopifyPaymentsAccount", "payouts"): _payouts,
		("ShopifyPaymentsAccount", "balanceTransactions"): _balance_transactions,
	}
	for type_ in schema.type_map.values():
		if (
			not isinstance(type_, GraphQLObjectType)
			or type_ in (query, mutation)
			or type_.name.startswith("__")
		):
			continue
		if type_.name.endswith(("Connection", "Edge")):
			continue
		for name, field in type_.fields.items():
			named = get_named_type(field.type)
			bare = field.type.of_type if is_non_null_type(field.type) else field.type
			if (type_.name, name) in special:
				field.resolve = special[(type_.name, name)]
			elif named.name.endswith("Connection"):
				field.resolve = _nested_connection(name)
			elif is_list_type(bare) and "first" in field.args:
				field.resolve = _nested_list(name)
			elif not is_list_type(bare) and named.name in REFERENCED_TYPES:
				field.resolve = _reference(name)
	for type_ in schema.type_map.values():
		if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
			type_.resolve_type = _resolve_type
	return schema


def _resolve_type(value, info, abstract_type):
	return value.get("__typename") or gid_type(value.get("id") or "")


def _shopify_error(error: GraphQLError) -> dict:
	"""graphql-core's validation wording, rewritten where Shopify words it differently."""
	formatted = error.formatted
	match = re.match(r"Cannot query field '(\w+)' on type '(\w+)'", error.message)
	if match:
		field, type_name = match.groups()
		formatted["message"] = f"Field '{field}' doesn't exist on type '{type_name}'"
		formatted["extensions"] = {"code": "undefinedField", "typeName": type_name, "fieldName": field}
	return formatted


# -- the emulator ----------------------------------------------------------------------------


class ShopifyEmulator(Emulator):
	routes = (
		("POST", GRAPHQL_PATH, "graphql"),
		("GET", "/admin/oauth/authorize", "authorize"),
		("POST", "/admin/oauth/access_token", "access_token"),
	)

	def __init__(
		self,
		data_dir,
		clock: Callable[[], float] = time.monotonic,
		maximum_available: float = 2000.0,
		restore_rate: float = 100.0,
	):
		super().__init__(data_dir)
		self.app = self.read_json("app.json")
		self.schema = build_shopify_schema()
		self.clock = clock
		self._bucket_settings = (maximum_available, restore_rate)
		self.bucket = CostBucket(maximum_available, restore_rate, clock)
		self.webhooks: dict[str, dict] = {}
		self.inventory_changes: dict[str, dict] = {}
		self.files = DatasetFiles()
		self._state_lock = threading.Lock()
		self._next_id = 1
		self._reset_oauth()

	def reset_state(self) -> None:
		self.bucket = CostBucket(*self._bucket_settings, self.clock)
		with self._state_lock:
			self.webhooks.clear()
			self.inventory_changes.clear()
			self._reset_oauth()

	def _reset_oauth(self) -> None:
		self.codes: dict[str, tuple[str, ...]] = {}  # authorization code -> the scopes it grants
		self.tokens: dict[str, tuple[str, ...]] = {}  # access tokens OAuth issued -> their scopes
		self.deny_consent = False
		self.withheld_scopes: set[str] = set()

	def throttle(self, maximum=None, restore_rate=None, available=None) -> None:
		"""Resize the bucket or drain it, so that a test can force throttling."""
		self.bucket.set(maximum, restore_rate, available)

	# -- GraphQL ---------------------------------------------------------------------------------
	def describe(self, request: Request) -> dict:
		"""Every GraphQL call goes to one path: the log names the operation it ran."""
		if not request.path.endswith("/graphql.json"):
			return {}
		try:
			body = request.json() or {}
			match = OPERATION_NAME.search(body.get("query") or "")
		except (ValueError, AttributeError):
			return {}
		return {"operation": body.get("operationName") or (match.group(1) if match else None)}

	def graphql(self, request: Request) -> Response:
		token = request.headers.get("x-shopify-access-token")
		if token != self.app["access_token"] and token not in self.tokens:
			return Response(401, {"errors": INVALID_TOKEN})
		try:
			body = request.json() or {}
			document = parse(body["query"])
		except (ValueError, KeyError, TypeError):
			return Response(400, {"errors": {"query": "Required parameter missing or invalid"}})
		except GraphQLError as exc:
			return Response(200, {"errors": [exc.formatted]})
		errors = validate(self.schema, document)
		if errors:
			return Response(200, {"errors": [_shopify_error(e) for e in errors]})
		operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
		name = body.get("operationName")
		operation = next((o for o in operations if not name or (o.name and o.name.value == name)), None)
		if operation is None:
			return Response(200, {"errors": [{"message": f"No operation named {name!r}"}]})
		variables = body.get("variables") or {}
		cost = QueryCost(self.schema, document, variables)
		requested = cost.operation(operation)
		if requested > MAX_QUERY_COST:
			return Response(200, self._too_expensive(requested))
		if not self.bucket.take(requested):
			return Response(
				200,
				{
					"errors": [
						{
							"message": "Throttled",
							"extensions": {
								"code": "THROTTLED",
								"documentation": "https://shopify.dev/api/usage/rate-limits",
							},
						}
					],
					"extensions": {"cost": self._cost(requested, None)},
				},
			)
		context = {"emulator": self, "dataset": Dataset(self), "search_warnings": []}
		result = execute(
			self.schema, document, context_value=context, variable_values=variables, operation_name=name
		)
		actual = min(requested, cost.operation(operation, result.data or {}))
		self.bucket.give_back(requested - actual)
		answer: dict[str, Any] = {}
		if result.errors:
			answer["errors"] = [e.formatted for e in result.errors]
		answer["data"] = result.data
		answer["extensions"] = {"cost": self._cost(requested, actual)}
		if context["search_warnings"]:
			answer["extensions"]["search"] = context["search_warnings"]
		return Response(200, answer)

	def _cost(self, requested: int, actual: int | None) -> dict:
		return {
			"requestedQueryCost": requested,
			"actualQueryCost": actual,
			"throttleStatus": self.bucket.status(),
		}

	def _too_expensive(self, requested: int) -> dict:
		return {
			"errors": [
				{
					"message": f"Query cost is {requested}, which exceeds the single query max cost limit "
					f"({MAX_QUERY_COST}).",
					"extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST},
				}
			]
		}

	def _new_gid(self, kind: str) -> str:
		with self._state_lock:
			self._next_id += 1
			return f"gid://shopify/{kind}/{900000 + self._next_id}"

	# -- mutations -------------------------------------------------------------------------------
	def set_quantities(self, dataset: Dataset, spec: dict) -> dict:
		errors = []
		name, reason = spec["name"], spec["reason"]
		if name not in INVENTORY_NAMES:
			errors.append(
				("INVALID_NAME", ["input", "name"], f"The quantity name must be one of {INVENTORY_NAMES}.")
			)
		if reason not in INVENTORY_REASONS:
			errors.append(("INVALID_REASON", ["input", "reason"], "The specified reason is invalid."))
		changes = []
		for index, row in enumerate(spec["quantities"]):
			at = ["input", "quantities", str(index)]
			item, location = row["inventoryItemId"], row["locationId"]
			if gid_type(item) != "InventoryItem" or item not in dataset.by_id:
				errors.append(
					(
						"INVALID_INVENTORY_ITEM",
						[*at, "inventoryItemId"],
						"The specified inventory item could not be found.",
					)
				)
				continue
			if gid_type(location) != "Location" or location not in dataset.by_id:
				errors.append(
					("INVALID_LOCATION", [*at, "locationId"], "The specified location could not be found.")
				)
				continue
			level = next(
				(
					lv
					for lv in dataset.levels
					if lv["item"]["id"] == item and lv["location"]["id"] == location
				),
				None,
			)
			if level is None:
				errors.append(
					(
						"ITEM_NOT_STOCKED_AT_LOCATION",
						[*at, "locationId"],
						"The item is not stocked at the location.",
					)
				)
				continue
			if abs(row["quantity"]) > 1_000_000_000:
				errors.append(
					(
						"INVALID_QUANTITY_TOO_HIGH",
						[*at, "quantity"],
						"The quantity can't be higher than 1,000,000,000.",
					)
				)
				continue
			current = {q["name"]: q["quantity"] for q in level["quantities"]}
			if row.get("changeFromQuantity") is not None and row["changeFromQuantity"] != current.get(name):
				errors.append(
					(
						"CHANGE_FROM_QUANTITY_STALE",
						[*at, "changeFromQuantity"],
						"The changeFromQuantity is stale.",
					)
				)
				continue
			changes.append((level, current, row["quantity"] - current.get(name, 0)))
		if errors:
			return {
				"inventoryAdjustmentGroup": None,
				"userErrors": [{"code": c, "field": f, "message": m} for c, f, m in errors],
			}
		stamp, reported = now_iso(), []
		with self._state_lock:
			for level, current, delta in changes:
				for quantity_name in ("available", "on_hand"):
					current[quantity_name] = current.get(quantity_name, 0) + delta
				quantities = [{"name": k, "quantity": v} for k, v in current.items()]
				self.inventory_changes[level["id"]] = {"quantities": quantities, "updatedAt": stamp}
				for quantity_name in ("available", "on_hand"):
					reported.append(
						{
							"name": quantity_name,
							"delta": delta,
							"quantityAfterChange": current[quantity_name],
							"item": level["item"],
							"location": level["location"],
						}
					)
		group = {
			"id": self._new_gid("InventoryAdjustmentGroup"),
			"createdAt": stamp,
			"reason": reason,
			"referenceDocumentUri": spec.get("referenceDocumentUri"),
			"changes": reported,
		}
		return {"inventoryAdjustmentGroup": group, "userErrors": []}

	def create_webhook(self, topic: str, spec: dict) -> dict:
		uri = spec.get("uri") or ""
		error = None
		if not uri:
			error = "Address can't be blank"
		elif not uri.startswith("https://"):
			error = f"Address protocol {uri.split('://', 1)[0]}:// is not supported"
		elif any(s["topic"] == topic and s["uri"] == uri for s in self.webhooks.values()):
			error = "Address for this topic has already been taken"
		if error:
			return {
				"webhookSubscription": None,
				"userErrors": [{"field": ["webhookSubscription", "uri"], "message": error}],
			}
		stamp = now_iso()
		subscription = {
			"id": self._new_gid("WebhookSubscription"),
			"topic": topic,
			"uri": uri,
			"format": spec.get("format") or "JSON",
			"createdAt": stamp,
			"updatedAt": stamp,
		}
		with self._state_lock:
			self.webhooks[subscription["id"]] = subscription
		return {"webhookSubscription": subscription, "userErrors": []}

	def delete_webhook(self, gid: str) -> dict:
		with self._state_lock:
			removed = self.webhooks.pop(gid, None)
		if removed is None:
			return {
				"deletedWebhookSubscriptionId": None,
				"userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
			}
		return {"deletedWebhookSubscriptionId": gid, "userErrors": []}

	# -- OAuth -----------------------------------------------------------------------------------
	def authorize(self, request: Request) -> Response:
		"""The consent page, answered at once as the store owner set it (/_emulator/consent): a redirect
		with a code, or with error=access_denied when declined."""
		redirect_uri, state = request.arg("redirect_uri"), request.arg("state") or ""
		if request.arg("client_id") != self.app["client_id"] or not redirect_uri:
			return Response(400, "Oauth error invalid_request: The client_id or redirect_uri is not valid")
		if self.deny_consent:
			query = urlencode({"error": "access_denied", "state": state})
			return Response(302, "", {"Location": f"{redirect_uri}?{query}"})
		asked = {s.strip() for s in (request.arg("scope") or "").split(",") if s.strip()}
		code = "emu-code-" + os.urandom(12).hex()
		with self._state_lock:
			self.codes[code] = tuple(sorted(asked - self.withheld_scopes))
		shop = self.app["shop_domain"]
		admin = base64.b64encode(f"admin.shopify.com/store/{shop.split('.')[0]}".encode()).decode()
		params = {
			"code": code,
			"host": admin,
			"shop": shop,
			"state": state,
			"timestamp": str(int(time.time())),
		}
		params["hmac"] = sign_query(params, self.app["api_secret"])
		return Response(302, "", {"Location": f"{redirect_uri}?{urlencode(params)}"})

	def access_token(self, request: Request) -> Response:
		"""The code (once, for the app's client id and secret) for an offline access token."""
		if request.headers.get("content-type", "").startswith("application/json"):
			form = request.json() or {}
		else:
			form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
		if (
			form.get("client_id") != self.app["client_id"]
			or form.get("client_secret") != self.app["api_secret"]
		):
			return Response(
				400, {"error": "invalid_client", "error_description": "Client credentials are invalid"}
			)
		with self._state_lock:
			scopes = self.codes.pop(form.get("code") or "", None)
			if scopes is None:
				return Response(
					400,
					{
						"error": "invalid_request",
						"error_description": "The authorization code was not found or was already used",
					},
				)
			token = "shpat_" + os.urandom(16).hex()
			self.tokens[token] = scopes
		return Response(200, {"access_token": token, "scope": ",".join(scopes)})

	def revoke(self, token: str | None = None) -> None:
		"""The token (every one OAuth issued when None) stops working, as when the app is uninstalled."""
		with self._state_lock:
			for issued in [token] if token else list(self.tokens):
				self.tokens.pop(issued, None)

	# -- webhooks and control --------------------------------------------------------------------
	def send_webhook(
		self, url: str, topic: str, payload: Any, webhook_id: str | None = None
	) -> requests.Response:
		"""Deliver a webhook to url signed with the dataset's app secret."""
		return send_webhook(
			url, topic, payload, self.app["api_secret"], self.app["shop_domain"], webhook_id=webhook_id
		)

	def control(self, request: Request) -> Response:
		action = (request.method, request.path)
		if action == ("POST", "/_emulator/throttle"):
			spec = request.json() or {}
			self.throttle(
				spec.get("maximumAvailable"), spec.get("restoreRate"), spec.get("currentlyAvailable")
			)
			return Response(200, self.bucket.status())
		if action == ("POST", "/_emulator/webhook"):
			spec = request.json()
			webhook_id = spec.get("webhook_id") or str(uuid.uuid4())
			sent = self.send_webhook(spec["url"], spec["topic"], spec["payload"], webhook_id)
			return Response(200, {"status": sent.status_code, "body": sent.text, "webhook_id": webhook_id})
		if action == ("POST", "/_emulator/consent"):
			spec = request.json() or {}
			with self._state_lock:
				self.deny_consent = bool(spec.get("deny"))
				self.withheld_scopes = set(spec.get("withhold") or ())
			return Response(200, {"ok": True})
		if action == ("POST", "/_emulator/revoke"):
			self.revoke((request.json() or {}).get("token"))
			return Response(200, {"ok": True})
		return super().control(request)
