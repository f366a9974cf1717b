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
	links = frappe.get_all(
		LINK,
		filters={"integration": ("in", integrations or [""]), "external_type": ORDERS},
		fields=["integration", "external_id", "reference_name", "creation", "source_url"],
		order_by="creation desc",
	)
	conditions = {"name": ("in", [link.reference_name for link in links] or [""]), "docstatus": 1}
	if from_date and to_date:
		conditions["transaction_date"] = ("between", [from_date, to_date])
	sales_orders = {
		so.name: so
		for so in frappe.get_all(
			"Sales Order",
			filters=conditions,
			fields=["name", "po_no", "transaction_date", "customer", "grand_total", "currency", "status"],
		)
	}
	links = [link for link in links if link.reference_name in sales_orders][:limit]
	invoices: dict[tuple[str, str], dict] = {}
	for row in frappe.get_all(
		LINK,
		filters={
			"integration": ("in", integrations or [""]),
			"external_id": ("in", [link.external_id for link in links] or [""]),
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
	for link in links:
		so = sales_orders[link.reference_name]
		documents = invoices.get((link.integration, link.external_id), {})
		result.append(
			{
				"integration": link.integration,
				"order": so.po_no or link.external_id,
				"external_id": link.external_id,
				"source_url": link.source_url,
				"order_date": so.transaction_date,
				"imported_at": link.creation,
				"sales_order": so.name,
				"sales_invoice": (documents.get("invoice") or [None])[-1],
				"credit_notes": ", ".join(documents.get("returns") or []),
				"customer": so.customer,
				"grand_total": so.grand_total,
				"currency": so.currency,
				"status": so.status,
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
	names = frappe.get_all(
		LINK,
		filters={"integration": integration, "reference_doctype": "Sales Invoice"},
		pluck="reference_name",
	)
	docs = frappe.get_all(
		"Sales Invoice",
		filters={
			"name": ("in", names or [""]),
			"company": company,
			"docstatus": 1,
			"posting_date": ("between", [from_date, to_date]),
		},
		fields=["name", "is_return", "base_net_total", "base_discount_amount"],
		order_by="posting_date, name",
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
	names = frappe.get_all(
		LINK,
		filters={
			"integration": integration,
			"external_type": ("in", list(deposits.deposit_types()) or [""]),
			"reference_doctype": "Journal Entry",
		},
		pluck="reference_name",
	)
	entries = frappe.get_all(
		"Journal Entry",
		filters={
			"name": ("in", names or [""]),
			"company": company,
			"docstatus": 1,
			"posting_date": ("between", [from_date, to_date]),
		},
		pluck="name",
	)
	return [
		figures.LedgerRow(r.parent, r.user_remark or "", figures.dec(r.debit), figures.dec(r.credit))
		for r in frappe.get_all(
			"Journal Entry Account",
			filters={"parent": ("in", entries or [""]), "parenttype": "Journal Entry"},
			fields=["parent", "user_remark", "debit", "credit"],
		)
	]


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
