"""What a platform last counted of an item in a warehouse, kept on every inventory sync.

A connector books a count as a Stock Reconciliation only when it changes what ERPNext holds (ERPNext
refuses one that changes nothing), so the documents alone do not say what the platform last reported:
after a sale that both sides took out of stock, the last reconciliation holds an old count. Each count
read is kept here (one Kraal Platform Stock row a platform level: a Shopify inventory level, an Amazon
SKU in a marketplace), in the transaction of the page that read it; the E-commerce view compares
ERPNext's stock with it (commerce/figures.stock_differences).
"""

import frappe
from frappe.utils import flt, get_datetime

DOCTYPE = "Kraal Platform Stock"


def counted(integration: str, level: str, item_code: str, warehouse: str, qty, counted_at) -> None:
	"""The platform's count of level (item, warehouse) at counted_at; an older count than the one kept
	(a record read again out of order) changes nothing."""
	when = get_datetime(counted_at) if counted_at else None
	name = frappe.db.get_value(DOCTYPE, {"integration": integration, "level": level})
	if name is None:
		row = frappe.get_doc(
			{
				"doctype": DOCTYPE,
				"integration": integration,
				"level": level,
				"item_code": item_code,
				"warehouse": warehouse,
				"qty": flt(qty),
				"counted_at": when,
			}
		)
		# The count is read while its record is mapped: the Item it names may be written by that same
		# record (Amazon's first count of a listing), after this row.
		row.flags.ignore_links = True
		row.insert(ignore_permissions=True)
		return
	kept = frappe.db.get_value(DOCTYPE, name, "counted_at")
	if kept and when and get_datetime(kept) > when:
		return
	frappe.db.set_value(
		DOCTYPE,
		name,
		{"item_code": item_code, "warehouse": warehouse, "qty": flt(qty), "counted_at": when},
		update_modified=True,
	)


def counts(integration: str) -> list[tuple[str, str, str, float, str]]:
	"""(level, item code, warehouse, count, when counted) of every level the integration counted."""
	return [
		(r.level, r.item_code, r.warehouse, flt(r.qty), str(r.counted_at or ""))
		for r in frappe.get_all(
			DOCTYPE,
			filters={"integration": integration},
			fields=["level", "item_code", "warehouse", "qty", "counted_at"],
		)
	]
