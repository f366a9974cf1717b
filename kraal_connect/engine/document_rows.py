"""Hooks that finish what pure mappers cannot: rows that refer to rows of documents written in the
same run."""

import frappe


def link_sales_order_rows(doc, method: str | None = None) -> None:
	"""Sales Invoice before_validate: rows the engine wrote against a Sales Order get the Sales Order
	row they bill (so_detail), so the order counts as billed and, when the invoice moves stock, as
	delivered. A mapper cannot name that row: the order is written in the same run.

	Each row takes the first unused order row of the same item, preferring one of the same quantity.
	"""
	if not doc.flags.kraal_inbound:
		return
	unused: dict[str, list] = {}
	for row in doc.items:
		if not row.sales_order or row.so_detail:
			continue
		if row.sales_order not in unused:
			unused[row.sales_order] = frappe.get_all(
				"Sales Order Item",
				filters={"parent": row.sales_order, "parenttype": "Sales Order"},
				fields=["name", "item_code", "qty"],
				order_by="idx",
			)
		candidates = [c for c in unused[row.sales_order] if c.item_code == row.item_code]
		match = next((c for c in candidates if c.qty == row.qty), candidates[0] if candidates else None)
		if match:
			row.so_detail = match.name
			unused[row.sales_order].remove(match)
