"""Shopify inventory levels -> Stock Reconciliation rows per mapped location."""

from collections.abc import Iterable, Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from kraal_connect.connectors.fields import required
from kraal_connect.connectors.shopify.mapping.order_parts import location_warehouse
from kraal_connect.connectors.shopify.mapping.records import (
	ZERO,
	ShopifyContext,
	local_date_time,
	variant_type,
)
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.records import Ref


def inventory_level_key(level: Mapping[str, Any]) -> str:
	"""One external id per state of a level, so each change is its own Stock Reconciliation."""
	return f"{level['id']}@{level['updatedAt']}"


def _quantity(level: Mapping[str, Any], name: str) -> int | None:
	return next((q["quantity"] for q in level.get("quantities") or [] if q["name"] == name), None)


def stock_reconciliation(level: Mapping[str, Any], ctx: ShopifyContext) -> dict | None:
	"""Shopify's on-hand quantity at a location as a Stock Reconciliation of the mapped warehouse.

	Untracked items and levels of items without a variant are not stock in ERPNext: None.
	"""
	label = f"Shopify inventory level {level.get('id')}"
	item = level.get("item") or {}
	variant = item.get("variant") or {}
	if not item.get("tracked") or not variant.get("product"):
		return None
	on_hand = _quantity(level, "on_hand")
	if on_hand is None:
		raise RecordError(f"{label}: field 'quantities' has no on_hand quantity")
	date, time = local_date_time(required(level, "updatedAt", label), ctx, label, "updatedAt")
	return {
		"doctype": "Stock Reconciliation",
		"company": ctx.company,
		"purpose": "Stock Reconciliation",
		"posting_date": date,
		"posting_time": time,
		"set_posting_time": 1,
		"items": [
			{
				"item_code": Ref(variant_type(variant["id"]), variant["product"]["id"]),
				"warehouse": location_warehouse(level.get("location"), ctx, label),
				"qty": on_hand,
			}
		],
		"docstatus": 1,
	}


def inventory_quantities(
	stock: Iterable[tuple[str, str, float]], inventory_items: Mapping[str, str], warehouses: Mapping[str, str]
) -> list[dict]:
	"""ERPNext's available quantities, (item code, warehouse, quantity) rows, as inventorySetQuantities
	inputs for the mapped locations (warehouses: Shopify location id -> Warehouse, as in the context).
	Items Shopify does not know and unmapped warehouses are left out; Shopify counts whole units, so a
	fraction is rounded down."""
	locations: dict[str, str] = {}
	for location, warehouse in warehouses.items():
		if warehouse in locations:
			raise ValueError(
				f"warehouse {warehouse} is mapped to two Shopify locations; quantities would double"
			)
		locations[warehouse] = location
	totals: dict[tuple[str, str], Decimal] = {}
	for item_code, warehouse, quantity in stock:
		inventory_item, location = inventory_items.get(item_code), locations.get(warehouse)
		if inventory_item and location:
			key = (inventory_item, location)
			totals[key] = totals.get(key, ZERO) + Decimal(str(quantity))
	return [
		{"inventoryItemId": item, "locationId": location, "quantity": int(qty.to_integral_value(ROUND_FLOOR))}
		for (item, location), qty in totals.items()
	]
