"""QBO's stock per item, from its InventoryValuationSummary report, against ERPNext's stock ledger."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kraal_connect.connectors.fields import cents
from kraal_connect.connectors.qbo.mapping.books import report_amount, report_rows
from kraal_connect.connectors.qbo.mapping.records import ZERO

# Quantities are compared to five decimals: ERPNext adds them up as floats.
QTY = Decimal("0.00001")


@dataclass(frozen=True)
class StockBalance:
	"""One item's quantity on hand and its value at QBO and in ERPNext (item_code None: the QBO item
	came over as no ERPNext item; qbo_item_id None: an ERPNext item QBO does not hold)."""

	item_code: str | None
	qbo_item_id: str | None
	name: str
	qbo_qty: Decimal
	qbo_value: Decimal
	erpnext_qty: Decimal
	erpnext_value: Decimal

	@property
	def matches(self) -> bool:
		return (self.qbo_qty, self.qbo_value) == (self.erpnext_qty, self.erpnext_value)


def quantity(value: Any) -> Decimal:
	return Decimal(str(value or 0)).quantize(QTY, rounding=ROUND_HALF_UP)


def qbo_inventory(report: Mapping[str, Any]) -> dict[str, tuple[str, Decimal, Decimal]]:
	"""QBO's InventoryValuationSummary as {item id: (name, quantity on hand, asset value)}."""
	titles = [c.get("ColTitle") for c in (report.get("Columns") or {}).get("Column") or []]
	qty_at, value_at = titles.index("Qty"), titles.index("Asset Value")
	stock = {}
	for cells in report_rows((report.get("Rows") or {}).get("Row") or []):
		item_id = cells[0].get("id")
		if item_id:
			stock[str(item_id)] = (
				cells[0].get("value") or str(item_id),
				quantity(str(cells[qty_at].get("value") or "0").replace(",", "")),
				report_amount(cells[value_at]),
			)
	return stock


def compare_stock(
	qbo: Mapping[str, tuple[str, Decimal, Decimal]],
	erpnext: Mapping[str, tuple[Any, Any]],
	items: Mapping[str, str],
) -> list[StockBalance]:
	"""Item by item: QBO's quantity and value (qbo_inventory) against ERPNext's (item code -> (quantity,
	value)). `items` is QBO item id -> the ERPNext item written for it. Items with nothing on either
	side are left out."""
	balances = []
	for item_id, (name, qbo_qty, qbo_value) in qbo.items():
		code = items.get(item_id)
		qty, value = erpnext.get(code, (0, 0)) if code else (0, 0)
		balances.append(
			StockBalance(code, item_id, name, qbo_qty, qbo_value, quantity(qty), cents(Decimal(str(value))))
		)
	held = {items.get(i) for i in qbo}
	for code, (qty, value) in erpnext.items():
		if code not in held:
			balances.append(
				StockBalance(code, None, code, ZERO, ZERO, quantity(qty), cents(Decimal(str(value))))
			)
	return [b for b in balances if any((b.qbo_qty, b.qbo_value, b.erpnext_qty, b.erpnext_value))]
