"""Amazon on a site: LWA credentials from the Kraal Integration, a customer per marketplace, the FBA
warehouse, and the Kraal Account Mappings the mappers book to."""

import dataclasses
from functools import partial

import frappe
from frappe import _
from frappe.utils import flt, get_datetime, getdate, now_datetime

from kraal_connect.connectors.amazon import discovery, mapping, sources
from kraal_connect.connectors.amazon.client import AmazonApi
from kraal_connect.connectors.amazon.streams import (
	ENTITIES,
	WRITTEN_AFTER,
	Listing,
	catalog_items_stream,
	fba_inventory_stream,
	listings_from,
	orders_stream,
	settlements_stream,
)
from kraal_connect.engine import platform_stock, writer
from kraal_connect.engine.connector import Connector
from kraal_connect.engine.errors import SyncError
from kraal_connect.engine.records import Stream, content_hash
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.suggestions import Discovered
from kraal_connect.engine.sync import read_pages

MAPPING = "Kraal Account Mapping"
# What prepare() sets up, as Kraal External Link types (and Sync Log entities when it fails): the
# customer of a marketplace (by marketplace id), a receivable account in a marketplace's currency (by
# currency), the warehouse of a fulfilment network (by network).
MARKETPLACES, RECEIVABLES, FULFILMENT_NETWORKS = "marketplace", "marketplace:receivable", "fulfilment"
FBA_WAREHOUSE = "Amazon FBA"


class AmazonConnector(Connector):
	vendor = "Amazon"
	entities = ENTITIES
	written_after = WRITTEN_AFTER
	# A settlement's Journal Entry deposits it on its currency's account (engine/deposits).
	deposit_entities = {mapping.SETTLEMENTS: mapping.CLEARING}
	# The only hosts its API Base URL may name (engine/endpoints.py).
	api_hosts = (
		"sellingpartnerapi-na.amazon.com",
		"sellingpartnerapi-eu.amazon.com",
		"sellingpartnerapi-fe.amazon.com",
		"sandbox.sellingpartnerapi-na.amazon.com",
		"sandbox.sellingpartnerapi-eu.amazon.com",
		"sandbox.sellingpartnerapi-fe.amazon.com",
	)
	mapping_targets = {
		mapping.FEE_TYPE: "Account",
		mapping.ORDER_CHARGE: "Account",
		mapping.MARKETPLACE: "Customer",
		mapping.FULFILMENT: "Warehouse",
		mapping.CLEARING: "Account",
		mapping.FBA_MARKETPLACE: "Warehouse",
	}
	dated_entities = {mapping.ORDERS: "orders"}
	record_types = sources.RECORD_TYPES

	@classmethod
	def source_url(cls, integration, external_type: str, external_id: str) -> str | None:
		home = next(
			(line.strip() for line in (integration.marketplace_ids or "").splitlines() if line.strip()), None
		)
		return sources.admin_url(integration.amazon_region, home, external_type, external_id)

	def __init__(self, integration, caller=None):
		super().__init__(integration, caller)
		self._api: AmazonApi | None = None
		# The listings (seller SKU, ASIN) this run's inventory and orders met, for the catalog stream.
		self._listings: list[Listing] = []

	@property
	def api(self) -> AmazonApi:
		if self._api is None:
			doc = self.integration
			base_url = (doc.api_base_url or "").rstrip("/") or None
			self._api = AmazonApi(
				doc.client_id or "",
				doc.get_password("client_secret", raise_exception=False) or "",
				doc.get_password("refresh_token", raise_exception=False) or "",
				region=doc.amazon_region or "na",
				endpoint=base_url,
				token_url=f"{base_url}/auth/o2/token" if base_url else None,
			)
		return self._api

	@property
	def marketplace_ids(self) -> list[str]:
		"""The marketplaces to sync, the home one (catalog, FBA inventory) first."""
		ids = [line.strip() for line in (self.integration.marketplace_ids or "").splitlines() if line.strip()]
		if not ids:
			raise SyncError(
				_("{0}: Marketplace IDs is empty; enter one per line (Test Connection lists them)").format(
					self.integration.name
				)
			)
		return ids

	def test_connection(self) -> str:
		participations = self.caller(self.api.marketplaces)
		if not participations:
			return _("Connected, but the seller participates in no marketplace")
		marketplaces = [p["marketplace"] for p in participations]
		message = _("Connected to {0}. Marketplaces: {1}").format(
			participations[0].get("storeName") or _("the seller account"),
			", ".join(f"{m['name']} ({m['id']}, {m['defaultCurrencyCode']})" for m in marketplaces),
		)
		configured = [line.strip() for line in (self.integration.marketplace_ids or "").splitlines()]
		unknown = [mid for mid in configured if mid and mid not in {m["id"] for m in marketplaces}]
		if unknown:
			message += ". " + _("Not participating: {0}").format(", ".join(unknown))
		return message

	# -- context -----------------------------------------------------------------------------------
	def prepare(self, stats: RunStats) -> mapping.AmazonContext:
		company = self.integration.company
		company_currency = frappe.get_cached_value("Company", company, "default_currency")
		participating = {p["marketplace"]["id"]: p["marketplace"] for p in self.caller(self.api.marketplaces)}
		unknown = [mid for mid in self.marketplace_ids if mid not in participating]
		if unknown:
			raise SyncError(
				_(
					"The seller does not participate in marketplace {0}; Test Connection lists those it does"
				).format(", ".join(unknown))
			)
		for marketplace_id in self.marketplace_ids:
			try:
				with writer.isolated():
					self._marketplace_customer(participating[marketplace_id], company_currency)
			except Exception as exc:
				stats.fail(MARKETPLACES, marketplace_id, f"Amazon marketplace {marketplace_id}: {exc}")
		try:
			with writer.isolated():
				self._fba_warehouse()
		except Exception as exc:
			stats.fail(FULFILMENT_NETWORKS, "AFN", f"Amazon fulfilment warehouse: {exc}")
		self._fba_marketplace_warehouses(participating, stats)

		mapped = self._mapped()
		customers = mapped[mapping.MARKETPLACE]
		customer_accounts = {
			customer: account
			for customer in customers.values()
			if (account := _party_account(customer, company))
		}
		fee_accounts = mapped[mapping.FEE_TYPE]
		accounts = frappe.get_all(
			"Account",
			filters={
				"name": (
					"in",
					[*fee_accounts.values(), *mapped[mapping.CLEARING].values(), *customer_accounts.values()],
				)
			},
			fields=["name", "account_type", "account_currency"],
		)
		fba_warehouses = mapped[mapping.FBA_MARKETPLACE]
		return mapping.AmazonContext(
			company=company,
			company_currency=company_currency,
			customers=customers,
			warehouses=mapped[mapping.FULFILMENT],
			charge_accounts=mapped[mapping.ORDER_CHARGE],
			fee_accounts=fee_accounts,
			clearing_accounts=mapped[mapping.CLEARING],
			receivable_accounts=frozenset(
				a.name for a in accounts if a.account_type == "Receivable" and a.name in fee_accounts.values()
			),
			customer_accounts=customer_accounts,
			account_currencies={a.name: a.account_currency or company_currency for a in accounts},
			exchange_rate=_exchange_rate_to(company_currency),
			item_group=_leaf(
				"Item Group", frappe.db.get_single_value("Stock Settings", "item_group"), "Products"
			),
			stock_uom=_stock_uom(),
			default_valuation_rate=flt(self.integration.get("default_valuation_rate")),
			round_off_account=frappe.get_cached_value("Company", company, "round_off_account"),
			rounding_method=frappe.get_system_settings("rounding_method") or mapping.selling_totals.LEGACY,
			fba_warehouses=fba_warehouses,
			fba_stock={
				warehouse: dict(
					frappe.get_all(
						"Bin",
						filters={"warehouse": warehouse},
						fields=["item_code", "actual_qty"],
						as_list=True,
					)
				)
				for warehouse in set(fba_warehouses.values())
			},
		)

	def _mapped(self) -> dict[str, dict[str, str]]:
		"""Each mapping key type's filled rows: external key -> target name."""
		mapped: dict[str, dict[str, str]] = {key_type: {} for key_type in self.mapping_targets}
		for row in frappe.get_all(
			MAPPING,
			filters={"integration": self.integration.name, "target_name": ("is", "set")},
			fields=["key_type", "external_key", "target_name"],
		):
			if row.key_type in mapped:
				mapped[row.key_type][row.external_key] = row.target_name
		return mapped

	def _mapping_row(self, key_type: str, key: str, label: str):
		name = frappe.db.get_value(
			MAPPING, {"integration": self.integration.name, "key_type": key_type, "external_key": key}
		)
		if name:
			return frappe.get_doc(MAPPING, name)
		return frappe.get_doc(
			{
				"doctype": MAPPING,
				"integration": self.integration.name,
				"key_type": key_type,
				"external_key": key,
				"external_name": label,
				"target_doctype": self.mapping_targets[key_type],
			}
		)

	def _marketplace_customer(self, marketplace: dict, company_currency: str) -> None:
		"""The customer a marketplace's orders and settlements book to: the one mapped, else one named
		after the marketplace (found or created). In a foreign currency it needs a receivable account in
		that currency: ERPNext books a customer's invoices in the currency of its receivable account."""
		row = self._mapping_row(mapping.MARKETPLACE, marketplace["name"], marketplace["id"])
		if row.target_name:
			return
		company = self.integration.company
		currency = marketplace.get("defaultCurrencyCode") or company_currency
		accounts = []
		if currency != company_currency:
			accounts = [{"company": company, "account": self._receivable_account(currency)}]
		customer = frappe.db.get_value("Customer", {"customer_name": marketplace["name"]})
		if not customer:
			customer = self._create(
				MARKETPLACES,
				marketplace["id"],
				{
					"doctype": "Customer",
					"customer_name": marketplace["name"],
					"customer_type": "Company",
					"customer_group": _leaf("Customer Group", _selling_default("customer_group")),
					"territory": _leaf("Territory", _selling_default("territory")),
					"default_currency": currency,
					"accounts": accounts,
				},
			)
		elif accounts and not _party_account(customer, company):
			existing = frappe.get_doc("Customer", customer)
			existing.extend("accounts", accounts)
			existing.save(ignore_permissions=True)
		row.target_name = customer
		row.save(ignore_permissions=True)

	def _receivable_account(self, currency: str) -> str:
		"""The company's receivable account in a currency: an existing one, else "Debtors <currency>"."""
		company = self.integration.company
		existing = frappe.db.get_value(
			"Account",
			{"company": company, "account_type": "Receivable", "account_currency": currency, "is_group": 0},
		)
		if existing:
			return existing
		default = frappe.get_cached_value("Company", company, "default_receivable_account")
		parent = frappe.db.get_value("Account", default, "parent_account") if default else None
		if not parent:
			raise SyncError(
				_("Company {0} has no default receivable account to put a {1} one beside").format(
					company, currency
				)
			)
		return self._create(
			RECEIVABLES,
			currency,
			{
				"doctype": "Account",
				"account_name": f"Debtors {currency}",
				"company": company,
				"parent_account": parent,
				"account_type": "Receivable",
				"account_currency": currency,
			},
		)

	def _fba_warehouse(self) -> None:
		"""Amazon's fulfilment network gets a warehouse of its own unless one is mapped."""
		row = self._mapping_row(mapping.FULFILMENT, "AFN", mapping.FULFILMENT_NAMES["AFN"])
		if row.target_name:
			return
		row.target_name = self._warehouse(FBA_WAREHOUSE, "AFN")
		row.save(ignore_permissions=True)

	def _fba_marketplace_warehouses(self, participating: dict, stats: RunStats) -> None:
		"""Each marketplace's FBA stock is kept in the warehouse mapped to it (key type Amazon FBA
		Marketplace); unmapped, the home marketplace's is the AFN warehouse, a Pan-European one shares
		the first Pan-European marketplace's (one pool of stock), any other gets "Amazon FBA <country>"."""
		chosen: dict[str, str] = {}
		for index, marketplace_id in enumerate(self.marketplace_ids):
			marketplace = participating[marketplace_id]
			try:
				with writer.isolated():
					row = self._mapping_row(mapping.FBA_MARKETPLACE, marketplace_id, marketplace["name"])
					if not row.target_name:
						pooled = marketplace_id in mapping.PAN_EUROPEAN and next(
							(w for m, w in chosen.items() if m in mapping.PAN_EUROPEAN), None
						)
						if index == 0 or pooled:
							row.target_name = pooled or frappe.db.get_value(
								MAPPING,
								{
									"integration": self.integration.name,
									"key_type": mapping.FULFILMENT,
									"external_key": "AFN",
								},
								"target_name",
							)
						else:
							region = (
								"EU"
								if marketplace_id in mapping.PAN_EUROPEAN
								else marketplace.get("countryCode")
							)
							row.target_name = self._warehouse(
								f"{FBA_WAREHOUSE} {region}", f"AFN {marketplace_id}"
							)
						row.save(ignore_permissions=True)
					chosen[marketplace_id] = row.target_name
			except Exception as exc:
				stats.fail(
					FULFILMENT_NETWORKS,
					marketplace_id,
					f"Amazon FBA warehouse of {marketplace['name']}: {exc}",
				)

	def _warehouse(self, name: str, network: str) -> str:
		"""The company's warehouse of this name, else one made for the fulfilment network."""
		company = self.integration.company
		existing = frappe.db.get_value("Warehouse", {"warehouse_name": name, "company": company})
		if existing:
			return existing
		created = self._create(
			FULFILMENT_NETWORKS,
			network,
			{
				"doctype": "Warehouse",
				"warehouse_name": name,
				"company": company,
				"parent_warehouse": frappe.db.get_value(
					"Warehouse", {"company": company, "is_group": 1, "parent_warehouse": ("is", "not set")}
				),
			},
		)
		# ERPNext keeps each company's warehouse -> account map for the process; it lacks this one.
		frappe.flags.pop("warehouse_account_map", None)
		return created

	def _create(self, external_type: str, external_id: str, doc: dict) -> str:
		"""A document prepare() needs, linked to the integration like the ones its streams write."""
		writer.ensure(self.integration.name, external_type, external_id, content_hash(doc), doc)
		return writer.linked_name(self.integration.name, external_type, external_id)

	# -- streams -----------------------------------------------------------------------------------
	def streams(self) -> list[Stream]:
		api, marketplace_ids = self.api, self.marketplace_ids
		home = marketplace_ids[0]
		networks = mapping.fba_networks(marketplace_ids, self._mapped()[mapping.FBA_MARKETPLACE])
		return [
			self._collecting_listings(self._keeping_counts(fba_inventory_stream(api, networks))),
			self._collecting_listings(
				orders_stream(
					api,
					self.caller,
					marketplace_ids,
					self._orders_start(),
					booked_versions=partial(writer.booked_versions, self.integration.name, mapping.ORDERS),
				)
			),
			catalog_items_stream(
				api,
				self.caller,
				home,
				self._listings,
				booked_versions=partial(writer.booked_versions, self.integration.name, mapping.CATALOG_ITEMS),
			),
			settlements_stream(api, self.caller, marketplace_ids),
		]

	def sync_start(self):
		"""Sync From, else the day the integration was made (Amazon keeps years of orders)."""
		return getdate(self.integration.sync_start_date or self.integration.creation)

	def _orders_start(self) -> str:
		"""Where the first orders run starts."""
		return f"{self.sync_start().isoformat()}T00:00:00Z"

	def discover(self) -> list[Discovered]:
		"""The keys of the orders the first sync reads and of the settlements Amazon keeps: the same
		reads as the sync's streams, nothing written."""
		participating = {p["marketplace"]["id"]: p["marketplace"] for p in self.caller(self.api.marketplaces)}
		own = {participating[m].get("name") for m in self.marketplace_ids if m in participating}
		api, marketplace_ids = self.api, self.marketplace_ids
		orders = read_pages(
			orders_stream(api, self.caller, marketplace_ids, self._orders_start()).fetch, self.caller
		)
		reports = read_pages(settlements_stream(api, self.caller, marketplace_ids).fetch, self.caller)
		return discovery.discover(
			[c.record for c in orders if c.record], [c.record["flat_file"] for c in reports if c.record], own
		)

	def _keeping_counts(self, stream: Stream) -> Stream:
		"""The FBA inventory stream, each count it maps also kept as Amazon's last count of the SKU in its
		marketplace's warehouse (engine/platform_stock), whether or not it changes the warehouse."""

		def map_and_keep(summary, ctx):
			targets = stream.map(summary, ctx)
			sku, marketplace_id = summary["sellerSku"], summary["marketplaceId"]
			counted_at = summary.get("lastUpdatedTime")
			platform_stock.counted(
				self.integration.name,
				f"{marketplace_id}:{sku}",
				sku,
				ctx.fba_warehouses[marketplace_id],
				mapping.on_hand_quantity(summary),
				get_datetime(counted_at.replace("Z", "+00:00")).replace(tzinfo=None)
				if counted_at
				else now_datetime(),
			)
			return targets

		return dataclasses.replace(stream, map=map_and_keep)

	def _collecting_listings(self, stream: Stream) -> Stream:
		"""The stream, the listings of its records also added to the catalog stream's list."""

		def map_and_collect(record, ctx):
			known = {listing.seller_sku for listing in self._listings}
			self._listings += [ln for ln in listings_from([record]) if ln.seller_sku not in known]
			return stream.map(record, ctx)

		return dataclasses.replace(stream, map=map_and_collect)


def _party_account(customer: str, company: str) -> str | None:
	return frappe.db.get_value(
		"Party Account", {"parenttype": "Customer", "parent": customer, "company": company}, "account"
	)


def _exchange_rate_to(company_currency: str):
	def rate(currency: str, day: str) -> float | None:
		from erpnext.setup.utils import get_exchange_rate

		return get_exchange_rate(currency, company_currency, day) or None

	return rate


def _leaf(doctype: str, *preferred: str | None) -> str:
	"""The first of the preferred tree nodes that exists and is not a group, else the first leaf."""
	for name in preferred:
		if name and frappe.db.get_value(doctype, name, "is_group") == 0:
			return name
	return frappe.get_all(doctype, filters={"is_group": 0}, order_by="lft", pluck="name", limit=1)[0]


def _selling_default(fieldname: str) -> str | None:
	return frappe.db.get_single_value("Selling Settings", fieldname)


def _stock_uom() -> str:
	for name in (frappe.db.get_single_value("Stock Settings", "stock_uom"), "Nos"):
		if name and frappe.db.exists("UOM", name):
			return name
	return frappe.get_all("UOM", filters={"enabled": 1}, pluck="name", limit=1)[0]
