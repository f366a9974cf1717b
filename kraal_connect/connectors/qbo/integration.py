"""QuickBooks Online on a site: tokens in Password fields, QBO's chart of accounts under Kraal Account
Mapping, the fiscal years its history needs, and the streams of the integration's mode.

Migration reads each QBO entity whole, in dependency order; Parallel-run reads QBO's change data
capture since the last run and sends what people change in ERPNext back (push.py); Migration
Complete (the cut-over) syncs and sends nothing, and keeps every link.
"""

from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

import frappe
from frappe import _
from frappe.utils import get_url, getdate, today
from frappe.utils.data import get_system_timezone
from frappe.utils.password import set_encrypted_password

from kraal_connect.connectors.qbo import discovery, mapping, sources, streams
from kraal_connect.connectors.qbo.client import NotFoundError, QboApi, QboOAuth, Tokens
from kraal_connect.connectors.qbo.mapping import QBO_ACCOUNT, QBO_ENTITIES, QboContext
from kraal_connect.connectors.qbo.streams import (
	CDC_ENTITIES,
	MIGRATION_ORDER,
	WRITTEN_AFTER,
	cdc_cursor,
	cdc_streams,
	migration_streams,
)
from kraal_connect.engine import writer
from kraal_connect.engine.connector import Connector
from kraal_connect.engine.errors import AuthenticationError, SyncError
from kraal_connect.engine.records import Change, Stream
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.suggestions import Discovered

VENDOR = "QuickBooks Online"
# Kraal Integration.qbo_mode
MIGRATION, PARALLEL_RUN, MIGRATION_COMPLETE = "Migration", "Parallel-run", "Migration Complete"
# Kraal Integration.conflict_rule besides the writer's HOLD_FOR_REVIEW and ERPNEXT_WINS
QUICKBOOKS_WINS = "QuickBooks Wins"
CALLBACK_PATH = "/api/method/kraal_connect.connectors.qbo.oauth.callback"
# Kraal Account Mapping key types besides QBO_ACCOUNT (QBO account id -> Account)
ACCOUNT_GROUP = "Account Group"  # QBO AccountType -> the ERPNext group its top-level accounts go under
TAX_RATE = "Tax Rate"  # QBO TaxRate id -> the account its tax is booked to
WAREHOUSE = "Warehouse"  # "default" -> the warehouse Inventory items move through
DEFAULT_WAREHOUSE_KEY = "default"
# The External Link types of QBO accounts: a parent with sub-accounts is an ERPNext group whose own
# postings go to a second ledger under it.
ACCOUNT_LINK_TYPES = (mapping.ACCOUNT, f"{mapping.ACCOUNT}:{mapping.OWN_POSTINGS}")
TRANSACTION_ENTITIES = MIGRATION_ORDER[MIGRATION_ORDER.index(mapping.BILL) :]
# How QBO writes some countries, besides ERPNext's country names and ISO codes.
COUNTRY_ALIASES = {"usa": "United States", "uk": "United Kingdom"}
# Company defaults ERPNext books through by itself in a migration -> the QBO AccountSubType of the
# account QBO books the same postings to: a payment's realised exchange difference.
COMPANY_DEFAULTS = {"exchange_gain_loss_account": "ExchangeGainOrLoss"}


class QboConnector(Connector):
	vendor = VENDOR
	entities = MIGRATION_ORDER
	written_after = WRITTEN_AFTER
	# The only hosts its API Base URL may name (engine/endpoints.py).
	api_hosts = ("quickbooks.api.intuit.com", "sandbox-quickbooks.api.intuit.com")
	fetches_one = frozenset(QBO_ENTITIES)
	mapping_targets = {
		QBO_ACCOUNT: "Account",
		ACCOUNT_GROUP: "Account",
		TAX_RATE: "Account",
		WAREHOUSE: "Warehouse",
	}
	# An account left empty is migrated; a tax rate left empty books to QuickBooks' sales-tax payable.
	fills_itself = frozenset({QBO_ACCOUNT, TAX_RATE})
	# During the parallel run the firm still keeps its books in QuickBooks: its version wins unless
	# the integration says otherwise.
	defaults = {"qbo_mode": MIGRATION, "conflict_rule": QUICKBOOKS_WINS}
	pushes = tuple(mapping.PUSHERS)
	push_channels = ("documents",)

	@classmethod
	def source_url(cls, integration, external_type: str, external_id: str) -> str | None:
		return sources.admin_url(integration.environment, external_type, external_id)

	# -- credentials -------------------------------------------------------------------------------
	@cached_property
	def api(self) -> QboApi:
		"""One client a run, so a refreshed access token serves the rest of the run."""
		doc = self.integration
		refresh_token = doc.get_password("refresh_token", raise_exception=False)
		if not doc.external_account or not refresh_token:
			raise AuthenticationError(
				"No QuickBooks company is connected yet: use Connect to QuickBooks on the integration"
			)
		tokens = Tokens(doc.get_password("access_token", raise_exception=False) or "", refresh_token)
		return QboApi(oauth_client(doc), doc.external_account, tokens, on_tokens=self.store_tokens)

	def store_tokens(self, tokens: Tokens) -> None:
		"""Intuit rotates the refresh token on every refresh and the old one stops working: the new
		pair is written in the transaction that is using it, and written again should that
		transaction be rolled back."""
		store_tokens(self.integration, tokens)
		frappe.db.after_rollback.add(lambda: _store_tokens_after_rollback(self.integration, tokens))
		frappe.local.flags.commit = True  # a web request commits them even when it is a GET

	def discover(self) -> list[Discovered]:
		"""Every QuickBooks account and tax rate, before the migration books anything."""
		return discovery.account_keys(self.read_all("Account")) + discovery.tax_rate_keys(
			self.read_all("TaxRate"), TAX_RATE
		)

	def test_connection(self) -> str:
		info = self.caller(self.api.company_info)
		return _("Connected to {0} (QuickBooks company {1}, {2})").format(
			info.get("CompanyName"), self.integration.external_account, self.integration.environment
		)

	# -- pulling ----------------------------------------------------------------------------------
	@property
	def mode(self) -> str:
		return self.integration.qbo_mode or MIGRATION

	def prepare(self, stats: RunStats) -> QboContext | None:
		if self.mode == MIGRATION_COMPLETE:
			return None
		doc = self.integration
		qbo_accounts = {a["Id"]: a for a in self.read_all("Account")}
		mapped_accounts = sync_account_mappings(doc, qbo_accounts)
		if self.mode == MIGRATION:
			self._prepare_migration()
		else:
			start_cdc_cursors(doc)
		ensure_uom()
		accounts = posting_accounts(doc.name, mapped_accounts)
		point_company_defaults(doc, qbo_accounts, accounts)
		company = frappe.get_cached_doc("Company", doc.company)
		return QboContext(
			company=company.name,
			company_currency=company.default_currency,
			qbo_accounts=qbo_accounts,
			account_groups=account_groups(doc.name, company.abbr),
			mapped_accounts=mapped_accounts,
			accounts=accounts,
			tax_rates={r["Id"]: r for r in self.read_all("TaxRate")},
			tax_rate_accounts=tax_rate_accounts(doc.name, qbo_accounts, accounts),
			stock_item_ids=frozenset(r["Id"] for r in self.read_all("Item", where="Type = 'Inventory'")),
			warehouse=default_warehouse(doc),
			stock_valuation=frappe.db.get_single_value("Stock Settings", "valuation_method") or "FIFO",
			customer_group=leaf(
				"Customer Group", frappe.db.get_single_value("Selling Settings", "customer_group")
			),
			territory=frappe.db.get_single_value("Selling Settings", "territory") or "All Territories",
			countries=countries(),
			default_country=company.country or "",
			disable_inactive=self.mode == PARALLEL_RUN,
		)

	def _prepare_migration(self) -> None:
		doc = self.integration
		for row in doc.entities:
			if row.cursor and not row.cursor.isdigit():  # a parallel run's time: read everything again
				row.cursor = ""
				row.db_update()
		home_currency = self.caller(self.api.home_currency)
		company_currency = frappe.get_cached_value("Company", doc.company, "default_currency")
		if home_currency != company_currency:
			raise SyncError(
				f"QuickBooks keeps its books in {home_currency}, company {doc.company} in {company_currency}"
			)
		firsts = [self.caller(self.api.first_transaction_date, QBO_ENTITIES[e]) for e in TRANSACTION_ENTITIES]
		firsts = [d for d in firsts if d]
		if firsts:
			start_month = mapping.fiscal_year_start_month(self.caller(self.api.company_info))
			ensure_fiscal_years(doc.company, min(firsts), getdate(today()), start_month)
		if not doc.migration_status:
			doc.db_set("migration_status", "In Progress")

	def streams(self) -> list[Stream]:
		if self.mode == MIGRATION_COMPLETE:
			return []
		if self.mode == PARALLEL_RUN:
			return cdc_streams(self.api)
		return migration_streams(self.api)

	def fetch_one(self, entity: str, external_id: str) -> Change | None:
		try:
			record = self.api.read(QBO_ENTITIES[entity], external_id)
		except NotFoundError:
			return None
		return Change(external_id=str(record["Id"]), record=record, version=str(record.get("SyncToken")))

	def read_all(self, entity: str, where: str = "") -> list[dict]:
		return streams.read_all(self.api, self.caller, entity, where)

	# -- pushing (ERPNext -> QBO in the parallel run) ---------------------------------------------
	def push_key(self, doc, event: str) -> tuple[str, str] | None:
		if self.mode != PARALLEL_RUN or doc.doctype not in mapping.PUSHERS:
			return None
		if doc.meta.is_submittable:
			if event not in ("on_submit", "on_update_after_submit", "on_cancel"):
				return None
			if doc.company != self.integration.company:
				return None
		elif event != "on_update":
			return None
		return self.push_channels[0], f"{doc.doctype}::{doc.name}"

	def push(self, channel: str, keys: list[str], stats: RunStats) -> None:
		from kraal_connect.connectors.qbo.push import QboPusher

		if self.mode != PARALLEL_RUN:  # waited from before the cut-over: QuickBooks no longer follows
			for key in keys:
				stats.record(key.partition("::")[0], "skipped")
			return
		QboPusher(self, stats).push([tuple(key.split("::", 1)) for key in keys])


def oauth_client(doc) -> QboOAuth:
	return QboOAuth(
		doc.client_id or "",
		doc.get_password("client_secret", raise_exception=False) or "",
		get_url(CALLBACK_PATH),
		doc.environment or "sandbox",
		base_url=doc.api_base_url or None,
	)


def store_tokens(doc, tokens: Tokens) -> None:
	"""Into the Password fields, in the current transaction: the secret in the password store, a mask
	in the column (an empty column would make the next save of the form drop the secret)."""
	masks = {}
	for fieldname in ("access_token", "refresh_token"):
		value = getattr(tokens, fieldname)
		set_encrypted_password(doc.doctype, doc.name, value, fieldname)
		masks[fieldname] = "*" * len(value)
	doc.db_set(masks, update_modified=False)


def _store_tokens_after_rollback(doc, tokens: Tokens) -> None:
	store_tokens(doc, tokens)
	frappe.db.commit()


# -- the chart of accounts -------------------------------------------------------------------------
def _mapping_rows(integration: str, key_type: str) -> dict[str, frappe._dict]:
	return {
		row.external_key: row
		for row in frappe.get_all(
			"Kraal Account Mapping",
			filters={"integration": integration, "key_type": key_type},
			fields=["name", "external_key", "external_name", "target_name"],
		)
	}


def _linked_accounts(integration: str) -> dict[str, dict[str, str]]:
	"""QBO account id -> {External Link type: the ERPNext account the account stream wrote}."""
	linked: dict[str, dict[str, str]] = {}
	for link in frappe.get_all(
		writer.LINK,
		filters={"integration": integration, "external_type": ("in", ACCOUNT_LINK_TYPES)},
		fields=["external_type", "external_id", "reference_name"],
	):
		linked.setdefault(link.external_id, {})[link.external_type] = link.reference_name
	return linked


def _posting_account(target: str | None, written: Mapping[str, str]) -> str | None:
	"""Where a QBO account's postings go: the account a person chose for it, else the one the account
	stream wrote (its own-postings ledger when it became a group)."""
	if target and target not in written.values():
		return target
	return written.get(ACCOUNT_LINK_TYPES[1]) or written.get(ACCOUNT_LINK_TYPES[0])


def sync_account_mappings(doc, qbo_accounts: Mapping[str, Mapping]) -> dict[str, str]:
	"""A Kraal Account Mapping row for every QBO account; returns the ones a person pointed at an
	existing ERPNext account (QBO id -> Account), which the account stream leaves alone.

	Rows show where each QBO account's postings go once the account stream wrote it. Accounts ERPNext
	itself books to go to the company's own unless a person chose otherwise (see company_accounts).
	"""
	rows = _mapping_rows(doc.name, QBO_ACCOUNT)
	linked = _linked_accounts(doc.name)
	own = company_accounts(doc, qbo_accounts)
	mapped = {}
	for qbo_id, qbo_account in qbo_accounts.items():
		label = qbo_account.get("FullyQualifiedName") or qbo_account.get("Name") or qbo_id
		written = linked.get(qbo_id, {})
		row = rows.get(qbo_id) or frappe.get_doc(
			{
				"doctype": "Kraal Account Mapping",
				"integration": doc.name,
				"key_type": QBO_ACCOUNT,
				"external_key": qbo_id,
				"external_name": label,
				"target_doctype": "Account",
			}
		).insert(ignore_permissions=True)
		target = row.target_name or (None if written else own.get(qbo_id))
		target = _posting_account(target, written)
		if (target or "", label) != (row.target_name or "", row.external_name):
			frappe.db.set_value(
				"Kraal Account Mapping", row.name, {"target_name": target, "external_name": label}
			)
		if target and target not in written.values():
			mapped[qbo_id] = target
	# An account QBO does not list has only the row a record that named it left behind: its postings
	# go where a person pointed that row.
	for qbo_id, row in rows.items():
		if qbo_id not in qbo_accounts and row.target_name:
			mapped[qbo_id] = row.target_name
	return mapped


def account_map(integration: str) -> dict[str, str]:
	"""QBO account id -> the ERPNext ledger its postings went to, for every QBO account that has one."""
	linked = _linked_accounts(integration)
	accounts = {}
	for qbo_id, row in _mapping_rows(integration, QBO_ACCOUNT).items():
		account = _posting_account(row.target_name, linked.get(qbo_id, {}))
		if account:
			accounts[qbo_id] = account
	return accounts


def company_accounts(doc, qbo_accounts: Mapping[str, Mapping]) -> dict[str, str]:
	"""QBO accounts that stand for an account ERPNext books to by itself: inventory (the warehouse's
	stock account, where ERPNext books stock moves), the home-currency A/R and A/P (the company's
	defaults, where invoices made in ERPNext during the parallel run go) and Exchange Gain or Loss
	(the company's, where ERPNext books a payment's realised exchange difference)."""
	company = frappe.get_cached_doc("Company", doc.company)
	warehouse = default_warehouse(doc)
	stock = (warehouse and frappe.db.get_value("Warehouse", warehouse, "account")) or (
		company.default_inventory_account
	)
	defaults = {
		"Accounts Receivable": company.default_receivable_account,
		"Accounts Payable": company.default_payable_account,
	}
	by_subtype = {subtype: company.get(fieldname) for fieldname, subtype in COMPANY_DEFAULTS.items()}
	own = {}
	for qbo_id, qbo_account in qbo_accounts.items():
		currency = (qbo_account.get("CurrencyRef") or {}).get("value") or company.default_currency
		kind = qbo_account.get("AccountType")
		if qbo_account.get("AccountSubType") == "Inventory":
			own[qbo_id] = stock
		elif by_subtype.get(qbo_account.get("AccountSubType")):
			own[qbo_id] = by_subtype.pop(qbo_account["AccountSubType"])
		elif currency == company.default_currency and defaults.get(kind):
			own[qbo_id] = defaults.pop(kind)  # QBO's first one of a kind is the one it books to
	return {qbo_id: account for qbo_id, account in own.items() if account}


class Lookup(Mapping):
	"""A mapping whose values are looked up when asked for, so a record mapped late in a run finds
	what an earlier record of the same run created (the accounts the account stream writes)."""

	def __init__(self, find: Callable[[str], str | None]):
		self._find = find
		self._found: dict[str, str] = {}

	def __getitem__(self, key: str) -> str:
		if key not in self._found:
			value = self._find(key)
			if not value:
				raise KeyError(key)
			self._found[key] = value
		return self._found[key]

	def __iter__(self) -> Iterator[str]:
		return iter(self._found)

	def __len__(self) -> int:
		return len(self._found)


def posting_accounts(integration: str, mapped_accounts: Mapping[str, str]) -> Lookup:
	"""QBO account id -> the ERPNext ledger its postings go to: the one mapped, or the one written."""

	def find(qbo_id: str) -> str | None:
		if qbo_id in mapped_accounts:
			return mapped_accounts[qbo_id]
		return writer.linked_name(integration, ACCOUNT_LINK_TYPES[1], qbo_id) or writer.linked_name(
			integration, ACCOUNT_LINK_TYPES[0], qbo_id
		)

	return Lookup(find)


def account_groups(integration: str, abbr: str) -> dict[str, str]:
	"""QBO AccountType -> ERPNext group: the standard chart's, unless mapped under Account Group."""
	groups = {
		account_type: group
		for account_type, group in mapping.standard_account_groups(abbr).items()
		if frappe.db.exists("Account", {"name": group, "is_group": 1})
	}
	for key, row in _mapping_rows(integration, ACCOUNT_GROUP).items():
		if row.target_name:
			groups[key] = row.target_name
	return groups


def tax_rate_accounts(integration: str, qbo_accounts: Mapping[str, Mapping], accounts: Mapping) -> Lookup:
	"""QBO TaxRate id -> the account its tax goes to: as mapped under Tax Rate, else the ledger of
	QBO's sales-tax payable account, where QBO books it."""
	rows = _mapping_rows(integration, TAX_RATE)
	payable = next(
		(
			qbo_id
			for qbo_id, a in qbo_accounts.items()
			if a.get("AccountSubType") in ("SalesTaxPayable", "GlobalTaxPayable")
		),
		None,
	)

	def find(rate_id: str) -> str | None:
		row = rows.get(rate_id)
		if row and row.target_name:
			return row.target_name
		return accounts.get(payable) if payable else None

	return Lookup(find)


def default_warehouse(doc) -> str | None:
	"""The warehouse under the Warehouse mapping, else the company's Stores; the mapping row is
	created with it so a person sees where stock goes and can change it."""
	key = {"integration": doc.name, "key_type": WAREHOUSE, "external_key": DEFAULT_WAREHOUSE_KEY}
	chosen = frappe.db.get_value("Kraal Account Mapping", key, "target_name")
	if chosen:
		return chosen
	stores = frappe.db.get_value(
		"Warehouse", {"company": doc.company, "warehouse_name": "Stores", "is_group": 0}
	)
	if stores and not frappe.db.exists("Kraal Account Mapping", key):
		frappe.get_doc(
			{
				"doctype": "Kraal Account Mapping",
				**key,
				"external_name": "Inventory items",
				"target_doctype": "Warehouse",
				"target_name": stores,
			}
		).insert(ignore_permissions=True)
	return stores


def leaf(doctype: str, name: str | None) -> str:
	"""The tree record itself when it takes documents, else the first one under it that does
	(ERPNext books customers only into a group without sub-groups)."""
	root = name or frappe.db.get_value(doctype, {"lft": 1})
	lft, rgt, is_group = frappe.db.get_value(doctype, root, ["lft", "rgt", "is_group"])
	if not is_group:
		return root
	leaves = frappe.get_all(
		doctype,
		filters={"lft": (">", lft), "rgt": ("<", rgt), "is_group": 0},
		order_by="lft",
		limit=1,
		pluck="name",
	)
	if not leaves:
		raise SyncError(f"{doctype} {root} has nothing under it to book into; add one")
	return leaves[0]


def countries() -> dict[str, str]:
	"""Lower-case country names and ISO codes -> ERPNext Country."""
	found = dict(COUNTRY_ALIASES)
	for country in frappe.get_all("Country", fields=["name", "code"]):
		found[country.name.lower()] = country.name
		if country.code:
			found[country.code.lower()] = country.name
	return found


# -- what the history needs ------------------------------------------------------------------------
def ensure_fiscal_years(company: str, first: date, last: date, start_month: int) -> list[str]:
	"""Every fiscal year from the one holding `first` to the one holding `last` exists for the
	company; missing ones are created for this company only. Returns those created."""
	created = []
	for span in mapping.fiscal_years(first, last, start_month):
		if _fiscal_year_covering(company, span.start, span.end):
			continue
		name = span.name
		if frappe.db.exists("Fiscal Year", name):
			name = f"{span.name} ({frappe.get_cached_value('Company', company, 'abbr')})"
		frappe.get_doc(
			{
				"doctype": "Fiscal Year",
				"year": name,
				"year_start_date": span.start,
				"year_end_date": span.end,
				"companies": [{"company": company}],
			}
		).insert(ignore_permissions=True)
		created.append(name)
	return created


def _fiscal_year_covering(company: str, start: date, end: date) -> str | None:
	for year in frappe.get_all(
		"Fiscal Year",
		filters={"disabled": 0, "year_start_date": ("<=", start), "year_end_date": (">=", end)},
		pluck="name",
	):
		companies = frappe.get_all("Fiscal Year Company", filters={"parent": year}, pluck="company")
		if not companies or company in companies:
			return year
	return None


def ensure_uom() -> None:
	"""The UOM every migrated item and row is in, created with whole numbers off. Once it exists it is
	a person's: one set to whole numbers since is named, not changed."""
	whole = frappe.db.get_value("UOM", mapping.UOM, "must_be_whole_number")
	if whole is None:
		frappe.get_doc({"doctype": "UOM", "uom_name": mapping.UOM, "must_be_whole_number": 0}).insert(
			ignore_permissions=True
		)
	elif whole:
		raise SyncError(
			f"UOM {mapping.UOM} is set to whole numbers, and QuickBooks quantities are decimals "
			"(3.5 hours, 7.75 kg): untick Must be Whole Number on it"
		)


def point_company_defaults(doc, qbo_accounts: Mapping[str, Mapping], accounts: Mapping[str, str]) -> None:
	"""ERPNext books a payment's realised exchange difference to the company's Exchange Gain/Loss
	account; it is pointed at the account QBO's Exchange Gain or Loss maps to, so the difference lands
	where QBO has it. A change is noted on the company's timeline."""
	company = frappe.get_cached_doc("Company", doc.company)
	for fieldname, subtype in COMPANY_DEFAULTS.items():
		qbo_id = next((i for i, a in qbo_accounts.items() if a.get("AccountSubType") == subtype), None)
		account = accounts.get(qbo_id) if qbo_id else None
		if not account or account == company.get(fieldname):
			continue
		label = company.meta.get_label(fieldname)
		owner, currency, is_group = frappe.db.get_value(
			"Account", account, ["company", "account_currency", "is_group"]
		)
		if owner != doc.company or currency != company.default_currency or is_group:
			raise SyncError(
				f"QuickBooks account {qbo_accounts[qbo_id].get('Name')} is mapped onto {account}, which "
				f"cannot be {label} of {doc.company}: choose a ledger of the company in "
				f"{company.default_currency}"
			)
		frappe.db.set_value("Company", doc.company, fieldname, account)
		frappe.get_doc("Company", doc.company).add_comment(
			"Info",
			_(
				"{0} set to {1} by QuickBooks integration {2}, where QuickBooks books the same postings"
			).format(label, account, doc.name),
		)


def start_cdc_cursors(doc) -> None:
	"""The parallel run reads what changed since the migration started: entities whose cursor is
	still a migration position start from the first run's time."""
	start = None
	for row in doc.entities:
		if row.entity not in CDC_ENTITIES or (row.cursor and not row.cursor.isdigit()):
			continue
		start = start or cdc_cursor(_migration_started(doc.name))
		row.cursor = start
		row.db_update()


def _migration_started(integration: str) -> datetime:
	first = frappe.get_all(
		"Kraal Sync Log",
		filters={"integration": integration},
		fields=["started"],
		order_by="started asc",
		limit=1,
	)
	if not first:
		raise SyncError(
			"The parallel run starts after the migration: run the integration in Migration mode first"
		)
	return first[0].started.replace(tzinfo=ZoneInfo(get_system_timezone()))
