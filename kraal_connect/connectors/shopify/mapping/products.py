"""Shopify products and variants -> Item templates, variants and prices."""

from collections.abc import Mapping
from typing import Any

from kraal_connect.connectors.fields import CENT, as_float, required, to_decimal
from kraal_connect.connectors.shopify.mapping.records import (
	DEFAULT_OPTION,
	PRODUCTS,
	WEIGHT_UOMS,
	ShopifyContext,
	connection_nodes,
	legacy_id,
	variant_type,
)
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.records import Ref, Target


def _options(product: Mapping[str, Any]) -> list[str]:
	"""The option names that make variants (a product without variants has only Title)."""
	options = sorted(product.get("options") or [], key=lambda o: o.get("position") or 0)
	return [o["name"] for o in options if (o["name"], *o.get("values", [])) != DEFAULT_OPTION]


def required_attributes(product: Mapping[str, Any]) -> dict[str, list[str]]:
	"""Item Attributes (and their values) that must exist before the product's variants are written."""
	names = _options(product)
	return {
		o["name"]: list(o.get("values") or []) for o in product.get("options") or [] if o["name"] in names
	}


def variant_item_code(variant: Mapping[str, Any]) -> str:
	"""The SKU when there is one; else a code made of Shopify's variant id, which never changes."""
	return (variant.get("sku") or "").strip() or f"SHOPIFY-V{legacy_id(variant['id'])}"


def product_targets(product: Mapping[str, Any], ctx: ShopifyContext) -> list[Target]:
	"""A product as Items: a template with attributes and one variant Item each (or one Item when the
	product has no options), with the variant's price in the price list. Not active: disabled."""
	label = f"Shopify product {product.get('title') or product.get('id')}"
	product_id = required(product, "id", label)
	title = required(product, "title", label)
	variants = connection_nodes(product, "variants", label)
	if not variants:
		raise RecordError(f"{label}: field 'variants' is empty")
	options = _options(product)
	common = {
		"doctype": "Item",
		"item_group": ctx.item_group,
		"stock_uom": ctx.stock_uom,
		"description": product.get("descriptionHtml") or title,
		"is_sales_item": 1,
		"disabled": 0 if product.get("status") == "ACTIVE" else 1,
	}
	targets = []
	if options:
		template = {
			**common,
			"item_code": f"SHOPIFY-P{legacy_id(product_id)}",
			"item_name": title[:140],
			"has_variants": 1,
			"variant_based_on": "Item Attribute",
			"is_stock_item": 1,
			"attributes": [{"attribute": name} for name in options],
		}
		targets.append(Target("", template))
	for variant in variants:
		vlabel = f"{label} variant {variant.get('title') or variant.get('id')}"
		selected = {o["name"]: o["value"] for o in variant.get("selectedOptions") or []}
		item = {
			**common,
			"item_code": variant_item_code(variant),
			"item_name": (f"{title} - {variant['title']}" if options else title)[:140],
			"is_stock_item": 1 if (variant.get("inventoryItem") or {}).get("tracked") else 0,
			"barcodes": [{"barcode": variant["barcode"]}] if variant.get("barcode") else [],
			"allow_negative_stock": int(ctx.shopify_holds_stock),
			**_weight(variant, vlabel),
			**_unit_cost(variant, vlabel, ctx.default_valuation_rate),
		}
		if options:
			missing = [name for name in options if not selected.get(name)]
			if missing:
				raise RecordError(f"{vlabel}: field 'selectedOptions' has no value for {', '.join(missing)}")
			item["variant_of"] = Ref(PRODUCTS, product_id)
			item["attributes"] = [{"attribute": name, "attribute_value": selected[name]} for name in options]
		key = legacy_id(variant["id"])
		targets.append(Target(f"variant:{key}", item))
		price = to_decimal(required(variant, "price", vlabel), vlabel, "price").quantize(CENT)
		targets.append(
			Target(
				f"price:{key}",
				{
					"doctype": "Item Price",
					"item_code": Ref(variant_type(variant["id"]), product_id),
					"price_list": ctx.price_list,
					"selling": 1,
					"price_list_rate": as_float(price),
				},
			)
		)
	return targets


def _unit_cost(variant: Mapping[str, Any], label: str, default_rate: float) -> dict:
	"""Shopify's cost per item as the Item's valuation rate: what a delivery is valued at when it leaves
	before ERPNext has received the goods, and what an inventory level's first reconciliation uses. A
	variant without one takes the integration's default rate, if it has one."""
	cost = (variant.get("inventoryItem") or {}).get("unitCost") or {}
	if cost.get("amount") in (None, ""):
		return {"valuation_rate": default_rate} if default_rate else {}
	return {"valuation_rate": as_float(to_decimal(cost["amount"], label, "inventoryItem.unitCost.amount"))}


def _weight(variant: Mapping[str, Any], label: str) -> dict:
	weight = ((variant.get("inventoryItem") or {}).get("measurement") or {}).get("weight") or {}
	if not weight.get("value"):
		return {}
	uom = WEIGHT_UOMS.get(weight.get("unit"))
	if not uom:
		raise RecordError(f"{label}: field 'weight.unit' is not a known unit: {weight.get('unit')!r}")
	return {"weight_per_unit": float(weight["value"]), "weight_uom": uom}
