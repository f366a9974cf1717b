"""The QuickBooks entities the streams read, what the site tells the mappers (QboContext), and
reading QBO records."""

from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kraal_connect.connectors.fields import iso_date, money, to_decimal
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.records import Ref

ZERO = Decimal(0)

# Stream entities, which are also the External Link types, and the QBO entity each one reads.
ACCOUNT = "account"
CUSTOMER = "customer"
VENDOR = "vendor"
ITEM = "item"
TERM = "term"
TAX_CODE = "tax_code"
INVOICE = "invoice"
CREDIT_MEMO = "credit_memo"
SALES_RECEIPT = "sales_receipt"
BILL = "bill"
VENDOR_CREDIT = "vendor_credit"
PAYMENT = "payment"
BILL_PAYMENT = "bill_payment"
DEPOSIT = "deposit"
TRANSFER = "transfer"
JOURNAL_ENTRY = "journal_entry"
QBO_ENTITIES = {
	ACCOUNT: "Account",
	CUSTOMER: "Customer",
	VENDOR: "Vendor",
	ITEM: "Item",
	TERM: "Term",
	TAX_CODE: "TaxCode",
	INVOICE: "Invoice",
	CREDIT_MEMO: "CreditMemo",
	SALES_RECEIPT: "SalesReceipt",
	BILL: "Bill",
	VENDOR_CREDIT: "VendorCredit",
	PAYMENT: "Payment",
	BILL_PAYMENT: "BillPayment",
	DEPOSIT: "Deposit",
	TRANSFER: "Transfer",
	JOURNAL_ENTRY: "JournalEntry",
}
# A QBO parent account with sub-accounts becomes an ERPNext group (ERPNext posts only to ledgers);
# its own postings go to this second account under it.
OWN_POSTINGS = "own_postings"
# The unit of every migrated item and row: QBO holds quantities as decimals (3.5 hours, 7.75 kg) and
# names no unit, and ERPNext refuses a fraction in a whole-number UOM such as Nos. The site creates
# it with whole numbers off.
UOM = "QuickBooks Unit"


@dataclass(frozen=True)
class QboContext:
	company: str
	company_currency: str
	# QBO Account records by Id: their types, currencies and tree. The site reads them first.
	qbo_accounts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
	# QBO AccountType -> the ERPNext group a top-level QBO account goes under (standard_account_groups).
	account_groups: Mapping[str, str] = field(default_factory=dict)
	# QBO account id -> the existing ERPNext Account chosen for it under Kraal Account Mapping.
	mapped_accounts: Mapping[str, str] = field(default_factory=dict)
	# QBO account id -> the ERPNext ledger its postings go to (mapped, or created by the account
	# stream). Read when a record is mapped, so a live lookup sees accounts created earlier in the run.
	accounts: Mapping[str, str] = field(default_factory=dict)
	# QBO TaxRate records by Id, and the ERPNext account each rate's tax is booked to.
	tax_rates: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
	tax_rate_accounts: Mapping[str, str] = field(default_factory=dict)
	# QBO ids of Inventory items: their lines move stock in the warehouse.
	stock_item_ids: Container[str] = frozenset()
	warehouse: str = ""
	# Stock Settings' valuation method: how items without one of their own are costed. ERPNext keeps
	# it from changing once such items have stock.
	stock_valuation: str = "FIFO"
	item_group: str = "All Item Groups"
	customer_group: str = "All Customer Groups"
	territory: str = "All Territories"
	supplier_group: str = "All Supplier Groups"
	# Lower-case country as QBO holds it (a name or an ISO code) -> ERPNext Country name.
	countries: Mapping[str, str] = field(default_factory=dict)
	default_country: str = ""
	# A migration keeps QBO's inactive customers, suppliers, items and accounts enabled: ERPNext
	# refuses to book their history otherwise. A parallel run carries QBO's Active over.
	disable_inactive: bool = False


# -- reading QBO records ---------------------------------------------------------------------------
def record_label(entity: str, record: Mapping[str, Any]) -> str:
	return f"QuickBooks {QBO_ENTITIES[entity]} {record.get('Id') or '(no Id)'}"


def ref_id(
	record: Mapping[str, Any], fieldname: str, label: str, path: str | None = None, required: bool = True
) -> str | None:
	"""The id a QBO reference ({"value": "42", "name": ...}) points to."""
	ref = record.get(fieldname)
	value = ref.get("value") if isinstance(ref, Mapping) else None
	if value in (None, ""):
		if required:
			raise RecordError(f"{label}: field '{path or fieldname}' is missing")
		return None
	return str(value)


def currency_of(record: Mapping[str, Any], ctx: QboContext) -> str:
	return (record.get("CurrencyRef") or {}).get("value") or ctx.company_currency


def exchange_rate_of(record: Mapping[str, Any], label: str) -> Decimal:
	rate = to_decimal(record.get("ExchangeRate") or 1, label, "ExchangeRate")
	if rate <= 0:
		raise RecordError(f"{label}: field 'ExchangeRate' must be positive: {rate}")
	return rate


def lines_of(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
	"""The transaction's lines, with bundles (GroupLineDetail) opened into the lines inside them."""
	lines = []
	for line in record.get("Line") or []:
		if line.get("DetailType") == "GroupLineDetail":
			lines += (line.get("GroupLineDetail") or {}).get("Line") or []
		else:
			lines.append(line)
	return lines


def remarks_of(entity: str, record: Mapping[str, Any]) -> str:
	number = record.get("DocNumber") or record.get("Id")
	note = record.get("PrivateNote")
	return f"QuickBooks {QBO_ENTITIES[entity]} {number}" + (f": {note}" if note else "")


def invoice_fields(
	record: Mapping[str, Any], ctx: QboContext, entity: str, items: list[dict], taxes: list[dict]
) -> dict:
	"""What a Sales and a Purchase Invoice take alike from a QBO sale or purchase. QBO's totals are
	kept as they are: no pricing rules, payment terms or rounding of ERPNext's own."""
	label = record_label(entity, record)
	posting_date = iso_date(record, "TxnDate", label)
	return {
		"docstatus": 1,
		"company": ctx.company,
		"posting_date": posting_date,
		"set_posting_time": 1,
		"due_date": iso_date(record, "DueDate", label) if record.get("DueDate") else posting_date,
		"currency": currency_of(record, ctx),
		"conversion_rate": float(exchange_rate_of(record, label)),
		"is_return": int(entity in (CREDIT_MEMO, VENDOR_CREDIT)),
		"update_stock": int(any("warehouse" in row for row in items)),
		"ignore_pricing_rule": 1,
		"ignore_default_payment_terms_template": 1,
		"disable_rounded_total": 1,
		"items": items,
		"taxes": taxes,
		"remarks": remarks_of(entity, record),
	}


def item_row(line: Mapping[str, Any], kind: str, ctx: QboContext, label: str, number: int, sign: int) -> dict:
	"""An invoice row of a QBO item line (SalesItemLineDetail, ItemBasedExpenseLineDetail): QBO's
	quantity and unit price, or its amount as one unit; stock items move through the warehouse."""
	detail = line.get(kind) or {}
	path = f"Line {number}"
	item_id = ref_id(detail, "ItemRef", label, path=f"{path}.{kind}.ItemRef")
	amount = money(line.get("Amount"), label, f"{path}.Amount")
	qty = (
		to_decimal(detail["Qty"], label, f"{path}.Qty")
		if detail.get("Qty") not in (None, "", 0)
		else Decimal(1)
	)
	if detail.get("UnitPrice") not in (None, ""):
		rate = to_decimal(detail["UnitPrice"], label, f"{path}.UnitPrice")
	else:
		rate = amount / qty
	row = {
		"item_code": Ref(ITEM, item_id),
		"qty": float(sign * qty),
		"rate": float(rate),
		"description": line.get("Description") or "",
	}
	if item_id in ctx.stock_item_ids:
		row["warehouse"] = ctx.warehouse
	return row
