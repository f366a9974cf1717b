"""The E-commerce view's queries: what the site holds for each store (Shopify) and seller account (Amazon),
read through the Kraal External Links of their integrations and added up by commerce/figures. Thin on
purpose: every figure is a pure function tested standalone.

The reports of the E-commerce workspace (E-commerce Channels, E-commerce Order Imports, E-commerce
Revenue, E-commerce Stock Differences) call these.
"""

from datetime import date

import frappe
from frappe import _
from frappe.utils import add_months, getdate, nowdate

from kraal_connect.commerce import figures
from kraal_connect.connectors.amazon import mapping as amazon_mapping
from kraal_connect.connectors.amazon.revenue import settlement_row_role
from kraal_connect.connectors.shopify import mapping as shopify_mapping
from kraal_connect.connectors.shopify.revenue import payout_row_role
from kraal_connect.engine import deposits, platform_stock

LINK = "Kraal External Link"
# Both connectors link an order's Sales Order under the entity "order", its invoice under "order:invoice".
ORDERS = shopify_mapping.ORDERS
INVOICE = f"{ORDERS}:invoice"
# vendor -> what its payout or settlement lines are to revenue, and the entity of its inventory counts.
ROW_ROLES = {"Shopify": payout_row_role, "Amazon": settlement_row_role}
INVENTORY = {"Shopify": shopify_mapping.INVENTORY, "Amazon": amazon_mapping.FBA_INVENTORY}


def channels(company: str | None = None, integration: str | None = None) -> list:
	"""The stores and seller accounts the user may read, with their status."""
	filters = {"vendor": ("in", list(ROW_ROLES))}
	if company:
		filters["company"] = company
	if integration:
		filters["name"] = integration
	return frappe.get_list(
		"Kraal Integration",
		filters=filters,
		fields=[
			"name",
			"vendor",
			"company",
			"enabled",
			"status",
			"status_reason",
			"external_account",
			"last_sync",
			"last_success",
		],
		order_by="vendor, name",
	)


def period(filters, year_to_date: bool = False) -> tuple[date, date]:
	"""The filters' period; by default the month (or the year) up to today, as the report's filters offer."""
	to_date = getdate(filters.get("to_date") or nowdate())
	start = to_date.replace(month=1, day=1) if year_to_date else add_months(to_date, -1)
	return getdate(filters.get("from_date") or start), to_date


# -- orders ------------------------------------------------------------------------------------------


def orders(integrations: list[str], from_date=None, to_date=None, limit: int | None = None) -> list:
	"""The orders the integrations imported (their submitted Sales Orders), newest import first: each with
	its channel, order reference, date, import time, Sales Order, Sales Invoice and credit notes."""
	link, so = frappe.qb.DocType(LINK), frappe.qb.DocType("Sales Order")
	query = (
		frappe.qb.from_(link)
		.join(so)
		.on(so.name == link.reference_name)
		.select(
			link.integration,
			link.external_id,
			link.reference_name,
			link.creation,
			link.source_url,
			so.po_no,
			so.transaction_date,
			so.customer,
			so.grand_total,
			so.currency,
			so.status,
		)
		.where(link.integration.isin(integrations or [""]))
		.where(link.external_type == ORDERS)
		.where(link.reference_doctype == "Sales Order")
		.where(so.docstatus == 1)
		.orderby(link.creation, order=frappe.qb.desc)
	)
	if from_date and to_date:
		query = query.where(so.transaction_date.between(from_date, to_date))
	if limit:
		query = query.limit(limit)
	links = query.run(as_dict=True)
	invoices: dict[tuple[str, str], dict] = {}
	for row in frappe.get_all(
		LINK,
		filters={
			"integration": ("in", integrations or [""]),
			"external_id": ("in", [row.external_id for row in links] or [""]),
			"reference_doctype": "Sales Invoice",
		},
		fields=["integration", "external_id", "external_type", "reference_name"],
		order_by="creation",
	):
		kind = "invoice" if row.external_type == INVOICE else "returns"
		invoices.setdefault((row.integration, row.external_id), {}).setdefault(kind, []).append(
			row.reference_name
		)
	result = []
	for row in links:
		documents = invoices.get((row.integration, row.external_id), {})
		result.append(
			{
				"integration": row.integration,
				"order": row.po_no or row.external_id,
				"external_id": row.external_id,
				"source_url": row.source_url,
				"order_date": row.transaction_date,
				"imported_at": row.creation,
				"sales_order": row.reference_name,
				"sales_invoice": (documents.get("invoice") or [None])[-1],
				"credit_notes": ", ".join(documents.get("returns") or []),
				"customer": row.customer,
				"grand_total": row.grand_total,
				"currency": row.currency,
				"status": row.status,
			}
		)
	return result


# -- stock -------------------------------------------------------------------------------------------


def platform_counts(integration: str) -> dict[tuple[str, str], tuple]:
	"""(item, warehouse) -> the platform's last count and when it counted, as its inventory syncs kept
	them (engine/platform_stock: every count read, whether or not it changed ERPNext's stock)."""
	return figures.latest_counts(platform_stock.counts(integration))


def stock_held(keys) -> dict[tuple[str, str], float]:
	keys = list(keys)
	if not keys:
		return {}
	bins = frappe.get_all(
		"Bin",
		filters={
			"item_code": ("in", list({item for item, _ in keys})),
			"warehouse": ("in", list({warehouse for _, warehouse in keys})),
		},
		fields=["item_code", "warehouse", "actual_qty"],
	)
	return {(b.item_code, b.warehouse): figures.dec(b.actual_qty) for b in bins}


def inventory(integration: str, vendor: str) -> dict:
	"""Items tracked, the last inventory sync and the (item, warehouse) pairs whose ERPNext stock differs
	from the platform's last known count."""
	counts = platform_counts(integration)
	last_sync = frappe.db.get_value(
		"Kraal Integration Entity",
		{"parent": integration, "parenttype": "Kraal Integration", "entity": INVENTORY[vendor]},
		"last_synced",
	)
	return {
		"items_tracked": len({item for item, _ in counts}),
		"last_inventory_sync": last_sync,
		"differences": figures.stock_differences(counts, stock_held(counts)),
	}


# -- revenue -----------------------------------------------------------------------------------------


def invoices(integration: str, company: str, from_date, to_date) -> list[figures.Invoice]:
	"""The integration's submitted Sales Invoices (sales and credit notes) of the company in the period."""
	docs = _linked(
		integration,
		"Sales Invoice",
		company,
		from_date,
		to_date,
		["name", "is_return", "base_net_total", "base_discount_amount"],
	)
	if not docs:
		return []
	parents = [d.name for d in docs]
	lines: dict[str, list] = {}
	for row in frappe.get_all(
		"Sales Invoice Item",
		filters={"parent": ("in", parents), "parenttype": "Sales Invoice"},
		fields=["parent", "base_net_amount", "rate", "price_list_rate", "qty"],
	):
		lines.setdefault(row.parent, []).append(
			figures.Line(
				*(figures.dec(row[f]) for f in ("base_net_amount", "rate", "price_list_rate", "qty"))
			)
		)
	taxes = frappe.get_all(
		"Sales Taxes and Charges",
		filters={"parent": ("in", parents), "parenttype": "Sales Invoice"},
		fields=["parent", "account_head", "base_tax_amount"],
	)
	income = set(
		frappe.get_all(
			"Account",
			filters={"name": ("in", list({t.account_head for t in taxes}) or [""]), "root_type": "Income"},
			pluck="name",
		)
	)
	charges: dict[str, list] = {}
	for row in taxes:
		if row.account_head in income:
			charges.setdefault(row.parent, []).append(figures.dec(row.base_tax_amount))
	return [
		figures.Invoice(
			d.name,
			bool(d.is_return),
			figures.dec(d.base_net_total),
			figures.dec(d.base_discount_amount),
			tuple(lines.get(d.name, ())),
			tuple(charges.get(d.name, ())),
		)
		for d in docs
	]


def ledger_rows(integration: str, company: str, from_date, to_date) -> list[figures.LedgerRow]:
	"""The lines of the integration's payout and settlement Journal Entries of the company in the period,
	in the company's currency."""
	entries = [
		je.name
		for je in _linked(
			integration,
			"Journal Entry",
			company,
			from_date,
			to_date,
			["name"],
			list(deposits.deposit_types()),
		)
	]
	return [
		figures.LedgerRow(r.parent, r.user_remark or "", figures.dec(r.debit), figures.dec(r.credit))
		for r in frappe.get_all(
			"Journal Entry Account",
			filters={"parent": ("in", entries or [""]), "parenttype": "Journal Entry"},
			fields=["parent", "user_remark", "debit", "credit"],
		)
	]


def _linked(integration, doctype, company, from_date, to_date, fields, external_types=None) -> list:
	"""The integration's submitted documents of a doctype and company posted in the period, through
	their Kraal External Links (optionally of these external types), oldest first."""
	link, doc = frappe.qb.DocType(LINK), frappe.qb.DocType(doctype)
	query = (
		frappe.qb.from_(link)
		.join(doc)
		.on(doc.name == link.reference_name)
		.select(*(doc[f] for f in fields), doc.posting_date)
		.distinct()
		.where(link.integration == integration)
		.where(link.reference_doctype == doctype)
		.where(doc.company == company)
		.where(doc.docstatus == 1)
		.where(doc.posting_date.between(from_date, to_date))
		.orderby(doc.posting_date)
		.orderby(doc.name)
	)
	if external_types is not None:
		query = query.where(link.external_type.isin(external_types or [""]))
	return query.run(as_dict=True)


def revenue(channel, from_date, to_date) -> figures.Revenue:
	return figures.revenue(
		invoices(channel.name, channel.company, from_date, to_date),
		ledger_rows(channel.name, channel.company, from_date, to_date),
		ROW_ROLES[channel.vendor],
	)


# -- the workspace's cards -----------------------------------------------------------------------------


@frappe.whitelist()
def deposits_not_in_bank_count(filters=None) -> dict:
	"""The Number Card "Deposits Not in Bank": payouts and settlements no bank transaction holds yet."""
	filters = frappe.parse_json(filters) or {}
	company = filters.get("company") if isinstance(filters, dict) else None
	return {
		"value": len(deposits.deposits_not_in_bank(company)),
		"fieldtype": "Int",
		"route": ["query-report", "E-commerce Deposits Not in Bank"],
		"route_options": {"company": company} if company else {},
	}


def check_channel(integration: str | None) -> None:
	if integration:
		frappe.get_doc("Kraal Integration", integration).check_permission("read")
		if frappe.db.get_value("Kraal Integration", integration, "vendor") not in ROW_ROLES:
			frappe.throw(_("{0} is not a store or seller account").format(integration))
