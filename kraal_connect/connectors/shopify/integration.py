"""Shopify on a site: the store's products, customers, orders and stock as ERPNext documents, and
ERPNext's available quantities back to Shopify when ERPNext holds the stock."""

import re
from dataclasses import replace
from functools import cached_property

import frappe
from erpnext.stock.utils import get_stock_balance
from frappe import _
from frappe.utils import flt

from kraal_connect.connectors.shopify import authorization, discovery, mapping, sources, streams
from kraal_connect.connectors.shopify.client import INVENTORY_BATCH_SIZE, WEBHOOK_TOPICS, ShopifyApi, batches
from kraal_connect.connectors.shopify.mapping import (
	GATEWAY_MAPPING,
	INVENTORY,
	LOCATION_MAPPING,
	ORDERS,
	PAYOUT_BANK,
	PAYOUT_TYPE,
	PAYOUTS,
	PRODUCTS,
	TAX_MAPPING,
)
from kraal_connect.connectors.shopify.mapping.orders import delivered_rows, sales_order_row_lines
from kraal_connect.engine import platform_stock, selling_totals, writer
from kraal_connect.engine.connector import Connector
from kraal_connect.engine.errors import AuthenticationError, RecordError, SyncError, TransientError
from kraal_connect.engine.records import Change, Target, external_type
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.suggestions import Discovered

# Kraal Account Mapping key type for the accounts an integration may book to besides gateways and
# taxes; its keys are SHIPPING_KEY (shipping as a charge instead of an item line) and DISCREPANCY_KEY.
ACCOUNT_MAPPING = "Shopify Account"
SHIPPING_KEY = "Shipping"
DISCREPANCY_KEY = "Refund Discrepancy"

# Where ERPNext's stock waits to be pushed (see push_key), and the entity its Sync Log counts it under.
INVENTORY_PUSH = "inventory"

# Records of the integration's own setup (fallback item, shipping item, guest customer) are linked under
# this external type, so they are known as written by the integration.
SETUP = "setup"
FALLBACK_ITEM_CODE = "SHOPIFY-DELETED"
SHIPPING_ITEM_CODE = "SHOPIFY-SHIPPING"

# The guest endpoint Shopify delivers webhooks to (endpoints.py), and the entity of the Sync Log row
# that tells when subscribing to it failed.
WEBHOOK_METHOD = "kraal_connect.connectors.shopify.endpoints.webhook"
WEBHOOKS = "webhook"

SHOPIFY_SOURCE, ERPNEXT_SOURCE = "Shopify", "ERPNext"
# Shopify answers at most this many ids in one nodes(ids:) query.
NODES_PER_QUERY = 250
VARIANT_LINK = re.compile(rf"^{PRODUCTS}:variant:(\d+)$")


class ShopifyConnector(Connector):
	vendor = "Shopify"
	entities = streams.ENTITIES
	written_after = streams.WRITTEN_AFTER
	# The only hosts its API Base URL may name (engine/endpoints.py).
	api_hosts = ("*.myshopify.com",)
	fetches_one = frozenset(streams.ENTITIES)
	mapping_targets = {
		LOCATION_MAPPING: "Warehouse",
		GATEWAY_MAPPING: "Account",
		TAX_MAPPING: "Account",
		ACCOUNT_MAPPING: "Account",
		PAYOUT_BANK: "Account",
		PAYOUT_TYPE: "Account",
	}
	# A gateway's clearing account and a payout's bank hold money; a tax title's account is owed.
	mapping_root_types = {GATEWAY_MAPPING: "Asset", PAYOUT_BANK: "Asset", TAX_MAPPING: "Liability"}
	# Payouts are booked as deposits into the bank (engine/deposits matches them to bank transactions).
	deposit_entities = {PAYOUTS: PAYOUT_BANK}
	# Not every store uses Shopify Payments, and its payouts need a scope of their own.
	switched_off = (PAYOUTS,)
	pushes = ("Stock Ledger Entry",)
	push_channels = (INVENTORY_PUSH,)
	dated_entities = {ORDERS: "orders"}
	# This run's Kraal Sync Log, which prepare() finds: notes about orders go on it.
	sync_log: str | None = None
	# Whether ERPNext invoices in another currency than the customer's receivable account's.
	multi_currency_invoices = False
	record_types = sources.RECORD_TYPES

	@classmethod
	def source_url(cls, integration, external_type: str, external_id: str) -> str | None:
		return sources.admin_url(integration.external_account, external_type, external_id)

	@cached_property
	def api(self) -> ShopifyApi:
		doc = self.integration
		token = doc.get_password("access_token", raise_exception=False)
		if not doc.external_account or not token:
			raise AuthenticationError(
				"Set the store domain (External Account) and the Admin API access token"
			)
		try:
			return ShopifyApi(doc.external_account, token, base_url=doc.api_base_url or None)
		except ValueError as exc:
			raise SyncError(f"External Account: {exc}") from None

	# -- Shopify -> ERPNext -----------------------------------------------------------------------
	def prepare(self, stats: RunStats) -> mapping.ShopifyContext:
		doc = self.integration
		authorization.check_granted(doc)  # a scope the store did not grant is named before any call
		shop, locations = self.caller(self.api.shop_and_locations)
		company_currency = frappe.get_cached_value("Company", doc.company, "default_currency")
		if shop.get("currencyCode") != company_currency:
			raise SyncError(
				f"Shopify store {shop.get('name')} keeps its money in {shop.get('currencyCode')}, but company "
				f"{doc.company} keeps its books in {company_currency}"
			)
		if doc.external_account != self.api.shop_domain:
			doc.db_set("external_account", self.api.shop_domain)
		self._add_location_rows(locations)
		accounts = self._mapped(ACCOUNT_MAPPING)
		item_group = frappe.db.get_single_value("Stock Settings", "item_group") or _leaf(
			"Item Group", "Products"
		)
		stock_uom = frappe.db.get_single_value("Stock Settings", "stock_uom") or "Nos"
		# Customers need a customer group that is not a group; any territory will do.
		customer_group = _leaf(
			"Customer Group", frappe.db.get_single_value("Selling Settings", "customer_group") or "Individual"
		)
		territory = frappe.db.get_single_value("Selling Settings", "territory") or _leaf("Territory", None)
		shipping_account = accounts.get(SHIPPING_KEY)
		if not _exists("Item", doc.fallback_item):
			self._set_up(
				"fallback_item", _service_item(FALLBACK_ITEM_CODE, "Deleted Shopify product", item_group)
			)
		if not _exists("Item", doc.shipping_item) and not shipping_account:
			self._set_up("shipping_item", _service_item(SHIPPING_ITEM_CODE, "Shopify shipping", item_group))
		if not _exists("Customer", doc.guest_customer):
			guest = {
				"doctype": "Customer",
				"customer_name": f"Shopify guest ({shop.get('name') or self.api.shop_domain})"[:140],
				"customer_type": "Individual",
				"customer_group": customer_group,
				"territory": territory,
			}
			self._set_up("guest_customer", guest)
		self._register_webhooks(stats)
		warehouses = self._mapped(LOCATION_MAPPING)
		self.multi_currency_invoices = bool(
			frappe.db.get_single_value(
				"Accounts Settings", "allow_multi_currency_invoices_against_single_party_account"
			)
		)
		self.sync_log = frappe.db.get_value(
			"Kraal Sync Log", {"integration": doc.name, "status": "Running"}, order_by="creation desc"
		)
		return mapping.ShopifyContext(
			company=doc.company,
			company_currency=company_currency,
			price_list=self._price_list(),
			item_group=item_group,
			customer_group=customer_group,
			territory=territory,
			receivable_account=_company_account(doc.company, "default_receivable_account"),
			default_warehouse=self._default_warehouse(locations, warehouses),
			fallback_item=doc.fallback_item,
			guest_customer=doc.guest_customer,
			shipping_item=doc.shipping_item or None,
			shipping_account=None if doc.shipping_item else shipping_account,
			refund_discrepancy_account=accounts.get(DISCREPANCY_KEY),
			round_off_account=frappe.get_cached_value("Company", doc.company, "round_off_account"),
			rounding_method=frappe.get_system_settings("rounding_method") or selling_totals.LEGACY,
			timezone=shop.get("ianaTimezone") or "UTC",
			stock_uom=stock_uom,
			warehouses=warehouses,
			gateway_accounts=self._mapped(GATEWAY_MAPPING),
			tax_accounts=self._mapped(TAX_MAPPING),
			countries={
				c.code.upper(): c.name for c in frappe.get_all("Country", fields=["name", "code"]) if c.code
			},
			shopify_holds_stock=doc.inventory_source == SHOPIFY_SOURCE,
			default_valuation_rate=flt(doc.get("default_valuation_rate")),
			order_prefix=doc.order_prefix or "",
			payout_banks=self._mapped(PAYOUT_BANK),
			payout_accounts=self._mapped(PAYOUT_TYPE),
		)

	def streams(self):
		api = self.api
		result = [
			replace(streams.products_stream(api), map=self._map_product),
			streams.customers_stream(api),
			replace(streams.orders_stream(api, start=self.orders_start()), map=self._map_order),
		]
		locations = sorted(self._mapped(LOCATION_MAPPING))
		if self.integration.inventory_source == SHOPIFY_SOURCE and locations:
			result.append(replace(streams.inventory_stream(api, locations), map=self._map_level))
		result.append(streams.payouts_stream(api, start=self.orders_start()))
		return result

	def fetch_one(self, entity: str, external_id: str) -> Change | None:
		return streams.fetch_one(self.api, entity, external_id)

	def orders_start(self) -> str | None:
		"""Sync From as Shopify's search takes it: orders updated from that day on."""
		start = self.sync_start()
		return f"{start.isoformat()}T00:00:00Z" if start else None

	def discover(self) -> list[Discovered]:
		found = discovery.discover(self.api, self.caller, self.orders_start())
		if any(row.entity == PAYOUTS and row.enabled for row in self.integration.entities):
			found += discovery.payout_keys(self.api, self.caller, self.orders_start())
		return found

	def webhook_entities(self) -> set[str]:
		"""The entities a webhook may queue: those this integration syncs now."""
		enabled = {row.entity for row in self.integration.entities if row.enabled}
		streamed = {ORDERS, PRODUCTS, mapping.CUSTOMERS}
		if self.integration.inventory_source == SHOPIFY_SOURCE and self._mapped(LOCATION_MAPPING):
			streamed.add(INVENTORY)
		return enabled & streamed

	def test_connection(self) -> str:
		shop = self.caller(self.api.shop)
		message = _("Connected to {0} ({1}); it sells in {2}").format(
			shop.get("name"), shop.get("myshopifyDomain") or self.api.shop_domain, shop.get("currencyCode")
		)
		company_currency = frappe.get_cached_value("Company", self.integration.company, "default_currency")
		if shop.get("currencyCode") != company_currency:
			message += ". " + _("Company {0} keeps its books in {1}: orders will not sync").format(
				self.integration.company, company_currency
			)
		return message

	# The streams' mappers, with what they need from the site done first.
	def _map_product(self, product, ctx: mapping.ShopifyContext):
		"""The product's Items and prices, its Item Attributes made first. An Item the firm already keeps
		under the SKU is taken over by the writer; so is its price in the price list."""
		ensure_item_attributes(mapping.required_attributes(product))
		targets = mapping.product_targets(product, ctx)
		item_codes = {
			t.key.removeprefix("variant:"): t.doc["item_code"]
			for t in targets
			if t.key.startswith("variant:")
		}
		for target in targets:
			if target.key.startswith("price:"):
				existing = frappe.db.get_value(
					"Item Price",
					{
						"item_code": item_codes[target.key.removeprefix("price:")],
						"price_list": ctx.price_list,
					},
				)
				if existing:
					target.doc["name"] = existing
		return targets

	def _map_order(self, order, ctx: mapping.ShopifyContext):
		"""The order's documents, the Sales Order written first so the others can point at its rows, and
		for lines booked against the fallback Item (their product is gone at Shopify) a note on this
		run's Sync Log, written with the order's documents."""
		targets = mapping.order_targets(order, ctx)
		foreign = {t.doc["currency"] for t in targets if t.doc.get("doctype") == "Sales Invoice"}
		if foreign - {ctx.company_currency} and not self.multi_currency_invoices:
			raise RecordError(
				f"Shopify order {order.get('name')}: field 'presentmentCurrencyCode' is {', '.join(foreign)}; "
				"enable 'Allow multi-currency invoices against single party account' in Accounts Settings"
			)
		lines = mapping.fallback_lines(order)
		if lines and self.sync_log:
			note = {
				"doctype": "Comment",
				"comment_type": "Info",
				"reference_doctype": "Kraal Sync Log",
				"reference_name": self.sync_log,
				"content": _("Shopify order {0}: booked with the fallback item {1} for {2}").format(
					order.get("name"), ctx.fallback_item, "; ".join(lines)
				),
			}
			# Once an order: a later version of it (a timestamp that moved, say) books nothing new.
			targets.append(Target("fallback_note", note, create_only=True))
		return self._point_at_sales_order_rows(order, targets, ctx)

	def _point_at_sales_order_rows(self, order, targets: list[Target], ctx) -> list[Target]:
		"""ERPNext follows a Sales Order's delivery and billing, and frees the stock it reserved, through
		Delivery Note and Sales Invoice rows that name its rows (so_detail). A Ref names a document, not a
		row, and the rows have names only once the Sales Order is written: so it is written here, with the
		targets before it, inside the record's own savepoint (the engine's: what fails here undoes the
		whole record), the writer skipping it when the record's targets are written, and the later
		documents' rows are pointed at its rows.

		A paid order Shopify cancelled cannot cancel its Sales Order (the invoice holds it; the refund's
		credit note undoes the invoice): the Sales Order is closed, which frees its stock, and documents
		written after that no longer name it, since ERPNext books nothing new against a closed order. A
		document written before keeps naming it as it does, so a later version of the order maps to it
		unchanged.
		"""
		position = next((i for i, t in enumerate(targets) if t.key == ""), None)
		if position is None or targets[position].doc.get("docstatus") == 2:
			return targets
		pointing = [
			t
			for t in targets[position + 1 :]
			if t.doc.get("doctype") in ("Sales Invoice", "Delivery Note") and not t.doc.get("is_return")
		]
		if not pointing:
			return targets
		cancelled = bool(order.get("cancelledAt"))
		for target in targets[: position + 1]:
			writer.upsert(
				self.integration.name,
				external_type(ORDERS, target.key),
				order["id"],
				order["updatedAt"],
				target.doc,
				conflict_rule=self.integration.get("conflict_rule"),
			)
		sales_order = writer.linked_name(self.integration.name, ORDERS, order["id"])
		if cancelled:
			_close(sales_order)
		# Its rows by its creation too: a Sales Order of the same name that another process deleted
		# (freeing the number) may still show its rows in this transaction's snapshot.
		created = frappe.db.get_value("Sales Order", sales_order, "creation")
		rows = frappe.get_all(
			"Sales Order Item",
			filters={"parent": sales_order, "parenttype": "Sales Order", "creation": created},
			order_by="idx",
			pluck="name",
		)
		so_items = targets[position].doc["items"]
		so_rows = [
			(line_id, name, row["qty"])
			for line_id, name, row in zip(sales_order_row_lines(order, ctx), rows, so_items, strict=False)
		]
		remaining = {name: qty for _, name, qty in so_rows}
		fulfillments = {mapping.legacy_id(f["id"]): f for f in order.get("fulfillments") or []}
		for target in pointing:
			doc = target.doc
			if cancelled and not self._names_sales_order(order, target, sales_order):
				for row in doc["items"]:
					row.pop("sales_order", None)
					row.pop("against_sales_order", None)
			elif doc["doctype"] == "Sales Invoice" and len(doc["items"]) == len(rows):
				for row, so_detail in zip(doc["items"], rows, strict=True):
					row.update(sales_order=sales_order, so_detail=so_detail)
			elif doc["doctype"] == "Delivery Note":
				shipped = fulfillments[target.key.removeprefix("delivery:")]["fulfillmentLineItems"]["nodes"]
				lines = [(row, s["lineItem"]["id"]) for row, s in zip(doc["items"], shipped, strict=True)]
				# A cancelled delivery takes nothing from what the Sales Order rows have left.
				used = remaining if doc.get("docstatus") == 1 else dict(remaining)
				doc["items"] = [
					{**row, "against_sales_order": sales_order}
					for row in delivered_rows(lines, so_rows, used)
				]
		return targets

	def _names_sales_order(self, order, target: Target, sales_order: str) -> bool:
		"""Whether the document a target wrote names the Sales Order: it was written before Shopify
		cancelled the order, not with or after the cancellation."""
		link = writer.find_link(self.integration.name, external_type(ORDERS, target.key), order["id"])
		if not link:
			return False
		fieldname = "sales_order" if link.reference_doctype == "Sales Invoice" else "against_sales_order"
		return bool(
			frappe.db.exists(
				f"{link.reference_doctype} Item",
				{
					"parent": link.reference_name,
					"parenttype": link.reference_doctype,
					fieldname: sales_order,
				},
			)
		)

	def _map_level(self, level, ctx: mapping.ShopifyContext):
		"""A Stock Reconciliation valued at ERPNext's valuation rate of the moment (or the Item's, Shopify's
		cost, before any stock; else the integration's Default Valuation Rate, else zero), or None when
		ERPNext already holds Shopify's quantity then: ERPNext refuses a reconciliation that changes
		nothing."""
		doc = mapping.stock_reconciliation(level, ctx)
		if doc is None:
			return None
		row = doc["items"][0]
		item_code = writer.linked_name(
			self.integration.name, row["item_code"].external_type, row["item_code"].external_id
		)
		if not item_code:
			return doc  # the writer names the missing Item
		platform_stock.counted(
			self.integration.name,
			level["id"],
			item_code,
			row["warehouse"],
			row["qty"],
			f"{doc['posting_date']} {doc['posting_time']}",
		)
		qty, rate = get_stock_balance(
			item_code, row["warehouse"], doc["posting_date"], doc["posting_time"], with_valuation_rate=True
		)[:2]
		if flt(qty) == flt(row["qty"]):
			return None
		row["valuation_rate"] = (
			flt(rate)
			or flt(frappe.db.get_value("Item", item_code, "valuation_rate"))
			or ctx.default_valuation_rate
		)
		if not row["valuation_rate"]:
			row["allow_zero_valuation_rate"] = 1  # no cost anywhere: at zero, never a refusal
		return doc

	# -- ERPNext -> Shopify -----------------------------------------------------------------------
	def push_key(self, doc, event: str) -> tuple[str, str] | None:
		"""A stock movement in a warehouse mapped to a Shopify location, when ERPNext holds the stock."""
		if self.integration.inventory_source != ERPNEXT_SOURCE:
			return None
		if doc.warehouse not in self._mapped(LOCATION_MAPPING).values():
			return None
		return INVENTORY_PUSH, doc.item_code

	def push(self, channel: str, keys: list[str], stats: RunStats) -> None:
		"""Set Shopify's available quantity of these Items at every mapped location to ERPNext's: on hand
		less what sales orders hold, as Shopify's available is on hand less what its orders committed."""
		stats.entity(INVENTORY_PUSH).fetched += len(keys)
		warehouses = self._mapped(LOCATION_MAPPING)
		variants = self._shopify_variants(keys)
		unknown = set(keys) - set(variants)  # not products of this store
		stats.entity(INVENTORY_PUSH).skipped += len(unknown)
		inventory_items = {}
		variant_ids = sorted(variants.values())
		for start in range(0, len(variant_ids), NODES_PER_QUERY):
			found = self.caller(self.api.inventory_item_ids, variant_ids[start : start + NODES_PER_QUERY])
			inventory_items.update({code: found[v] for code, v in variants.items() if v in found})
		bins = frappe.get_all(
			"Bin",
			filters={
				"item_code": ("in", list(inventory_items) or [""]),
				"warehouse": ("in", list(warehouses.values())),
			},
			fields=["item_code", "warehouse", "actual_qty", "reserved_qty"],
		)
		stock = [(b.item_code, b.warehouse, flt(b.actual_qty) - flt(b.reserved_qty)) for b in bins]
		by_inventory_item = {v: k for k, v in inventory_items.items()}
		for batch in batches(
			mapping.inventory_quantities(stock, inventory_items, warehouses), INVENTORY_BATCH_SIZE
		):
			items = sorted({by_inventory_item[row["inventoryItemId"]] for row in batch})
			try:
				self.caller(self.api.set_quantities, batch)
			except (TransientError, AuthenticationError):
				raise  # the keys stay queued for the next push
			except SyncError as exc:
				for item_code in items:
					stats.fail(INVENTORY_PUSH, item_code, str(exc))
			else:
				stats.entity(INVENTORY_PUSH).updated += len(items)

	def _shopify_variants(self, item_codes: list[str]) -> dict[str, str]:
		"""Item code -> the Shopify variant it was written for, for the Items this integration wrote."""
		links = frappe.get_all(
			"Kraal External Link",
			filters={
				"integration": self.integration.name,
				"reference_doctype": "Item",
				"reference_name": ("in", item_codes or [""]),
				"external_type": ("like", f"{PRODUCTS}:variant:%"),
			},
			fields=["reference_name", "external_type"],
		)
		return {
			link.reference_name: f"gid://shopify/ProductVariant/{VARIANT_LINK.match(link.external_type)[1]}"
			for link in links
			if VARIANT_LINK.match(link.external_type)
		}

	# -- the site ---------------------------------------------------------------------------------
	def _mapped(self, key_type: str) -> dict[str, str]:
		return dict(
			frappe.get_all(
				"Kraal Account Mapping",
				filters={
					"integration": self.integration.name,
					"key_type": key_type,
					"target_name": ("is", "set"),
				},
				fields=["external_key", "target_name"],
				as_list=True,
			)
		)

	def _add_location_rows(self, locations: list[dict]) -> None:
		"""A mapping row per Shopify location, for a person to choose its Warehouse."""
		for location in locations:
			row = {
				"integration": self.integration.name,
				"key_type": LOCATION_MAPPING,
				"external_key": location["id"],
			}
			if not frappe.db.exists("Kraal Account Mapping", row):
				frappe.get_doc(
					{
						"doctype": "Kraal Account Mapping",
						**row,
						"external_name": location.get("name"),
						"target_doctype": "Warehouse",
					}
				).insert(ignore_permissions=True)

	def _set_up(self, fieldname: str, doc: dict) -> None:
		"""Create a document the integration needs (or take over one of that name) and remember it."""
		writer.ensure(self.integration.name, SETUP, fieldname, "", doc)
		self.integration.db_set(fieldname, writer.linked_name(self.integration.name, SETUP, fieldname))

	def _register_webhooks(self, stats: RunStats) -> None:
		"""Subscribe the store's webhooks to this site once a secret can check them. Shopify delivers
		only to https, so a site without it is left to polling."""
		doc = self.integration
		if doc.webhooks_registered or not doc.get_password("webhook_secret", raise_exception=False):
			return
		if not webhook_url().startswith("https://"):
			return
		try:
			self.caller(self.api.subscribe_webhooks, webhook_url(), WEBHOOK_TOPICS)
		except SyncError as exc:
			stats.fail(WEBHOOKS, webhook_url(), f"Shopify did not subscribe the webhooks: {exc}")
		else:
			doc.db_set("webhooks_registered", 1)

	def _price_list(self) -> str:
		price_list = self.integration.price_list or frappe.db.get_single_value(
			"Selling Settings", "selling_price_list"
		)
		if not price_list:
			raise SyncError("Set the Price List the integration keeps Shopify's prices in")
		return price_list

	def _default_warehouse(self, locations: list[dict], warehouses: dict[str, str]) -> str:
		"""Where Sales Orders reserve stock: the integration's default, else the first mapped location's."""
		chosen = self.integration.default_warehouse
		if chosen:
			company = frappe.db.get_value("Warehouse", chosen, "company")
			if company != self.integration.company:
				raise SyncError(
					f"Default Warehouse {chosen} belongs to company {company}, not {self.integration.company}"
				)
			return chosen
		for location in locations:
			if location["id"] in warehouses:
				return warehouses[location["id"]]
		raise SyncError(
			"Map the Shopify locations to Warehouses under Kraal Account Mapping, or set the Default Warehouse"
		)


def webhook_url() -> str:
	return frappe.utils.get_url(f"/api/method/{WEBHOOK_METHOD}")


def _close(sales_order: str) -> None:
	doc = frappe.get_doc("Sales Order", sales_order)
	if doc.docstatus == 1 and doc.status != "Closed":
		doc.flags.ignore_permissions = True
		doc.update_status("Closed")


def ensure_item_attributes(attributes: dict[str, list[str]]) -> None:
	"""Item Attributes and values that a product's variants name, added where missing."""
	for name, values in attributes.items():
		if frappe.db.exists("Item Attribute", name):
			attribute = frappe.get_doc("Item Attribute", name)
			if attribute.numeric_values:
				continue
		else:
			attribute = frappe.get_doc({"doctype": "Item Attribute", "attribute_name": name})
		known = {row.attribute_value for row in attribute.item_attribute_values}
		missing = [value for value in values if value not in known]
		if not missing and not attribute.is_new():
			continue
		taken = {row.abbr for row in attribute.item_attribute_values}
		for value in missing:
			abbr = _free_abbreviation(value, taken)
			taken.add(abbr)
			attribute.append("item_attribute_values", {"attribute_value": value, "abbr": abbr})
		attribute.save(ignore_permissions=True)


def _free_abbreviation(value: str, taken: set[str]) -> str:
	"""The value's letters and digits in capitals, numbered when another value has them already."""
	base = re.sub(r"[^A-Za-z0-9]", "", value).upper()[:10] or "V"
	abbr, number = base, 1
	while abbr in taken:
		number += 1
		abbr = f"{base}{number}"
	return abbr


def _exists(doctype: str, name: str | None) -> bool:
	"""A setup record the integration names and still finds: one deleted since is made again."""
	return bool(name) and bool(frappe.db.exists(doctype, name))


def _service_item(item_code: str, item_name: str, item_group: str) -> dict:
	return {
		"doctype": "Item",
		"item_code": item_code,
		"item_name": item_name,
		"item_group": item_group,
		"stock_uom": frappe.db.get_single_value("Stock Settings", "stock_uom") or "Nos",
		"is_stock_item": 0,
		"is_sales_item": 1,
		"include_item_in_manufacturing": 0,
	}


def _leaf(doctype: str, preferred: str | None) -> str:
	"""The preferred node of a tree when it may be chosen on a document, else the tree's first leaf."""
	if preferred and frappe.db.get_value(doctype, preferred, "is_group") == 0:
		return preferred
	leaf = frappe.get_all(doctype, filters={"is_group": 0}, order_by="lft", pluck="name", limit=1)
	if not leaf:
		raise SyncError(f"ERPNext has no {doctype} that a document may use")
	return leaf[0]


def _company_account(company: str, fieldname: str) -> str:
	account = frappe.get_cached_value("Company", company, fieldname)
	if not account:
		label = frappe.get_meta("Company").get_label(fieldname)
		raise SyncError(f"Company {company} has no {label}")
	return account
