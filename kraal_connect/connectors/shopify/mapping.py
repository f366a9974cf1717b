"""Shopify records -> ERPNext documents. Pure: everything from the site comes in the ShopifyContext.

Orders are booked in the currency the customer paid in (Shopify's presentment currency) at the rate
Shopify used, so every ERPNext total equals Shopify's to the cent: items at their original unit price,
every discount allocation in the document's additional discount (on the net total), taxes and shipping
as fixed amounts. Payments move the amounts Shopify settled in the store's currency, which must be the
company's currency.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from kraal_connect.connectors.fields import CENT, as_float, mapped, required, to_decimal
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.records import Ref, Target

ZERO = Decimal("0")

# Entities, and the external types of the documents they write (see engine.records.external_type).
PRODUCTS = "product"
CUSTOMERS = "customer"
ORDERS = "order"
INVENTORY = "inventory_level"

# Kraal Account Mapping key types.
LOCATION_MAPPING = "Shopify Location"
GATEWAY_MAPPING = "Shopify Payment Gateway"
TAX_MAPPING = "Shopify Tax"

# Shopify's weight units -> the UOMs ERPNext installs.
WEIGHT_UOMS = {"KILOGRAMS": "Kg", "GRAMS": "Gram", "POUNDS": "Pound", "OUNCES": "Ounce"}
# What Shopify calls the one option of a product without variants.
DEFAULT_OPTION = ("Title", "Default Title")
PAID_KINDS = ("SALE", "CAPTURE")
RESTOCKED_TYPES = ("RETURN", "LEGACY_RESTOCK")


@dataclass(frozen=True)
class ShopifyContext:
	company: str
	company_currency: str
	price_list: str
	item_group: str
	customer_group: str
	territory: str
	# The company's receivable account: payments and refunds settle against it.
	receivable_account: str
	# Sales Order items reserve stock here; fulfillments leave from their location's warehouse.
	default_warehouse: str
	# A non-stock Item that stands in for lines of products deleted at Shopify.
	fallback_item: str
	# Orders without a customer go to this Customer; None: each guest order gets a Customer of its own.
	guest_customer: str | None = None
	# Shipping is booked as a line of this (non-stock) Item, or else as a charge to this account.
	shipping_item: str | None = None
	shipping_account: str | None = None
	# Where the difference goes when Shopify refunds less (or more) than the refunded lines are worth.
	refund_discrepancy_account: str | None = None
	# The store's time zone (shop.ianaTimezone): Shopify's UTC timestamps become local dates.
	timezone: str = "UTC"
	stock_uom: str = "Nos"
	# Shopify location id -> Warehouse
	warehouses: Mapping[str, str] = field(default_factory=dict)
	# payment gateway (transaction.gateway, e.g. shopify_payments) -> Account money arrives in
	gateway_accounts: Mapping[str, str] = field(default_factory=dict)
	# tax line title (e.g. "NY State Tax") -> Account
	tax_accounts: Mapping[str, str] = field(default_factory=dict)
	# ISO country code -> ERPNext Country name
	countries: Mapping[str, str] = field(default_factory=dict)
	# Shopify holds the stock: ERPNext records every fulfillment Shopify made even when its own count
	# lags (the next inventory level sets it right), so the Items allow negative stock.
	shopify_holds_stock: bool = False

	def __post_init__(self):
		if bool(self.shipping_item) == bool(self.shipping_account):
			raise ValueError("set exactly one of shipping_item and shipping_account")


# -- helpers ---------------------------------------------------------------------------------


def legacy_id(gid: str) -> str:
	"""The number in gid://shopify/Type/123 (or gid://shopify/Type/123?param=…)."""
	return gid.rsplit("/", 1)[-1].split("?", 1)[0]


def variant_type(variant_id: str) -> str:
	"""The external type of the Item written for a variant (its record is the product)."""
	return f"{PRODUCTS}:variant:{legacy_id(variant_id)}"


def _money(holder: Mapping[str, Any], fieldname: str, label: str, side: str = "presentmentMoney") -> Decimal:
	"""An amount of a MoneyBag field, in the presentment (default) or the shop currency."""
	bag = holder.get(fieldname)
	if not bag or not bag.get(side):
		raise RecordError(f"{label}: field '{fieldname}' is missing")
	return to_decimal(bag[side].get("amount"), label, f"{fieldname}.{side}.amount").quantize(CENT)


def _local(timestamp: str, ctx: ShopifyContext, label: str, fieldname: str) -> tuple[str, str]:
	"""A Shopify UTC timestamp as the store's local date and time."""
	try:
		moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(ZoneInfo(ctx.timezone))
	except (AttributeError, ValueError):
		raise RecordError(f"{label}: field '{fieldname}' is not a timestamp: {timestamp!r}") from None
	return moment.date().isoformat(), moment.strftime("%H:%M:%S")


def _nodes(holder: Mapping[str, Any], fieldname: str, label: str) -> list[dict]:
	"""A connection's nodes; refused when Shopify cut it short, since half a record must not be booked."""
	value = holder.get(fieldname)
	if isinstance(value, list):
		return value
	value = value or {}
	if (value.get("pageInfo") or {}).get("hasNextPage"):
		raise RecordError(f"{label}: field '{fieldname}' has more rows than one query returns")
	return value.get("nodes") or [e["node"] for e in value.get("edges") or []]


# -- products --------------------------------------------------------------------------------


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
	variants = _nodes(product, "variants", label)
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
			**_unit_cost(variant, vlabel),
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


def _unit_cost(variant: Mapping[str, Any], label: str) -> dict:
	"""Shopify's cost per item as the Item's valuation rate: what a delivery is valued at when it leaves
	before ERPNext has received the goods, and what an inventory level's first reconciliation uses."""
	cost = (variant.get("inventoryItem") or {}).get("unitCost") or {}
	if cost.get("amount") in (None, ""):
		return {}
	return {"valuation_rate": as_float(to_decimal(cost["amount"], label, "inventoryItem.unitCost.amount"))}


def _weight(variant: Mapping[str, Any], label: str) -> dict:
	weight = ((variant.get("inventoryItem") or {}).get("measurement") or {}).get("weight") or {}
	if not weight.get("value"):
		return {}
	uom = WEIGHT_UOMS.get(weight.get("unit"))
	if not uom:
		raise RecordError(f"{label}: field 'weight.unit' is not a known unit: {weight.get('unit')!r}")
	return {"weight_per_unit": float(weight["value"]), "weight_uom": uom}


# -- customers -------------------------------------------------------------------------------


def _email(customer: Mapping[str, Any]) -> str | None:
	return (customer.get("defaultEmailAddress") or {}).get("emailAddress") or customer.get("email")


def _phone(customer: Mapping[str, Any]) -> str | None:
	return (customer.get("defaultPhoneNumber") or {}).get("phoneNumber") or customer.get("phone")


def customer_name(customer: Mapping[str, Any]) -> str:
	full = " ".join(p for p in (customer.get("firstName"), customer.get("lastName")) if p)
	return (
		customer.get("displayName")
		or full
		or _email(customer)
		or _phone(customer)
		or f"Shopify customer {legacy_id(customer['id'])}"
	)


def _customer_doc(name: str, ctx: ShopifyContext) -> dict:
	return {
		"doctype": "Customer",
		"customer_name": name[:140],
		"customer_type": "Individual",
		"customer_group": ctx.customer_group,
		"territory": ctx.territory,
	}


def address_doc(
	address: Mapping[str, Any],
	title: str,
	ctx: ShopifyContext,
	links: list[dict],
	primary: bool,
	email: str | None,
) -> dict | None:
	"""An ERPNext Address, or None when Shopify's lacks what ERPNext requires (street, city, country)."""
	country = ctx.countries.get(address.get("countryCodeV2") or "") or address.get("country")
	if not (address.get("address1") and address.get("city") and country):
		return None
	return {
		"doctype": "Address",
		"address_title": title[:140],
		"address_type": "Billing",
		"address_line1": address["address1"],
		"address_line2": address.get("address2") or "",
		"city": address["city"],
		"state": address.get("province") or "",
		"pincode": address.get("zip") or "",
		"country": country,
		"phone": address.get("phone") or "",
		"email_id": email or "",
		"is_primary_address": int(primary),
		"is_shipping_address": int(primary),
		"links": links,
	}


def customer_targets(customer: Mapping[str, Any], ctx: ShopifyContext) -> list[Target]:
	"""A customer as Customer, an Address per usable address, and a Contact with email and phone."""
	label = f"Shopify customer {customer.get('id')}"
	customer_id = required(customer, "id", label)
	name = customer_name(customer)
	email, phone = _email(customer), _phone(customer)
	links = [{"link_doctype": "Customer", "link_name": Ref(CUSTOMERS, customer_id)}]
	targets = [Target("", _customer_doc(name, ctx))]
	default_id = (customer.get("defaultAddress") or {}).get("id")
	for address in customer.get("addresses") or []:
		doc = address_doc(address, name, ctx, links, address.get("id") == default_id, email)
		if doc:
			targets.append(Target(f"address:{legacy_id(address['id'])}", doc))
	if email or phone:
		contact = {
			"doctype": "Contact",
			"first_name": customer.get("firstName") or name,
			"last_name": customer.get("lastName") or "",
			"is_primary_contact": 1,
			"email_ids": [{"email_id": email, "is_primary": 1}] if email else [],
			"phone_nos": [{"phone": phone, "is_primary_phone": 1, "is_primary_mobile_no": 1}]
			if phone
			else [],
			"links": links,
		}
		targets.append(Target("contact", contact))
	return targets


# -- orders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
	"""A Shopify line item as it is booked: the Item, the quantity, the original unit price, the
	discounts allocated to it and its taxes by title, all in the presentment currency."""

	id: str
	title: str
	item_code: Any
	quantity: int
	rate: Decimal
	discount: Decimal
	taxes: Mapping[str, Decimal]
	fallback: bool


@dataclass(frozen=True)
class Totals:
	subtotal: Decimal
	discounts: Decimal
	shipping: Decimal
	tax: Decimal
	total: Decimal


def _order_label(order: Mapping[str, Any]) -> str:
	return f"Shopify order {order.get('name') or order.get('id') or '(no id)'}"


def _taxes_by_title(rows: Iterable[Mapping[str, Any]], label: str) -> dict[str, Decimal]:
	taxes: dict[str, Decimal] = {}
	for row in rows or []:
		taxes[row["title"]] = taxes.get(row["title"], ZERO) + _money(row, "priceSet", label)
	return taxes


def order_lines(order: Mapping[str, Any], ctx: ShopifyContext) -> dict[str, Line]:
	"""The order's line items by id; a line whose product or variant was deleted uses the fallback Item."""
	label = _order_label(order)
	lines = {}
	for node in _nodes(order, "lineItems", label):
		line_label = f"{label} line {node.get('title') or node.get('id')}"
		variant, product = node.get("variant"), node.get("product")
		fallback = not (variant and product)
		quantity = required(node, "quantity", line_label)
		lines[node["id"]] = Line(
			id=node["id"],
			title=node.get("name") or node.get("title") or "",
			item_code=ctx.fallback_item if fallback else Ref(variant_type(variant["id"]), product["id"]),
			quantity=int(quantity),
			rate=_money(node, "originalUnitPriceSet", line_label),
			discount=sum(
				(_money(a, "allocatedAmountSet", line_label) for a in node.get("discountAllocations") or []),
				ZERO,
			),
			taxes=_taxes_by_title(node.get("taxLines"), line_label),
			fallback=fallback,
		)
	return lines


def fallback_lines(order: Mapping[str, Any]) -> list[str]:
	"""The lines booked against the fallback Item because their product is gone at Shopify, for the log."""
	result = []
	for node in _nodes(order, "lineItems", _order_label(order)):
		if not (node.get("variant") and node.get("product")):
			sku = f", SKU {node['sku']}" if node.get("sku") else ""
			result.append(f"{node.get('name') or node.get('title')}{sku} x {node.get('quantity')}")
	return result


def _item_row(line: Line, quantity: int, **extra) -> dict:
	row = {
		"item_code": line.item_code,
		"qty": quantity,
		"rate": as_float(line.rate),
		"price_list_rate": as_float(line.rate),
		**extra,
	}
	if line.fallback:
		row["item_name"] = line.title[:140]
		row["description"] = f"{line.title} (product deleted at Shopify)"
	return row


def _discount_note(order: Mapping[str, Any]) -> str:
	parts = []
	for application in _nodes(order, "discountApplications", _order_label(order)):
		name = application.get("code") or application.get("title") or application.get("__typename")
		value = application.get("value") or {}
		if "percentage" in value:
			parts.append(f"{name} ({value['percentage']:g}%)")
		elif value.get("amount") is not None:
			parts.append(f"{name} ({value['amount']} {value.get('currencyCode', '')})".replace(" )", ")"))
		else:
			parts.append(str(name))
	return ", ".join(parts)


def _shipping_lines(order: Mapping[str, Any], label: str) -> list[dict]:
	return [s for s in _nodes(order, "shippingLines", label) if not s.get("isRemoved")]


def _shipping_rows(title: str, amount: Decimal, ctx: ShopifyContext) -> tuple[list[dict], list[dict]]:
	"""Shipping as (item rows, charge rows): a line of the shipping Item, or a charge to its account."""
	if not amount:
		return [], []
	if ctx.shipping_item:
		row = {
			"item_code": ctx.shipping_item,
			"qty": 1 if amount > 0 else -1,
			"rate": as_float(abs(amount)),
			"price_list_rate": as_float(abs(amount)),
			"description": f"Shipping: {title}",
		}
		return [row], []
	charge = {
		"charge_type": "Actual",
		"account_head": ctx.shipping_account,
		"description": f"Shipping: {title}",
		"tax_amount": as_float(amount),
	}
	return [], [charge]


def _tax_rows(taxes: Mapping[str, Decimal], ctx: ShopifyContext, label: str, sign: int = 1) -> list[dict]:
	return [
		{
			"charge_type": "Actual",
			"account_head": mapped(ctx.tax_accounts, TAX_MAPPING, title, label),
			"description": title,
			"tax_amount": as_float(sign * amount),
		}
		for title, amount in taxes.items()
		if amount
	]


def _conversion_rate(order: Mapping[str, Any], label: str) -> float:
	"""Shop currency per presentment unit, as Shopify converted this order."""
	if order.get("presentmentCurrencyCode") == order.get("currencyCode"):
		return 1.0
	presentment = _money(order, "totalPriceSet", label)
	shop = _money(order, "totalPriceSet", label, "shopMoney")
	if not presentment:
		raise RecordError(f"{label}: field 'totalPriceSet' is zero; no exchange rate can be derived")
	return float((shop / presentment).quantize(Decimal("0.000000001")))


def _successful(transactions: Iterable[Mapping[str, Any]], kinds: tuple[str, ...]) -> list[dict]:
	return [t for t in transactions or [] if t.get("kind") in kinds and t.get("status") == "SUCCESS"]


def _customer(order: Mapping[str, Any], ctx: ShopifyContext) -> tuple[Any, list[Target]]:
	"""The party of the order's documents, and the Customer to write first for a guest checkout."""
	if order.get("customer"):
		return Ref(CUSTOMERS, order["customer"]["id"]), []
	if ctx.guest_customer:
		return ctx.guest_customer, []
	billing = order.get("billingAddress") or {}
	name = billing.get("name") or order.get("email") or f"Shopify guest {order.get('name')}"
	return Ref(f"{ORDERS}:customer", order["id"]), [Target("customer", _customer_doc(name, ctx))]


def order_targets(order: Mapping[str, Any], ctx: ShopifyContext) -> list[Target]:
	"""An order as Sales Order; once paid a Sales Invoice and a Payment Entry per settled transaction;
	a Delivery Note per fulfillment; per refund a credit note, its payments and the restocked goods.

	A cancelled order that was never paid cancels its Sales Order. Paid ones are undone by their refunds.
	"""
	label = _order_label(order)
	order_id = required(order, "id", label)
	if order.get("currencyCode") != ctx.company_currency:
		raise RecordError(
			f"{label}: field 'currencyCode' is {order.get('currencyCode')}, not the company's currency "
			f"{ctx.company_currency}"
		)
	if order.get("taxesIncluded"):
		raise RecordError(
			f"{label}: field 'taxesIncluded' is true; prices that include tax are not supported yet"
		)
	lines = order_lines(order, ctx)
	customer, targets = _customer(order, ctx)
	common = {
		"company": ctx.company,
		"customer": customer,
		"currency": required(order, "presentmentCurrencyCode", label),
		"conversion_rate": _conversion_rate(order, label),
		"selling_price_list": ctx.price_list,
		"ignore_pricing_rule": 1,
		"disable_rounded_total": 1,
		"po_no": order.get("name") or legacy_id(order_id),
	}
	sale = _Sale.of(order, lines, ctx, label)
	paid = _successful(order.get("transactions"), PAID_KINDS)
	targets.append(Target("", _sales_order(order, lines, sale, common, bool(paid), ctx, label)))
	if paid:
		targets.append(Target("invoice", _sales_invoice(order, sale, common, paid[0], ctx, label)))
		for transaction in paid:
			payment = _payment(transaction, order, customer, ctx, label)
			targets.append(Target(f"payment:{legacy_id(transaction['id'])}", payment))
	deliveries = {}
	for fulfillment in order.get("fulfillments") or []:
		delivery = _delivery_note(fulfillment, lines, common, order_id, ctx, label)
		if delivery:
			deliveries[fulfillment["id"]] = fulfillment
			targets.append(Target(f"delivery:{legacy_id(fulfillment['id'])}", delivery))
	for refund in order.get("refunds") or []:
		targets += _refund_targets(refund, order, lines, common, customer, deliveries, bool(paid), ctx, label)
	return targets


@dataclass(frozen=True)
class _Sale:
	"""The rows an order's Sales Order and Sales Invoice share: goods, shipping, charges, discount."""

	items: list[dict]
	shipping_items: list[dict]
	charges: list[dict]
	discount: Decimal

	@classmethod
	def of(
		cls, order: Mapping[str, Any], lines: Mapping[str, Line], ctx: ShopifyContext, label: str
	) -> "_Sale":
		shipping_items, charges = [], []
		for shipping in _shipping_lines(order, label):
			amount = _money(shipping, "discountedPriceSet", label)
			rows, extra = _shipping_rows(shipping.get("title") or "", amount, ctx)
			shipping_items += rows
			charges += extra
		taxes = _tax_rows(_taxes_by_title(order.get("taxLines"), label), ctx, label)
		return cls(
			items=[_item_row(line, line.quantity) for line in lines.values()],
			shipping_items=shipping_items,
			charges=charges + taxes,
			discount=sum((line.discount for line in lines.values()), ZERO),
		)

	def totals(self) -> dict:
		"""Taxes and charges, and every discount as the document's additional discount on the net total."""
		discount = {"apply_discount_on": "Net Total", "discount_amount": as_float(self.discount)}
		return {"taxes": self.charges, **(discount if self.discount else {})}


def _sales_order(order, lines: Mapping[str, Line], sale: _Sale, common: dict, paid: bool, ctx, label) -> dict:
	"""The Sales Order; cancelled (docstatus 2) when Shopify cancelled the order before it was paid."""
	date, _ = _local(required(order, "processedAt", label), ctx, label, "processedAt")
	items = [
		{**row, "delivery_date": date, "warehouse": ctx.default_warehouse, **_notes(line)}
		for row, line in zip(sale.items, lines.values(), strict=True)
	]
	sales_order = {
		**common,
		**sale.totals(),
		"doctype": "Sales Order",
		"order_type": "Sales",
		"transaction_date": date,
		"delivery_date": date,
		"items": items + [{**row, "delivery_date": date} for row in sale.shipping_items],
		"docstatus": 2 if order.get("cancelledAt") and not paid else 1,
	}
	_check_totals(order, sales_order, ctx, label)
	return sales_order


def _sales_invoice(order, sale: _Sale, common: dict, first_payment: Mapping[str, Any], ctx, label) -> dict:
	"""The Sales Invoice, dated when Shopify first settled money for the order."""
	date, time = _local(
		first_payment.get("processedAt") or first_payment["createdAt"], ctx, label, "processedAt"
	)
	return {
		**common,
		**sale.totals(),
		"doctype": "Sales Invoice",
		"posting_date": date,
		"posting_time": time,
		"set_posting_time": 1,
		"due_date": date,
		"update_stock": 0,
		"items": [{**row, "sales_order": Ref(ORDERS, order["id"])} for row in sale.items]
		+ sale.shipping_items,
		"remarks": _remarks(order),
		"docstatus": 1,
	}


def _notes(line: Line) -> dict:
	if line.fallback:
		return {
			"additional_notes": f"{line.title}: the product was deleted at Shopify; booked as the fallback item"
		}
	if line.discount:
		return {"additional_notes": f"Shopify discounts on this line: {line.discount}"}
	return {}


def _remarks(order: Mapping[str, Any]) -> str:
	parts = [f"Shopify order {order.get('name')}"]
	note = _discount_note(order)
	if note:
		parts.append(f"discounts: {note}")
	fallbacks = fallback_lines(order)
	if fallbacks:
		parts.append(f"products deleted at Shopify: {'; '.join(fallbacks)}")
	return "; ".join(parts)


def _check_totals(order: Mapping[str, Any], doc: dict, ctx: ShopifyContext, label: str) -> None:
	ours, theirs = erpnext_totals(doc, ctx), shopify_totals(order)
	if ours != theirs:
		differences = ", ".join(
			f"{name} {getattr(ours, name)} instead of {getattr(theirs, name)}"
			for name in Totals.__dataclass_fields__
			if getattr(ours, name) != getattr(theirs, name)
		)
		raise RecordError(f"{label}: the Sales Order would not match Shopify's totals: {differences}")


def _payment(transaction: Mapping[str, Any], order, customer, ctx: ShopifyContext, label: str) -> dict:
	"""Money Shopify settled for the order: from the customer's receivable into the gateway's account."""
	tlabel = f"{label} transaction {legacy_id(transaction['id'])}"
	amount = _money(transaction, "amountSet", tlabel, "shopMoney")
	date, _ = _local(transaction.get("processedAt") or transaction["createdAt"], ctx, tlabel, "processedAt")
	account = mapped(ctx.gateway_accounts, GATEWAY_MAPPING, transaction.get("gateway") or "", tlabel)
	return {
		**_payment_common(transaction, customer, ctx, date, amount),
		"payment_type": "Receive",
		"paid_from": ctx.receivable_account,
		"paid_to": account,
		"references": [
			{
				"reference_doctype": "Sales Invoice",
				"reference_name": Ref(f"{ORDERS}:invoice", order["id"]),
				"allocated_amount": as_float(amount),
			}
		],
		"remarks": f"{transaction.get('formattedGateway') or transaction.get('gateway')} payment for {order.get('name')}",
	}


def _payment_common(transaction, customer, ctx: ShopifyContext, date: str, amount: Decimal) -> dict:
	return {
		"doctype": "Payment Entry",
		"company": ctx.company,
		"posting_date": date,
		"party_type": "Customer",
		"party": customer,
		"paid_from_account_currency": ctx.company_currency,
		"paid_to_account_currency": ctx.company_currency,
		"paid_amount": as_float(amount),
		"received_amount": as_float(amount),
		"source_exchange_rate": 1,
		"target_exchange_rate": 1,
		"reference_no": transaction.get("authorizationCode") or legacy_id(transaction["id"]),
		"reference_date": date,
		"docstatus": 1,
	}


def _warehouse(location: Mapping[str, Any] | None, ctx: ShopifyContext, label: str) -> str:
	if not location:
		raise RecordError(f"{label}: field 'location' is missing")
	return mapped(ctx.warehouses, LOCATION_MAPPING, location["id"], label)


def _delivery_note(fulfillment, lines: Mapping[str, Line], common: dict, order_id, ctx, label) -> dict | None:
	"""A successful fulfillment as a Delivery Note from its location's warehouse; a cancelled one cancels it."""
	status = fulfillment.get("status")
	if status not in ("SUCCESS", "CANCELLED"):
		return None
	flabel = f"{label} fulfillment {fulfillment.get('name') or legacy_id(fulfillment['id'])}"
	warehouse = _warehouse(fulfillment.get("location"), ctx, flabel)
	date, time = _local(required(fulfillment, "createdAt", flabel), ctx, flabel, "createdAt")
	items = []
	for row in _nodes(fulfillment, "fulfillmentLineItems", flabel):
		line = lines.get(row["lineItem"]["id"])
		if line is None:
			raise RecordError(f"{flabel}: field 'lineItem' names a line the order does not have")
		items.append(
			_item_row(
				line, int(row["quantity"]), warehouse=warehouse, against_sales_order=Ref(ORDERS, order_id)
			)
		)
	return {
		**common,
		"doctype": "Delivery Note",
		"posting_date": date,
		"posting_time": time,
		"set_posting_time": 1,
		"items": items,
		"docstatus": 1 if status == "SUCCESS" else 2,
	}


def _split(total: Decimal, weights: Mapping[str, Decimal], label: str) -> dict[str, Decimal]:
	"""Share total out by weights to the cent; the rounding remainder goes to the largest share."""
	if not total:
		return {}
	base = sum(weights.values(), ZERO)
	if not base:
		raise RecordError(f"{label}: tax of {total} refunded on a line that carried no tax")
	shares = {k: (total * w / base).quantize(CENT) for k, w in weights.items()}
	largest = max(shares, key=lambda k: abs(shares[k]))
	shares[largest] += total - sum(shares.values(), ZERO)
	return shares


@dataclass
class _Refunded:
	"""What one refund takes back, in the presentment currency, as credit note rows."""

	items: list[dict] = field(default_factory=list)
	charges: list[dict] = field(default_factory=list)
	taxes: dict[str, Decimal] = field(default_factory=dict)
	net: Decimal = ZERO
	discount: Decimal = ZERO

	def tax(self, shares: Mapping[str, Decimal]) -> None:
		for title, amount in shares.items():
			self.taxes[title] = self.taxes.get(title, ZERO) + amount


def _refund_targets(
	refund, order, lines, common, customer, deliveries, invoiced: bool, ctx: ShopifyContext, label
) -> list[Target]:
	"""A refund as a credit note against the invoice, a payment per refunded transaction, and a return
	against the delivery of every restocked good. An order cancelled before it was paid has a refund
	without money (the goods go back to stock): only the returns are booked for it."""
	rid = legacy_id(refund["id"])
	rlabel = f"{label} refund {rid}"
	date, time = _local(required(refund, "createdAt", rlabel), ctx, rlabel, "createdAt")
	refunded = _refunded(refund, order, lines, ctx, rlabel)
	total = _money(refund, "totalRefundedSet", rlabel)
	targets = []
	if not invoiced:
		if total:
			raise RecordError(f"{rlabel}: refunds {total} of an order that was never paid")
	elif refunded.items or refunded.charges:
		credit_note = {
			**common,
			"doctype": "Sales Invoice",
			"is_return": 1,
			"return_against": Ref(f"{ORDERS}:invoice", order["id"]),
			"posting_date": date,
			"posting_time": time,
			"set_posting_time": 1,
			"update_stock": 0,
			"items": refunded.items,
			"taxes": refunded.charges
			+ _tax_rows(refunded.taxes, ctx, rlabel, sign=-1)
			+ _discrepancy(refunded, total, ctx, rlabel),
			"remarks": f"Refund of Shopify order {order.get('name')}"
			+ (f": {refund['note']}" if refund.get("note") else ""),
			"docstatus": 1,
		}
		if refunded.discount:
			credit_note.update(apply_discount_on="Net Total", discount_amount=as_float(-refunded.discount))
		targets.append(Target(f"refund:{rid}", credit_note))
	elif total:
		raise RecordError(
			f"{rlabel}: refunds {total} without lines or shipping; ERPNext needs items on a credit note, "
			"so book it by hand"
		)
	for transaction in _successful(_nodes(refund, "transactions", rlabel), ("REFUND",)):
		payment = _refund_payment(transaction, order, rid, customer, ctx, rlabel)
		targets.append(Target(f"refund_payment:{legacy_id(transaction['id'])}", payment))
	for fulfillment_id, rows in _restocked(refund, lines, deliveries, ctx, rlabel).items():
		returned = {
			**common,
			"doctype": "Delivery Note",
			"is_return": 1,
			"return_against": Ref(f"{ORDERS}:delivery:{legacy_id(fulfillment_id)}", order["id"]),
			"posting_date": date,
			"posting_time": time,
			"set_posting_time": 1,
			"items": rows,
			"docstatus": 1,
		}
		targets.append(Target(f"restock:{rid}:{legacy_id(fulfillment_id)}", returned))
	return targets


def _refunded(refund, order, lines: Mapping[str, Line], ctx: ShopifyContext, label: str) -> _Refunded:
	"""Refunded lines at their original price less their share of the discounts, refunded shipping, and
	the refunded tax shared out over the titles the line (or shipping) was taxed under."""
	result = _Refunded()
	for row in _nodes(refund, "refundLineItems", label):
		line = lines.get(row["lineItem"]["id"])
		if line is None:
			raise RecordError(f"{label}: field 'lineItem' names a line the order does not have")
		quantity = int(row["quantity"])
		subtotal = _money(row, "subtotalSet", label)
		result.items.append(_item_row(line, -quantity))
		result.discount += line.rate * quantity - subtotal
		result.net += subtotal
		result.tax(_split(_money(row, "totalTaxSet", label), line.taxes, label))
	shipping_by_id = {s.get("id"): s for s in _shipping_lines(order, label)}
	for row in _nodes(refund, "refundShippingLines", label):
		subtotal = _money(row, "subtotalAmountSet", label)
		shipping = shipping_by_id.get((row.get("shippingLine") or {}).get("id")) or {}
		items, charges = _shipping_rows(shipping.get("title") or "", -subtotal, ctx)
		result.items += items
		result.charges += charges
		result.net += subtotal
		taxed = _taxes_by_title(shipping.get("taxLines"), label)
		result.tax(_split(_money(row, "taxAmountSet", label), taxed, label))
	return result


def _discrepancy(refunded: _Refunded, total: Decimal, ctx: ShopifyContext, label: str) -> list[dict]:
	"""A charge for the difference when Shopify refunded other than what the refunded rows come to."""
	worth = refunded.net + sum(refunded.taxes.values(), ZERO)
	if worth == total:
		return []
	if not ctx.refund_discrepancy_account:
		raise RecordError(
			f"{label}: Shopify refunded {total} for rows worth {worth}; "
			"set a refund discrepancy account on the integration"
		)
	return [
		{
			"charge_type": "Actual",
			"account_head": ctx.refund_discrepancy_account,
			"description": "Refund discrepancy",
			"tax_amount": as_float(worth - total),
		}
	]


def _restocked(
	refund, lines: Mapping[str, Line], deliveries, ctx: ShopifyContext, label: str
) -> dict[str, list[dict]]:
	"""Return rows by fulfillment for the refunded goods Shopify put back in stock."""
	restock: dict[str, list[dict]] = {}
	for row in _nodes(refund, "refundLineItems", label):
		if row.get("restockType") in RESTOCKED_TYPES and row.get("restocked"):
			line = lines[row["lineItem"]["id"]]
			_restock(row, line, int(row["quantity"]), deliveries, restock, ctx, label)
	return restock


def _restock(
	row, line: Line, quantity: int, deliveries, restock: dict, ctx: ShopifyContext, label: str
) -> None:
	"""Goods back in stock: returned against the fulfillments that delivered them, into the warehouse of
	the location Shopify restocked them at."""
	remaining = quantity
	for fulfillment_id, fulfillment in deliveries.items():
		if fulfillment.get("status") != "SUCCESS" or not remaining:
			continue
		delivered = sum(
			int(r["quantity"])
			for r in _nodes(fulfillment, "fulfillmentLineItems", label)
			if r["lineItem"]["id"] == line.id
		)
		if not delivered:
			continue
		taken = min(delivered, remaining)
		remaining -= taken
		warehouse = _warehouse(row.get("location") or fulfillment.get("location"), ctx, label)
		restock.setdefault(fulfillment_id, []).append(_item_row(line, -taken, warehouse=warehouse))


def _refund_payment(transaction, order, refund_id: str, customer, ctx: ShopifyContext, label: str) -> dict:
	"""Money Shopify sent back: out of the gateway's account, settling the credit note."""
	amount = _money(transaction, "amountSet", label, "shopMoney")
	date, _ = _local(transaction.get("processedAt") or transaction["createdAt"], ctx, label, "processedAt")
	account = mapped(ctx.gateway_accounts, GATEWAY_MAPPING, transaction.get("gateway") or "", label)
	return {
		**_payment_common(transaction, customer, ctx, date, amount),
		"payment_type": "Pay",
		"paid_from": account,
		"paid_to": ctx.receivable_account,
		"references": [
			{
				"reference_doctype": "Sales Invoice",
				"reference_name": Ref(f"{ORDERS}:refund:{refund_id}", order["id"]),
				"allocated_amount": as_float(-amount),
			}
		],
		"remarks": f"Refund for Shopify order {order.get('name')}",
	}


# -- totals ----------------------------------------------------------------------------------


def shopify_totals(order: Mapping[str, Any], side: str = "presentmentMoney") -> Totals:
	"""The order's totals as Shopify states them."""
	label = _order_label(order)

	def amount(fieldname: str) -> Decimal:
		return _money(order, fieldname, label, side) if order.get(fieldname) else ZERO

	return Totals(
		subtotal=amount("subtotalPriceSet"),
		discounts=amount("totalDiscountsSet"),
		shipping=amount("totalShippingPriceSet"),
		tax=amount("totalTaxSet"),
		total=amount("totalPriceSet"),
	)


def erpnext_totals(doc: Mapping[str, Any], ctx: ShopifyContext) -> Totals:
	"""The totals ERPNext will compute for a mapped selling document, in Shopify's terms."""

	def cents(value: Any) -> Decimal:
		return Decimal(str(value or 0)).quantize(CENT)

	goods = shipping = tax = ZERO
	for row in doc.get("items") or []:
		amount = cents(Decimal(str(row["qty"])) * cents(row["rate"]))
		if ctx.shipping_item and row["item_code"] == ctx.shipping_item:
			shipping += amount
		else:
			goods += amount
	for row in doc.get("taxes") or []:
		if ctx.shipping_account and row["account_head"] == ctx.shipping_account:
			shipping += cents(row["tax_amount"])
		else:
			tax += cents(row["tax_amount"])
	discounts = cents(doc.get("discount_amount"))
	subtotal = goods - discounts
	return Totals(subtotal, discounts, shipping, tax, subtotal + shipping + tax)


# -- inventory -------------------------------------------------------------------------------


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
	date, time = _local(required(level, "updatedAt", label), ctx, label, "updatedAt")
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
				"warehouse": _warehouse(level.get("location"), ctx, label),
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
