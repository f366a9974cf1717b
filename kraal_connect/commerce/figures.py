"""The E-commerce view's figures, from what ERPNext's documents hold. Pure: the site side (commerce/site.py)
reads the rows, these functions add them up, so every figure is tested standalone.

Revenue by channel, in the company's currency, over a period:

- gross sales: what the sale invoices charged before their discounts, without tax: goods at their list
  price and the charges booked to income accounts (shipping, gift wrap);
- discounts: the invoices' discounts (the document's additional discount, each line's discount against
  its list price, and charges that reduce income, such as Amazon's promotions), without tax;
- refunds: what the return invoices (credit notes) took back, without tax, and the refund and
  chargeback rows of the channel's payouts and settlements (Amazon refunds in its settlements);
- fees: the channel's charges in its payouts and settlements (Shopify Payments fees, Amazon's fee rows);
- adjustments: what else a payout or settlement paid or took to profit and loss (reimbursements,
  Shopify adjustments); reserves and the money settling invoices and taxes are not revenue;
- net: gross sales - discounts - refunds - fees + adjustments.

Gross sales less discounts is what the invoices credited to income accounts, refunds what the credit
notes debited to them and the rest is the payout and settlement Journal Entries' own rows, so the figures
add up to the ledger's.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)
# What a payout or settlement row is to revenue (a connector's row_role says which).
FEE, REFUND, ADJUSTMENT = "fee", "refund", "adjustment"
ROLES = (FEE, REFUND, ADJUSTMENT)
ORDER_WINDOWS = (1, 7, 30)


def dec(value) -> Decimal:
	return Decimal(str(value or 0))


@dataclass(frozen=True)
class Line:
	"""An invoice's item row, in the company's currency: its net amount (without tax, after the
	document's discount), and its rate and list rate in the invoice's currency."""

	base_net_amount: Decimal
	rate: Decimal
	price_list_rate: Decimal
	qty: Decimal

	def list_discount(self) -> Decimal:
		"""The line's discount against its list price, without tax, in the company's currency (a rate that
		includes tax is scaled by the line's net share)."""
		if not (self.rate and self.price_list_rate > self.rate):
			return ZERO
		amount = self.rate * self.qty
		return (self.price_list_rate * self.qty - amount) * self.base_net_amount / amount


@dataclass(frozen=True)
class Invoice:
	"""A submitted Sales Invoice of a channel, in the company's currency."""

	name: str
	is_return: bool
	base_net_total: Decimal
	# The document's additional discount (on the net total), without tax.
	base_discount_amount: Decimal
	lines: tuple[Line, ...] = ()
	# Tax and charge rows booked to income accounts (shipping, promotions); others are tax.
	income_charges: tuple[Decimal, ...] = ()

	def income(self) -> Decimal:
		"""What the invoice credits to income accounts (negative for a credit note)."""
		return self.base_net_total + sum(self.income_charges, ZERO)

	def discounts(self) -> Decimal:
		lines = sum((line.list_discount() for line in self.lines), ZERO)
		reductions = -sum((c for c in self.income_charges if c < 0), ZERO)
		return (self.base_discount_amount + lines + reductions).quantize(CENT)


@dataclass(frozen=True)
class LedgerRow:
	"""A row of a payout's or settlement's Journal Entry, in the company's currency, with the remark its
	mapper gave it (which says what the row is: see the connectors' row_role)."""

	voucher: str
	remark: str
	debit: Decimal
	credit: Decimal


@dataclass
class Revenue:
	orders: int = 0
	gross: Decimal = ZERO
	discounts: Decimal = ZERO
	refunds: Decimal = ZERO
	fees: Decimal = ZERO
	adjustments: Decimal = ZERO
	invoices: list[str] = field(default_factory=list)

	@property
	def net(self) -> Decimal:
		return self.gross - self.discounts - self.refunds - self.fees + self.adjustments

	def as_dict(self) -> dict:
		return {
			"orders": self.orders,
			"gross": self.gross,
			"discounts": self.discounts,
			"refunds": self.refunds,
			"fees": self.fees,
			"adjustments": self.adjustments,
			"net": self.net,
		}


def revenue(
	invoices: Iterable[Invoice], ledger_rows: Iterable[LedgerRow], row_role: Callable[[str], str | None]
) -> Revenue:
	"""One channel's revenue over a period: its invoices and its payouts' and settlements' rows there."""
	result = Revenue()
	for invoice in invoices:
		result.invoices.append(invoice.name)
		if invoice.is_return:
			result.refunds -= invoice.income().quantize(CENT)
			continue
		result.orders += 1
		discounts = invoice.discounts()
		result.discounts += discounts
		result.gross += invoice.income().quantize(CENT) + discounts
	for row in ledger_rows:
		role = row_role(row.remark)
		moved = row.debit - row.credit
		if role == FEE:
			result.fees += moved
		elif role == REFUND:
			result.refunds += moved
		elif role == ADJUSTMENT:
			result.adjustments -= moved
	return result


def order_counts(order_dates: Iterable[date], as_of: date, windows: Iterable[int] = ORDER_WINDOWS) -> dict:
	"""How many orders were placed in each of the last n days up to as_of (as_of itself is day 1):
	{1: ..., 7: ..., 30: ...}. Orders after as_of count nowhere."""
	dates = list(order_dates)
	return {n: sum(1 for d in dates if as_of - timedelta(days=n) < d <= as_of) for n in windows}


@dataclass(frozen=True)
class StockDifference:
	item_code: str
	warehouse: str
	platform_qty: Decimal
	erpnext_qty: Decimal
	counted_at: str

	@property
	def difference(self) -> Decimal:
		return self.erpnext_qty - self.platform_qty


def stock_differences(
	platform: Mapping[tuple[str, str], tuple[Decimal, str]], held: Mapping[tuple[str, str], Decimal]
) -> list[StockDifference]:
	"""Every (item, warehouse) whose ERPNext stock differs from the platform's last known count.

	platform: (item code, warehouse) -> (the platform's count, when it counted); held: what ERPNext's
	bins hold (a warehouse with no bin holds nothing). Sorted by warehouse and item."""
	result = []
	for (item_code, warehouse), (qty, counted_at) in sorted(platform.items(), key=lambda kv: kv[0][::-1]):
		erpnext = dec(held.get((item_code, warehouse)))
		if erpnext != dec(qty):
			result.append(StockDifference(item_code, warehouse, dec(qty), erpnext, counted_at))
	return result


def latest_counts(counts: Iterable[tuple[str, str, str, Decimal, str]]) -> dict[tuple[str, str], tuple]:
	"""The platform's last known count per (item, warehouse) from the inventory records received:
	rows of (level, item code, warehouse, quantity, when counted), any order. A level (a Shopify inventory
	level, an Amazon SKU in a marketplace) keeps its latest count; levels that share an item and
	warehouse add up."""
	latest: dict[str, tuple[str, str, Decimal, str]] = {}
	for level, item_code, warehouse, qty, counted_at in counts:
		if level not in latest or counted_at >= latest[level][3]:
			latest[level] = (item_code, warehouse, dec(qty), counted_at)
	result: dict[tuple[str, str], tuple[Decimal, str]] = {}
	for item_code, warehouse, qty, counted_at in latest.values():
		before = result.get((item_code, warehouse))
		if before:
			qty, counted_at = before[0] + qty, max(before[1], counted_at)
		result[(item_code, warehouse)] = (qty, counted_at)
	return result
