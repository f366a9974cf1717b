"""The orders the stores and seller accounts imported, newest import first, with the ERPNext documents
each became: its Sales Order, its Sales Invoice once paid or shipped, and its credit notes."""

import frappe
from frappe import _

from kraal_connect.commerce import site

LIMIT = 500


def execute(filters=None):
	filters = frappe._dict(filters or {})
	site.check_channel(filters.integration)
	channels = {c.name: c for c in site.channels(filters.company, filters.integration)}
	from_date, to_date = site.period(filters)
	rows = site.orders(list(channels), from_date, to_date, limit=LIMIT)
	for row in rows:
		row["vendor"] = channels[row["integration"]].vendor
	return _columns(), rows


def _columns() -> list[dict]:
	return [
		{"label": _("Imported"), "fieldname": "imported_at", "fieldtype": "Datetime", "width": 160},
		{
			"label": _("Store or Seller Account"),
			"fieldname": "integration",
			"fieldtype": "Link",
			"options": "Kraal Integration",
			"width": 180,
		},
		{"label": _("Channel"), "fieldname": "vendor", "fieldtype": "Data", "width": 90},
		{"label": _("Order"), "fieldname": "order", "fieldtype": "Data", "width": 170},
		{"label": _("Order Date"), "fieldname": "order_date", "fieldtype": "Date", "width": 100},
		{
			"label": _("Sales Order"),
			"fieldname": "sales_order",
			"fieldtype": "Link",
			"options": "Sales Order",
			"width": 160,
		},
		{
			"label": _("Sales Invoice"),
			"fieldname": "sales_invoice",
			"fieldtype": "Link",
			"options": "Sales Invoice",
			"width": 170,
		},
		{"label": _("Credit Notes"), "fieldname": "credit_notes", "fieldtype": "Data", "width": 170},
		{
			"label": _("Customer"),
			"fieldname": "customer",
			"fieldtype": "Link",
			"options": "Customer",
			"width": 160,
		},
		{
			"label": _("Total"),
			"fieldname": "grand_total",
			"fieldtype": "Currency",
			"options": "currency",
			"width": 110,
		},
		{
			"label": _("Currency"),
			"fieldname": "currency",
			"fieldtype": "Link",
			"options": "Currency",
			"width": 80,
		},
		{"label": _("Status"), "fieldname": "status", "fieldtype": "Data", "width": 130},
	]
