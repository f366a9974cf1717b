"""Items whose ERPNext stock (Bin) differs from the platform's last known count, per warehouse mapped to a
Shopify location or an Amazon fulfilment network (commerce/site.platform_counts)."""

import frappe
from frappe import _

from kraal_connect.commerce import site


def execute(filters=None):
	filters = frappe._dict(filters or {})
	site.check_channel(filters.integration)
	rows = []
	for channel in site.channels(filters.company, filters.integration):
		for difference in site.inventory(channel.name, channel.vendor)["differences"]:
			if filters.warehouse and difference.warehouse != filters.warehouse:
				continue
			rows.append(
				{
					"integration": channel.name,
					"vendor": channel.vendor,
					"warehouse": difference.warehouse,
					"item_code": difference.item_code,
					"platform_qty": difference.platform_qty,
					"erpnext_qty": difference.erpnext_qty,
					"difference": difference.difference,
					"counted_at": difference.counted_at,
				}
			)
	return _columns(), rows


def _columns() -> list[dict]:
	return [
		{
			"label": _("Store or Seller Account"),
			"fieldname": "integration",
			"fieldtype": "Link",
			"options": "Kraal Integration",
			"width": 180,
		},
		{"label": _("Channel"), "fieldname": "vendor", "fieldtype": "Data", "width": 90},
		{
			"label": _("Warehouse (Location)"),
			"fieldname": "warehouse",
			"fieldtype": "Link",
			"options": "Warehouse",
			"width": 200,
		},
		{"label": _("Item"), "fieldname": "item_code", "fieldtype": "Link", "options": "Item", "width": 200},
		{"label": _("Platform's Count"), "fieldname": "platform_qty", "fieldtype": "Float", "width": 130},
		{"label": _("ERPNext Stock"), "fieldname": "erpnext_qty", "fieldtype": "Float", "width": 120},
		{"label": _("Difference"), "fieldname": "difference", "fieldtype": "Float", "width": 110},
		{"label": _("Counted At"), "fieldname": "counted_at", "fieldtype": "Data", "width": 170},
	]
