"""Amazon records -> ERPNext document dicts. Pure: everything from the site comes in the context."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from kraal_connect.connectors.fields import CENT, iso_date, required
from kraal_connect.engine import selling_totals
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.missing_mappings import missing_mapping
from kraal_connect.engine.records import Ref, Target, content_hash

# Entities (and so Kraal External Link types) of this connector.
ORDERS = "order"
SETTLEMENTS = "settlement"
CATALOG_ITEMS = "catalog_item"
FBA_INVENTORY = "fba_inventory"
# An order's second document, once shipped: external type "order:invoice".
INVOICE = "invoice"

# Kraal Account Mapping key types this connector reads.
FEE_TYPE = "Amazon Fee Type"  # settlement fee type (see fee_type) -> Account
ORDER_CHARGE = "Amazon Order Charge"  # order item money field (see CHARGES) -> Account
MARKETPLACE = "Amazon Marketplace"  # marketplace name ("Amazon.com") -> Customer
FULFILMENT = "Amazon Fulfilment Network"  # "AFN" (Amazon) or "MFN" (merchant) -> Warehouse
CLEARING = "Amazon Settlement Currency"  # settlement currency -> Amazon clearing or bank Account
FBA_MARKETPLACE = "Amazon FBA Marketplace"  # marketplace id -> Warehouse of its fulfilment network's stock
# Pan-European FBA: one pool of stock serves these marketplaces (not the UK, Turkey or the Gulf), and
# getInventorySummaries answers each of them with the whole pool. They share one warehouse by default.
PAN_EUROPEAN = frozenset(
	{
		"A1PA6795UKMFR9",  # Germany
		"A13V1IB3VIYZZH",  # France
		"APJ6JRA9NG5V4",  # Italy
		"A1RKKUPIHCS9HS",  # Spain
		"A1805IZSGTT6HS",  # Netherlands
		"A2NODRKZP88ZB9",  # Sweden
		"A1C3SOZRARQ6R3",  # Poland
		"AMEN7PMS3EDWL",  # Belgium
	}
)


@dataclass(frozen=True)
class AmazonContext:
	company: str
	company_currency: str
	# Marketplace name as orders (SalesChannel) and settlements (marketplace-name) give it -> Customer
	customers: Mapping[str, str] = field(default_factory=dict)
	# FulfillmentChannel "AFN" / "MFN" -> Warehouse; FBA inventory is reconciled into the AFN one.
	warehouses: Mapping[str, str] = field(default_factory=dict)
	# Order charge (a key of CHARGES: "ShippingPrice", "ItemTax", ...) -> Account of its tax row
	charge_accounts: Mapping[str, str] = field(default_factory=dict)
	# Settlement fee type ("ItemPrice:Principal", "ItemFees:Commission", ...) -> Account
	fee_accounts: Mapping[str, str] = field(default_factory=dict)
	# Settlement currency -> the Amazon clearing or bank Account the deposit goes to
	clearing_accounts: Mapping[str, str] = field(default_factory=dict)
	# Which mapped accounts are Receivable: their settlement lines name the marketplace's customer.
	receivable_accounts: frozenset[str] = frozenset()
	# Customer -> its own receivable account in the company, where its invoices go (a marketplace in
	# a foreign currency needs one in that currency); settlements credit it there.
	customer_accounts: Mapping[str, str] = field(default_factory=dict)
	# Account -> its currency, for the accounts settlements book to; absent: the company currency.
	account_currencies: Mapping[str, str] = field(default_factory=dict)
	# (currency, date) -> what one unit of it was worth in the company currency that day, or None.
	exchange_rate: Callable[[str, str], Decimal | float | None] | None = None
	item_group: str = "Products"
	stock_uom: str = "Nos"
	# Marketplace id -> the Warehouse its fulfilment network's FBA stock is kept in; an AFN order of the
	# marketplace reserves its stock there.
	fba_warehouses: Mapping[str, str] = field(default_factory=dict)
	# Warehouse -> seller SKU -> quantity it holds now (absent: none), so an unchanged count books
	# nothing: ERPNext refuses a Stock Reconciliation that changes nothing.
	fba_stock: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
	# What a listing's stock is valued at where ERPNext has no valuation (Kraal Integration's Default
	# Valuation Rate; Amazon gives no cost); zero: at nothing.
	default_valuation_rate: float = 0.0
	# The company's Round Off account and the site's rounding method (System Settings): VAT-inclusive
	# and foreign-currency orders are booked so that nothing is left to round off (engine/selling_totals).
	round_off_account: str | None = None
	rounding_method: str = selling_totals.LEGACY


def _decimal(raw: Any) -> Decimal | None:
	"""An amount as Amazon writes it: "12.34", or "12,34" / "1.234,56" in European flat files."""
	if raw is None or isinstance(raw, bool):
		return None
	text = str(raw).strip().replace(" ", "")
	if "," in text and "." in text:
		thousands = "." if text.rfind(",") > text.rfind(".") else ","
		text = text.replace(thousands, "")
	text = text.replace(",", ".")
	try:
		value = Decimal(text)
	except InvalidOperation:
		return None
	return value if value.is_finite() else None


def _date(raw: str) -> str | None:
	"""The date of "2026-10-17 08:31:02 UTC", "17.10.2026 08:31:02 UTC", "2026-10-17T08:31:02+00:00"."""
	day = raw.strip().replace("T", " ").split(" ")[0]
	for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%Y/%m/%d"):
		try:
			return datetime.strptime(day, pattern).date().isoformat()
		except ValueError:
			continue
	return None


# -- settlements ---------------------------------------------------------------------------------
REQUIRED_COLUMNS = ("settlement-id", "transaction-type", "amount-type", "amount-description", "amount")
RESERVES = frozenset({"Current Reserve Amount", "Previous Reserve Amount Balance"})
COMMISSIONS = frozenset({"Commission", "RefundCommission"})


def fee_type(transaction_type: str, amount_type: str, amount_description: str) -> str:
	"""The Kraal Account Mapping key of a settlement row.

	"<amount-type>:<amount-description>" ("ItemPrice:Principal", "ItemFees:Commission",
	"FBA Inventory Reimbursement:WAREHOUSE_DAMAGE"); rows of amount-type other-transaction by their
	description alone ("Current Reserve Amount", "Subscription Fee"); refunds and Amazon's other
	order-like transactions prefixed with the transaction type ("Refund ItemPrice:Principal"),
	because they are booked elsewhere than the sale.
	"""
	if amount_type == "other-transaction":
		return amount_description or amount_type
	key = f"{amount_type}:{amount_description}" if amount_description else amount_type
	if transaction_type in ("Order", "other-transaction"):
		return key
	return f"{transaction_type} {key}"


@dataclass(frozen=True)
class SettlementRow:
	line: int
	transaction_type: str
	order_id: str
	marketplace: str
	amount_type: str
	amount_description: str
	amount: Decimal
	posted_date: str
	sku: str

	@property
	def fee_type(self) -> str:
		return fee_type(self.transaction_type, self.amount_type, self.amount_description)

	@property
	def is_fee(self) -> bool:
		"""Amazon's charges: item fees (commission included) and other-transaction fees."""
		if self.amount_type == "ItemFees":
			return True
		return self.amount_type == "other-transaction" and "Fee" in self.amount_description

	@property
	def is_commission(self) -> bool:
		return self.amount_type == "ItemFees" and self.amount_description in COMMISSIONS


@dataclass(frozen=True)
class Settlement:
	settlement_id: str
	start_date: str
	end_date: str
	deposit_date: str
	total: Decimal
	currency: str
	rows: tuple[SettlementRow, ...]

	def fee_type_totals(self) -> dict[str, Decimal]:
		"""Each fee type's total, in the order the fee types first appear."""
		totals: dict[str, Decimal] = {}
		for row in self.rows:
			totals[row.fee_type] = totals.get(row.fee_type, Decimal(0)) + row.amount
		return totals

	@property
	def fee_total(self) -> Decimal:
		"""What Amazon charged: negative, as in the file."""
		return sum((r.amount for r in self.rows if r.is_fee), Decimal(0))

	@property
	def commission_total(self) -> Decimal:
		"""Referral commission, net of what refunds gave back."""
		return sum((r.amount for r in self.rows if r.is_commission), Decimal(0))


def _table(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
	"""Header and (line number, cells) of a tab-separated flat file; blank lines dropped."""
	lines = text.lstrip("\ufeff").splitlines()
	if not lines:
		return [], []
	header = [name.strip().lower() for name in lines[0].split("\t")]
	return header, [(n, line.split("\t")) for n, line in enumerate(lines[1:], start=2) if line.strip()]


def split_settlements(text: str) -> list[tuple[str | None, str]]:
	"""One (settlement-id, flat file) per settlement in a report, header repeated; (None, text) when
	the file has no settlement-id column, for the mapper to report."""
	header, rows = _table(text)
	if "settlement-id" not in header:
		return [(None, text)]
	column = header.index("settlement-id")
	lines = text.lstrip("\ufeff").splitlines()
	grouped: dict[str, list[str]] = {}
	for number, cells in rows:
		settlement_id = cells[column].strip() if column < len(cells) else ""
		grouped.setdefault(settlement_id, []).append(lines[number - 1])
	return [(sid or None, "\n".join([lines[0], *body]) + "\n") for sid, body in grouped.items()]


def parse_settlement(text: str, label: str = "Amazon settlement report") -> Settlement:
	"""A V2 settlement flat file (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2) holding one settlement.

	Columns are found by name, so added or reordered columns do not matter. The summary row is the
	one with total-amount; every other row is a transaction line. The lines must add up to
	total-amount to the cent.
	"""
	header, rows = _table(text)
	for column in REQUIRED_COLUMNS:
		if column not in header:
			raise RecordError(f"{label}: column '{column}' is missing")
	# Amazon leaves trailing empty cells off some lines: pad them, zip stops at the header's end.
	records = [
		(n, dict(zip(header, [c.strip() for c in cells] + [""] * len(header), strict=False)))
		for n, cells in rows
	]
	ids = list(dict.fromkeys(r.get("settlement-id", "") for _, r in records))
	if len(ids) != 1 or not ids[0]:
		raise RecordError(f"{label}: expected one settlement-id, found {ids}")
	label = f"Amazon settlement {ids[0]}"
	summaries = [(n, r) for n, r in records if r.get("total-amount")]
	if len(summaries) != 1:
		raise RecordError(f"{label}: expected one summary row with total-amount, found {len(summaries)}")
	summary_line, summary = summaries[0]
	total = _decimal(summary["total-amount"])
	if total is None:
		raise RecordError(f"{label}: field 'total-amount' is not a number: {summary['total-amount']!r}")
	if not summary.get("currency"):
		raise RecordError(f"{label}: field 'currency' is missing")
	dates = {}
	for column in ("settlement-start-date", "settlement-end-date", "deposit-date"):
		dates[column] = _date(summary.get(column) or "")
		if dates[column] is None:
			raise RecordError(f"{label}: field '{column}' is not a date: {summary.get(column)!r}")
	lines = []
	for number, record in records:
		if number == summary_line:
			continue
		amount = _decimal(record["amount"])
		if amount is None:
			raise RecordError(f"{label}: line {number}: field 'amount' is not a number: {record['amount']!r}")
		lines.append(
			SettlementRow(
				line=number,
				transaction_type=record["transaction-type"],
				order_id=record.get("order-id", ""),
				marketplace=record.get("marketplace-name", ""),
				amount_type=record["amount-type"],
				amount_description=record["amount-description"],
				amount=amount,
				posted_date=_date(record.get("posted-date") or "") or "",
				sku=record.get("sku", ""),
			)
		)
	settlement = Settlement(
		settlement_id=ids[0],
		start_date=dates["settlement-start-date"],
		end_date=dates["settlement-end-date"],
		deposit_date=dates["deposit-date"],
		total=total.quantize(CENT),
		currency=summary["currency"],
		rows=tuple(lines),
	)
	net = sum((r.amount for r in lines), Decimal(0)).quantize(CENT)
	if net != settlement.total:
		raise RecordError(
			f"{label}: the lines add up to {net} {settlement.currency}, not the total-amount {settlement.total}"
		)
	return settlement


RATE_PLACES = Decimal("0.000000001")  # ERPNext keeps exchange rates to 9 places


@dataclass
class _Line:
	"""A Journal Entry line: `amount` credited (debited when negative) in the settlement currency."""

	account: str
	amount: Decimal
	remark: str
	party: str | None = None
	# Set by _in_ledger_currencies: the amount in the account's currency, and the rate that turns it
	# into the company currency.
	in_account: Decimal = Decimal(0)
	exchange_rate: Decimal = Decimal(1)

	def row(self, multi_currency: bool) -> dict:
		row = {
			"account": self.account,
			"debit_in_account_currency": float(-self.in_account) if self.in_account < 0 else 0.0,
			"credit_in_account_currency": float(self.in_account) if self.in_account > 0 else 0.0,
			"user_remark": self.remark,
		}
		if multi_currency:
			row["exchange_rate"] = float(self.exchange_rate)
		if self.party:
			row.update(party_type="Customer", party=self.party)
		return row


def _receivable_lines(settlement: Settlement, key: str, account: str, ctx: AmazonContext) -> list[_Line]:
	"""A receivable fee type, one line per marketplace customer, on the receivable account its invoices
	debit: the customer's own one if it has one, else the mapped one."""
	label = f"Amazon settlement {settlement.settlement_id}"
	by_marketplace: dict[str, Decimal] = {}
	for row in settlement.rows:
		if row.fee_type != key:
			continue
		if not row.marketplace:
			raise RecordError(
				f"{label}: line {row.line}: '{key}' goes to receivable account {account} "
				"but the line names no marketplace-name"
			)
		by_marketplace[row.marketplace] = by_marketplace.get(row.marketplace, Decimal(0)) + row.amount
	lines = []
	for marketplace, amount in by_marketplace.items():
		customer = ctx.customers.get(marketplace)
		if not customer:
			customer = missing_mapping(MARKETPLACE, marketplace, label)
		if amount:
			lines.append(_Line(ctx.customer_accounts.get(customer, account), amount, key, customer))
	return lines


def _in_ledger_currencies(settlement: Settlement, lines: list[_Line], ctx: AmazonContext) -> None:
	"""Each line's amount in its account's currency, and its exchange rate, balanced to the cent.

	Lines book to accounts in the settlement currency or the company currency. A settlement in a
	foreign currency is converted at its deposit date's rate and each line rounded to the cent (ERPNext
	rounds amount x rate itself; where that lands on a half cent, which rounding methods disagree on,
	the line gets the rate that gives its cent exactly). What the rounding leaves over goes to the last
	line, the deposit, through its rate, so the deposit stays exactly what Amazon paid.
	"""
	label = f"Amazon settlement {settlement.settlement_id}"
	currency, company_currency = settlement.currency, ctx.company_currency
	rate = Decimal(1)
	if currency != company_currency:
		found = ctx.exchange_rate(currency, settlement.deposit_date) if ctx.exchange_rate else None
		if not found:
			raise RecordError(
				f"{label}: no exchange rate from {currency} to {company_currency} on "
				f"{settlement.deposit_date}; add a Currency Exchange"
			)
		rate = Decimal(str(found)).quantize(RATE_PLACES)
	in_company = []
	for line in lines:
		account_currency = ctx.account_currencies.get(line.account, company_currency)
		if account_currency not in (currency, company_currency):
			allowed = " or ".join(dict.fromkeys((currency, company_currency)))
			raise RecordError(
				f"{label}: account {line.account} is in {account_currency}; a {currency} settlement books "
				f"to accounts in {allowed}"
			)
		amount = line.amount.quantize(CENT)
		exact = amount * rate
		converted = exact.quantize(CENT, rounding=ROUND_HALF_EVEN)
		in_company.append(converted)
		if account_currency == company_currency:
			line.in_account, line.exchange_rate = converted, Decimal(1)
		else:
			half_cent = (exact * 100) % 1 in (Decimal("0.5"), Decimal("-0.5"))
			line.in_account = amount
			line.exchange_rate = _rate(converted, amount) if half_cent else rate
	last = lines[-1]
	balance = -sum(in_company[:-1], Decimal(0))
	if ctx.account_currencies.get(last.account, company_currency) == company_currency:
		last.in_account = balance
	else:
		last.exchange_rate = _rate(balance, last.in_account)


def _rate(in_company: Decimal, in_account: Decimal) -> Decimal:
	"""The rate, to ERPNext's 9 places, whose product with in_account ERPNext rounds to in_company:
	the product lands far from any half cent, so every rounding method agrees."""
	return (in_company / in_account).quantize(RATE_PLACES)


def settlement_journal_entry(record: Mapping[str, Any], ctx: AmazonContext) -> dict | None:
	"""One settlement as one submitted Journal Entry; None when it moved no money at all.

	A line per fee type to its mapped account (credited when Amazon paid the seller, debited when it
	charged), and the deposit to the clearing account of the currency, so the entry's net is the
	settlement's total-amount to the cent. A settlement in a foreign currency is multi-currency: see
	_in_ledger_currencies.
	"""
	report = f"Amazon settlement report {record.get('reportId') or '(no reportId)'}"
	settlement = parse_settlement(record.get("flat_file") or "", report)
	label = f"Amazon settlement {settlement.settlement_id}"
	clearing = ctx.clearing_accounts.get(settlement.currency) or missing_mapping(
		CLEARING, settlement.currency, label
	)
	totals = settlement.fee_type_totals()
	lines: list[_Line] = []
	for key, total in totals.items():
		account = ctx.fee_accounts.get(key) or missing_mapping(FEE_TYPE, key, label)
		if account in ctx.receivable_accounts:
			lines += _receivable_lines(settlement, key, account, ctx)
		elif total:
			lines.append(_Line(account, total, key))
	if settlement.total:
		lines.append(_Line(clearing, -settlement.total, f"Amazon deposit {settlement.settlement_id}"))
	if not lines:
		return None
	_in_ledger_currencies(settlement, lines, ctx)
	multi_currency = settlement.currency != ctx.company_currency
	return {
		"doctype": "Journal Entry",
		"docstatus": 1,
		"voucher_type": "Bank Entry",
		"company": ctx.company,
		"posting_date": settlement.deposit_date,
		"cheque_no": settlement.settlement_id,
		"cheque_date": settlement.deposit_date,
		"multi_currency": int(multi_currency),
		"user_remark": (
			f"{label}, {settlement.start_date} to {settlement.end_date}: deposit {settlement.total} "
			f"{settlement.currency}; Amazon fees {settlement.fee_total.quantize(CENT)}, of which referral "
			f"commission {settlement.commission_total.quantize(CENT)}"
		),
		"accounts": [line.row(multi_currency) for line in lines],
	}


# -- orders --------------------------------------------------------------------------------------
# OrderStatus -> shipped? Orders in other states (Pending, Canceled, Unfulfillable) book nothing.
BOOKED_STATUSES = {"Unshipped": False, "PartiallyShipped": False, "Shipped": True, "InvoiceUnconfirmed": True}
FULFILMENT_NAMES = {"AFN": "Fulfilled by Amazon (AFN)", "MFN": "Fulfilled by the merchant (MFN)"}
# Order item money besides ItemPrice, as tax rows: charge key (mapped to an account), description,
# and the fields it adds up with their sign. Discounts on tax reduce the tax row.
CHARGES = (
	("ShippingPrice", "Shipping", (("ShippingPrice", 1),)),
	("ShippingDiscount", "Shipping promotion", (("ShippingDiscount", -1),)),
	("PromotionDiscount", "Promotion", (("PromotionDiscount", -1),)),
	("GiftWrapPrice", "Gift wrap", (("GiftWrapPrice", 1),)),
	("ItemTax", "Tax", (("ItemTax", 1), ("PromotionDiscountTax", -1))),
	("ShippingTax", "Shipping tax", (("ShippingTax", 1), ("ShippingDiscountTax", -1))),
	("GiftWrapTax", "Gift wrap tax", (("GiftWrapTax", 1),)),
)


# Marketplaces whose prices include VAT (or GST): ItemPrice, ShippingPrice and GiftWrapPrice hold the
# tax their *Tax fields state, and promotions the tax of their *DiscountTax fields.
VAT_INCLUDED = PAN_EUROPEAN | {
	"A1F83G8C2ARO7P",  # United Kingdom
	"A33AVAJ2PDY3EV",  # Turkey
	"A2VIGQ35RCS4UG",  # United Arab Emirates
	"A17E79C6D8DWNP",  # Saudi Arabia
	"ARBP9OOSHTCHU",  # Egypt
	"A21TJRUUN4KGV",  # India
	"A1VC38T7YXB528",  # Japan
	"A39IBJ37TRP1C6",  # Australia
	"A19VAU5U5O7RUS",  # Singapore
}
# In those marketplaces, the tax inside each charge (taken out to book the charge's net) by charge key.
INCLUDED_TAXES = {
	"ShippingPrice": (("ShippingTax", 1),),
	"ShippingDiscount": (("ShippingDiscountTax", -1),),
	"PromotionDiscount": (("PromotionDiscountTax", -1),),
	"GiftWrapPrice": (("GiftWrapTax", 1),),
	# The items' tax is ERPNext's tax included in their rate (its row made by _included_item_tax); what
	# stays is the tax a promotion gave back.
	"ItemTax": (("ItemTax", 1),),
}
RATE_STEP = Decimal("0.1")  # VAT rates are whole tenths of a percent (5.5 %, 7.7 %, 19 %)


def _included_item_tax(
	lines: list[dict], prices: list[tuple[str, Decimal, Decimal]], ctx: AmazonContext, label: str
) -> list[dict]:
	"""The items' tax as ERPNext's tax included in their rate, to Amazon's ItemTax to the cent. Amazon
	states the tax, not the rate: the rate is the order's tax over its net, to a tenth of a percent, and
	every item must have been taxed at it."""
	tax = sum((t for _, _, t in prices), Decimal(0))
	if not tax:
		return []
	gross = sum((p for _, p, _ in prices), Decimal(0))
	rate = (tax * 100 / (gross - tax)).quantize(RATE_STEP)
	for item_label, price, item_tax in prices:
		expected = (price * rate / (100 + rate)).quantize(CENT)
		if abs(expected - item_tax) > CENT:
			raise RecordError(
				f"{item_label}: ItemTax {item_tax} is not {rate.normalize()}% of the price like the order's "
				"other items; one order's items at several VAT rates are not supported yet"
			)
	if not ctx.round_off_account:
		raise RecordError(f"{label}: the company has no Round Off account (Company settings)")
	account = ctx.charge_accounts.get("ItemTax") or missing_mapping(ORDER_CHARGE, "ItemTax", label)
	try:
		return selling_totals.inclusive_taxes(
			[ln["rate"] * ln["qty"] for ln in lines],
			{account: tax},
			{account: rate},
			{account: f"VAT {rate.normalize()}% (included)"},
			ctx.round_off_account,
			"Amazon",
			ctx.rounding_method,
		)
	except ValueError as exc:
		raise RecordError(f"{label}: {exc}") from None


def _order_label(order: Mapping[str, Any]) -> str:
	return f"Amazon order {order.get('AmazonOrderId') or '(no AmazonOrderId)'}"


def _money(record: Mapping[str, Any], fieldname: str, label: str, currency: str) -> Decimal:
	"""An SP-API Money field ({"CurrencyCode", "Amount"}) in the order's currency; absent is zero."""
	money = record.get(fieldname)
	if not money:
		return Decimal(0)
	amount = _decimal(money.get("Amount"))
	if amount is None:
		raise RecordError(f"{label}: field '{fieldname}' is not a number: {money.get('Amount')!r}")
	if money.get("CurrencyCode") and money["CurrencyCode"] != currency:
		raise RecordError(
			f"{label}: field '{fieldname}' is in {money['CurrencyCode']}, the order in {currency}"
		)
	return amount.quantize(CENT)


def _unit_prices(total: Decimal, quantity: int) -> list[tuple[int, Decimal]]:
	"""quantity units costing total together, as (qty, whole-cent rate) rows adding up to total exactly."""
	unit = (total / quantity).quantize(CENT, rounding=ROUND_DOWN)
	extra_cents = int((total - unit * quantity) / CENT)
	if not extra_cents:
		return [(quantity, unit)]
	return [(quantity - extra_cents, unit), (extra_cents, unit + CENT)]


def _order_parts(order: Mapping[str, Any], ctx: AmazonContext) -> dict:
	"""What an order's Sales Order and Sales Invoice share, checked against Amazon's OrderTotal."""
	label = _order_label(order)
	order_id = required(order, "AmazonOrderId", label)
	channel = required(order, "SalesChannel", label)
	customer = ctx.customers.get(channel) or missing_mapping(MARKETPLACE, channel, label)
	network = required(order, "FulfillmentChannel", label)
	warehouse = (network == "AFN" and ctx.fba_warehouses.get(order.get("MarketplaceId") or "")) or (
		ctx.warehouses.get(network) or missing_mapping(FULFILMENT, network, label)
	)
	items = order.get("OrderItems") or []
	if not items:
		raise RecordError(f"{label}: field 'OrderItems' is missing")
	order_total = order.get("OrderTotal") or {}
	currency = order_total.get("CurrencyCode") or (items[0].get("ItemPrice") or {}).get("CurrencyCode")
	if not currency:
		raise RecordError(f"{label}: field 'OrderTotal' is missing")

	included = (order.get("MarketplaceId") or "") in VAT_INCLUDED
	lines, charges, promotions, prices = [], {}, [], []
	for item in items:
		item_label = f"{label} item {item.get('OrderItemId') or '(no OrderItemId)'}"
		sku = required(item, "SellerSKU", item_label)
		quantity = item.get("QuantityOrdered")
		if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
			raise RecordError(f"{item_label}: field 'QuantityOrdered' is not a whole number: {quantity!r}")
		if quantity == 0:  # a line cancelled out of an order that goes on
			continue
		if "ItemPrice" not in item:
			raise RecordError(f"{item_label}: field 'ItemPrice' is missing")
		price = _money(item, "ItemPrice", item_label, currency)
		for qty, rate in _unit_prices(price, quantity):
			lines.append(
				{
					"item_code": sku,
					"item_name": (item.get("Title") or sku)[:140],
					"qty": qty,
					"rate": rate,
					"warehouse": warehouse,
					"order_item_id": item.get("OrderItemId") or "",
				}
			)
		for key, _, parts in CHARGES:
			amount = sum((sign * _money(item, f, item_label, currency) for f, sign in parts), Decimal(0))
			if included:  # the price already holds its tax: the charge's net, the tax its own row
				amount -= sum(
					(sign * _money(item, f, item_label, currency) for f, sign in INCLUDED_TAXES.get(key, ())),
					Decimal(0),
				)
			charges[key] = charges.get(key, Decimal(0)) + amount
		promotions += [p for p in item.get("PromotionIds") or [] if p not in promotions]
		prices.append((item_label, price, _money(item, "ItemTax", item_label, currency)))

	taxes = _included_item_tax(lines, prices, ctx, label) if included else []
	for key, description, _ in CHARGES:
		amount = charges[key]
		if not amount:
			continue
		account = ctx.charge_accounts.get(key) or missing_mapping(ORDER_CHARGE, key, label)
		if key in ("PromotionDiscount", "ShippingDiscount"):
			description = " ".join([description, *promotions])
		taxes.append(
			{
				"charge_type": "Actual",
				"account_head": account,
				"description": description,
				"tax_amount": float(amount),
			}
		)

	# With the tax in the prices, charges hold what is not: the rounding rows add up to nothing.
	booked = sum((ln["rate"] * ln["qty"] for ln in lines), Decimal(0)) + sum(charges.values())
	if order_total:
		expected = _money(order, "OrderTotal", label, currency)
		if booked != expected:
			raise RecordError(
				f"{label}: items, tax, shipping and promotions add up to {booked}, "
				f"not the OrderTotal {expected} {currency}"
			)
	purchased = iso_date(order, "PurchaseDate", label)
	return {
		"conversion": _conversion_rate(lines, taxes, currency, purchased, ctx),
		"order_id": order_id,
		"customer": customer,
		"currency": currency,
		"warehouse": warehouse,
		"purchased": purchased,
		"network": network,
		"fulfilment": FULFILMENT_NAMES.get(network, network),
		"lines": lines,
		"taxes": taxes,
	}


def _conversion_rate(
	lines: list[dict], taxes: list[dict], currency: str, day: str, ctx: AmazonContext
) -> dict:
	"""An order in another currency than the company's: the rate of its day, moved within its last
	digits where that lets the converted rows and taxes add up to the converted total, so nothing goes
	to Round Off (engine/selling_totals). Empty where the site has no rate: ERPNext asks for one."""
	if currency == ctx.company_currency or not ctx.exchange_rate:
		return {}
	market = ctx.exchange_rate(currency, day)
	if not market:
		return {}
	result = selling_totals.booked(
		[float(ln["rate"] * ln["qty"]) for ln in lines],
		[t["rate"] for t in taxes if t.get("included_in_print_rate")],
		[t["tax_amount"] for t in taxes if not t.get("included_in_print_rate")],
		method=ctx.rounding_method,
	)
	ledger_taxes = [
		amount
		for amount, row in zip(result.taxes, taxes, strict=True)
		if row["account_head"] != ctx.round_off_account
	]
	converted = selling_totals.frappe_round(result.grand_total * float(market), 2, ctx.rounding_method)
	rate, _ = selling_totals.conversion_rate(
		result.nets, ledger_taxes, result.grand_total, converted, ctx.rounding_method
	)
	return {"conversion_rate": rate}


def _delivery_date(order: Mapping[str, Any], purchased: str) -> str:
	"""Amazon's latest promised delivery (or ship) date; never before the order date."""
	for fieldname in ("LatestDeliveryDate", "LatestShipDate"):
		raw = order.get(fieldname)
		if raw:
			return max(str(raw)[:10], purchased)
	return purchased


def sales_order(order: Mapping[str, Any], ctx: AmazonContext) -> dict:
	"""A submitted Sales Order with Amazon's prices, tax, shipping and promotions, to the cent."""
	parts = _order_parts(order, ctx)
	delivery = _delivery_date(order, parts["purchased"])
	return {
		"doctype": "Sales Order",
		"docstatus": 1,
		"company": ctx.company,
		"customer": parts["customer"],
		"order_type": "Sales",
		"transaction_date": parts["purchased"],
		"delivery_date": delivery,
		"po_no": parts["order_id"],
		"po_date": parts["purchased"],
		"currency": parts["currency"],
		**parts["conversion"],
		"ignore_pricing_rule": 1,
		# Amazon charges to the cent: no rounding adjustment on the total.
		"disable_rounded_total": 1,
		# The Sales Invoice moves the stock when Amazon reports the order shipped.
		"skip_delivery_note": 1,
		"set_warehouse": parts["warehouse"],
		"items": [
			{
				"item_code": ln["item_code"],
				"item_name": ln["item_name"],
				"qty": ln["qty"],
				"rate": float(ln["rate"]),
				"delivery_date": delivery,
				"warehouse": ln["warehouse"],
				"additional_notes": f"Amazon order item {ln['order_item_id']}, {parts['fulfilment']}",
			}
			for ln in parts["lines"]
		],
		"taxes": parts["taxes"],
	}


def sales_invoice(order: Mapping[str, Any], ctx: AmazonContext) -> dict:
	"""A submitted Sales Invoice for a shipped order, against its Sales Order.

	A merchant-fulfilled order takes its stock out of the merchant's warehouse. Amazon's own (AFN)
	warehouse is not moved by invoices: its stock is Amazon's count, set by the FBA inventory
	reconciliation, and invoices dated before the first count would find it empty.

	Dated the purchase date: the Orders API gives no shipping date, and a date taken from
	LastUpdateDate would move (and amend the invoice) with every later change to the order.
	"""
	parts = _order_parts(order, ctx)
	return {
		"doctype": "Sales Invoice",
		"docstatus": 1,
		"company": ctx.company,
		"customer": parts["customer"],
		"posting_date": parts["purchased"],
		"set_posting_time": 1,
		"po_no": parts["order_id"],
		"po_date": parts["purchased"],
		"currency": parts["currency"],
		**parts["conversion"],
		"ignore_pricing_rule": 1,
		# Amazon charges to the cent: no rounding adjustment on the total.
		"disable_rounded_total": 1,
		"update_stock": int(parts["network"] != "AFN"),
		"set_warehouse": parts["warehouse"],
		"remarks": f"Amazon order {parts['order_id']}, shipped, {parts['fulfilment']}",
		"items": [
			{
				"item_code": ln["item_code"],
				"item_name": ln["item_name"],
				"qty": ln["qty"],
				"rate": float(ln["rate"]),
				"warehouse": ln["warehouse"],
				"sales_order": Ref(ORDERS, parts["order_id"]),
				# Amazon gives no cost: ERPNext's valuation where it has one, else zero, never a refusal.
				"allow_zero_valuation_rate": 1,
			}
			for ln in parts["lines"]
		],
		"taxes": parts["taxes"],
	}


def order_documents(order: Mapping[str, Any], ctx: AmazonContext) -> list[Target] | None:
	"""The Sales Order of an order Amazon has accepted, and its Sales Invoice once shipped.

	Pending orders have no prices yet and cancelled ones nothing to book: None. (The orders stream
	turns a cancellation into a deletion, which cancels what was booked before.)
	"""
	shipped = BOOKED_STATUSES.get(order.get("OrderStatus") or "")
	if shipped is None:
		return None
	targets = [*_listed_items(order, ctx), Target("", sales_order(order, ctx))]
	if shipped:
		targets.append(Target(INVOICE, sales_invoice(order, ctx)))
	return targets


# -- catalog and FBA inventory -------------------------------------------------------------------
def item(record: Mapping[str, Any], ctx: AmazonContext) -> dict:
	"""An Item per seller SKU (item_code), its ASIN in the description.

	record: {"sellerSku", "asin", "title", "marketplaceId", "catalogItem": getCatalogItem body or None}.
	"""
	label = f"Amazon listing {record.get('sellerSku') or '(no sellerSku)'}"
	sku = required(record, "sellerSku", label)
	asin = required(record, "asin", label)
	summaries = (record.get("catalogItem") or {}).get("summaries") or [{}]
	summary = next(
		(s for s in summaries if s.get("marketplaceId") == record.get("marketplaceId")), summaries[0]
	)
	name = summary.get("itemName") or record.get("title") or sku
	facts = [f"ASIN: {asin}"] + [
		f"{caption}: {summary[key]}"
		for key, caption in (("brand", "Brand"), ("modelNumber", "Model"))
		if summary.get(key)
	]
	return {
		"doctype": "Item",
		"item_code": sku,
		"item_name": name[:140],
		"item_group": ctx.item_group,
		"stock_uom": ctx.stock_uom,
		"is_stock_item": 1,
		"is_sales_item": 1,
		"description": "<br>".join([name, *facts]),
		**({"valuation_rate": ctx.default_valuation_rate} if ctx.default_valuation_rate else {}),
	}


def on_hand_quantity(summary: Mapping[str, Any]) -> int:
	"""The units of a listing ERPNext holds in the fulfilment network's warehouse: fulfillable (sellable
	now) plus reserved (sold and awaiting shipment, moving between fulfilment centres, or being
	processed). Not inbound (working, shipped, receiving): on its way, not yet Amazon's to count. Not
	unfulfillable (damaged or expired, waiting for removal or disposal) nor researching (misplaced;
	Amazon finds it, and it is fulfillable again, or reimburses it in a settlement): not stock that
	sells."""
	label = f"FBA inventory {summary.get('sellerSku') or '(no sellerSku)'}"
	details = summary.get("inventoryDetails")
	if not isinstance(details, Mapping):
		raise RecordError(
			f"{label}: field 'inventoryDetails' is missing (getInventorySummaries needs details=true)"
		)
	quantities = [
		details.get("fulfillableQuantity", 0),
		(details.get("reservedQuantity") or {}).get("totalReservedQuantity", 0),
	]
	if not all(isinstance(q, int) and not isinstance(q, bool) for q in quantities):
		raise RecordError(f"{label}: quantities are not whole numbers: {quantities!r}")
	return sum(quantities)


def fba_networks(marketplace_ids: Sequence[str], warehouses: Mapping[str, str]) -> list[str]:
	"""The marketplaces whose FBA inventory is read: the first of those mapped to each warehouse.
	Marketplaces that share a warehouse share one pool of stock (Pan-European FBA), which Amazon reports
	whole for each of them: read once, it is counted once. A marketplace with no warehouse is read too,
	so its count fails naming the mapping it needs."""
	seen, result = set(), []
	for marketplace_id in marketplace_ids:
		warehouse = warehouses.get(marketplace_id)
		if warehouse and warehouse in seen:
			continue
		seen.add(warehouse)
		result.append(marketplace_id)
	return result


def _listed_item(sku: str, asin: str, title: str, ctx: AmazonContext) -> Target:
	"""The Item of a listing, created when an order or the inventory meets it before the catalog does."""
	listing = {"sellerSku": sku, "asin": asin, "title": title, "catalogItem": None}
	return Target("", item(listing, ctx), link=(CATALOG_ITEMS, sku), create_only=True)


def _listed_items(order: Mapping[str, Any], ctx: AmazonContext) -> list[Target]:
	return [
		_listed_item(line["SellerSKU"], line["ASIN"], line.get("Title") or "", ctx)
		for line in order.get("OrderItems") or []
		if line.get("SellerSKU") and line.get("ASIN")
	]


def stock_reconciliation(summary: Mapping[str, Any], ctx: AmazonContext) -> list[Target] | None:
	"""A Stock Reconciliation setting the warehouse of the summary's marketplace (the stream adds its
	marketplaceId) to Amazon's on-hand count; None when it already holds it.

	Each count that changes the warehouse is a document of its own (its key: when Amazon counted, and
	what the warehouse held), so a later count adds a reconciliation instead of amending the earlier
	one and rewriting the stock ledger's history. Amazon gives no cost: the row keeps the valuation the
	warehouse has, or zero for a first count.
	"""
	label = f"FBA inventory {summary.get('sellerSku') or '(no sellerSku)'}"
	sku = required(summary, "sellerSku", label)
	marketplace_id = required(summary, "marketplaceId", label)
	warehouse = ctx.fba_warehouses.get(marketplace_id) or missing_mapping(
		FBA_MARKETPLACE, marketplace_id, label
	)
	quantity = on_hand_quantity(summary)
	held = ctx.fba_stock.get(warehouse, {}).get(sku, 0)
	if held == quantity:
		return None
	reconciliation = {
		"doctype": "Stock Reconciliation",
		"docstatus": 1,
		"company": ctx.company,
		"purpose": "Stock Reconciliation",
		"items": [
			{"item_code": sku, "warehouse": warehouse, "qty": quantity, "allow_zero_valuation_rate": 1}
		],
	}
	counted = summary.get("lastUpdatedTime") or content_hash(summary)[:16]
	item_target = _listed_item(sku, summary.get("asin") or "", summary.get("productName") or "", ctx)
	return [item_target, Target(f"{counted} from {held:g}", reconciliation)]
