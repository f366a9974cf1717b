"""Each store (Shopify) and seller account (Amazon): its connection and sync status, the last order it
imported, the orders of the last day, 7 and 30 days, and its inventory sync (commerce/site)."""

import frappe
from frappe import _
from frappe.utils import add_days, getdate, nowdate

from kraal_connect.commerce import figures, site


def execute(filters=None):
	filters = frappe._dict(filters or {})
	site.check_channel(filters.integration)
	as_of = getdate(filters.as_of or nowdate())
	rows = [_row(channel, as_of) for channel in site.channels(filters.company, filters.integration)]
	return _columns(), rows, None, None, _summary(rows)


def _row(channel, as_of) -> dict:
	longest = max(figures.ORDER_WINDOWS)
	recent = site.orders([channel.name], add_days(as_of, 1 - longest), as_of)
	counts = figures.order_counts((o["order_date"] for o in recent), as_of)
	stock = site.inventory(channel.name, channel.vendor)
	last = next(iter(site.orders([channel.name], limit=1)), {})
	return {
		"integration": channel.name,
		"vendor": channel.vendor,
		"account": channel.external_account,
		"company": channel.company,
		"status": channel.status if channel.enabled else _("Disabled"),
		"status_reason": channel.status_reason,
		"last_sync": channel.last_sync,
		"last_success": channel.last_success,
		"last_order": last.get("order"),
		"last_sales_order": last.get("sales_order"),
		"last_order_imported": last.get("imported_at"),
		"orders_1_day": counts[1],
		"orders_7_days": counts[7],
		"orders_30_days": counts[30],
		"items_tracked": stock["items_tracked"],
		"last_inventory_sync": stock["last_inventory_sync"],
		"stock_differences": len(stock["differences"]),
	}


# The figures first, then when they were read (Datetime columns are wide).
ORDER = (
	"integration",
	"vendor",
	"status",
	"orders_1_day",
	"orders_7_days",
	"orders_30_days",
	"items_tracked",
	"stock_differences",
	"last_order",
	"last_sales_order",
	"last_order_imported",
	"last_inventory_sync",
	"last_sync",
	"last_success",
	"company",
	"status_reason",
)


def _columns() -> list[dict]:
	columns = {c["fieldname"]: c for c in _column_list()}
	return [columns[fieldname] for fieldname in ORDER]


def _column_list() -> list[dict]:
	return [
		{
			"label": _("Store or Seller Account"),
			"fieldname": "integration",
			"fieldtype": "Link",
			"options": "Kraal Integration",
			"width": 190,
		},
		{"label": _("Channel"), "fieldname": "vendor", "fieldtype": "Data", "width": 90},
		{"label": _("Status"), "fieldname": "status", "fieldtype": "Data", "width": 130},
		{"label": _("Last Sync"), "fieldname": "last_sync", "fieldtype": "Datetime", "width": 160},
		{"label": _("Last Clean Sync"), "fieldname": "last_success", "fieldtype": "Datetime", "width": 160},
		{"label": _("Last Order"), "fieldname": "last_order", "fieldtype": "Data", "width": 160},
		{
			"label": _("Its Sales Order"),
			"fieldname": "last_sales_order",
			"fieldtype": "Link",
			"options": "Sales Order",
			"width": 160,
		},
		{"label": _("Imported"), "fieldname": "last_order_imported", "fieldtype": "Datetime", "width": 160},
		{"label": _("Orders (1 Day)"), "fieldname": "orders_1_day", "fieldtype": "Int", "width": 125},
		{"label": _("Orders (7 Days)"), "fieldname": "orders_7_days", "fieldtype": "Int", "width": 130},
		{"label": _("Orders (30 Days)"), "fieldname": "orders_30_days", "fieldtype": "Int", "width": 140},
		{"label": _("Items Tracked"), "fieldname": "items_tracked", "fieldtype": "Int", "width": 120},
		{
			"label": _("Last Inventory Sync"),
			"fieldname": "last_inventory_sync",
			"fieldtype": "Datetime",
			"width": 160,
		},
		{"label": _("Stock Differences"), "fieldname": "stock_differences", "fieldtype": "Int", "width": 145},
		{
			"label": _("Company"),
			"fieldname": "company",
			"fieldtype": "Link",
			"options": "Company",
			"width": 160,
		},
		{"label": _("Why"), "fieldname": "status_reason", "fieldtype": "Data", "width": 250},
	]


def _summary(rows: list[dict]) -> list[dict]:
	active = sum(1 for r in rows if r["status"] == "Active")
	return [
		{"label": _("Connected and syncing"), "value": active, "indicator": "green", "datatype": "Int"},
		{
			"label": _("Needing attention"),
			"value": len(rows) - active,
			"indicator": "orange" if len(rows) > active else "green",
			"datatype": "Int",
		},
		{
			"label": _("Orders (7 days)"),
			"value": sum(r["orders_7_days"] for r in rows),
			"indicator": "blue",
			"datatype": "Int",
		},
		{
			"label": _("Stock differences"),
			"value": sum(r["stock_differences"] for r in rows),
			"indicator": "red" if any(r["stock_differences"] for r in rows) else "green",
			"datatype": "Int",
		},
	]
