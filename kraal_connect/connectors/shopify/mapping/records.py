"""Shopify record types, what the site tells the mappers (ShopifyContext), and reading Shopify records."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from kraal_connect.connectors.fields import CENT, to_decimal
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.selling_totals import LEGACY

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
# On every row that moves stock: ERPNext values it as it would (the stock's moving average, else the
# Item's Valuation Rate: Shopify's unit cost, or the integration's Default Valuation Rate), and at zero
# where it has none, instead of refusing the document until someone types a rate on the item.
STOCK_AT_ZERO = {"allow_zero_valuation_rate": 1}
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
	# What a variant without a unit cost in Shopify is valued at (Kraal Integration's Default Valuation
	# Rate); zero: at nothing.
	default_valuation_rate: float = 0.0
	# Put before the order's name in the documents' Customer's Purchase Order (a second store's).
	order_prefix: str = ""
	# Shopify Payments payouts: the payout's currency -> the bank Account it arrives in, and a balance
	# transaction type ("ADJUSTMENT", "DISPUTE", ...) or "Fees" -> the Account it books to.
	payout_banks: Mapping[str, str] = field(default_factory=dict)
	payout_accounts: Mapping[str, str] = field(default_factory=dict)
	# The company's Round Off account and the site's rounding method (System Settings): orders whose
	# prices include tax, or in another currency, are booked so that nothing is left to round off
	# (engine/selling_totals).
	round_off_account: str | None = None
	rounding_method: str = LEGACY

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


def money_bag_amount(
	holder: Mapping[str, Any], fieldname: str, label: str, side: str = "presentmentMoney"
) -> Decimal:
	"""An amount of a MoneyBag field, in the presentment (default) or the shop currency."""
	bag = holder.get(fieldname)
	if not bag or not bag.get(side):
		raise RecordError(f"{label}: field '{fieldname}' is missing")
	return to_decimal(bag[side].get("amount"), label, f"{fieldname}.{side}.amount").quantize(CENT)


def local_date_time(timestamp: str, ctx: ShopifyContext, label: str, fieldname: str) -> tuple[str, str]:
	"""A Shopify UTC timestamp as the store's local date and time."""
	try:
		moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(ZoneInfo(ctx.timezone))
	except (AttributeError, ValueError):
		raise RecordError(f"{label}: field '{fieldname}' is not a timestamp: {timestamp!r}") from None
	return moment.date().isoformat(), moment.strftime("%H:%M:%S")


def connection_nodes(holder: Mapping[str, Any], fieldname: str, label: str) -> list[dict]:
	"""A connection's nodes; refused when Shopify cut it short, since half a record must not be booked."""
	value = holder.get(fieldname)
	if isinstance(value, list):
		return value
	value = value or {}
	if (value.get("pageInfo") or {}).get("hasNextPage"):
		raise RecordError(f"{label}: field '{fieldname}' has more rows than one query returns")
	return value.get("nodes") or [e["node"] for e in value.get("edges") or []]
