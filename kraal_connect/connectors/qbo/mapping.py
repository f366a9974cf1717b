"""QuickBooks Online records <-> ERPNext document dicts. Pure: what the site knows comes in a context.

Amounts stay in the transaction's currency, to the cent, with QBO's ExchangeRate as the conversion
rate, so ERPNext's home-currency ledger gets QBO's figures. Documents another record wrote (an
invoice's customer, the invoice a payment settles) are named by Ref and resolved by the writer.
"""

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from kraal_connect.connectors.fields import as_float, cents, iso_date, money, required, to_decimal
from kraal_connect.engine.errors import MissingMappingError, RecordError
from kraal_connect.engine.records import Mapped, Ref, Target

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
	item_group: str = "All Item Groups"
	stock_uom: str = "Nos"
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
def _label(entity: str, record: Mapping[str, Any]) -> str:
	return f"QuickBooks {QBO_ENTITIES[entity]} {record.get('Id') or '(no Id)'}"


def _ref(
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


def _currency(record: Mapping[str, Any], ctx: QboContext) -> str:
	return (record.get("CurrencyRef") or {}).get("value") or ctx.company_currency


def _exchange_rate(record: Mapping[str, Any], label: str) -> Decimal:
	rate = to_decimal(record.get("ExchangeRate") or 1, label, "ExchangeRate")
	if rate <= 0:
		raise RecordError(f"{label}: field 'ExchangeRate' must be positive: {rate}")
	return rate


def _lines(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
	"""The transaction's lines, with bundles (GroupLineDetail) opened into the lines inside them."""
	lines = []
	for line in record.get("Line") or []:
		if line.get("DetailType") == "GroupLineDetail":
			lines += (line.get("GroupLineDetail") or {}).get("Line") or []
		else:
			lines.append(line)
	return lines


def _remarks(entity: str, record: Mapping[str, Any]) -> str:
	number = record.get("DocNumber") or record.get("Id")
	note = record.get("PrivateNote")
	return f"QuickBooks {QBO_ENTITIES[entity]} {number}" + (f": {note}" if note else "")


# -- accounts --------------------------------------------------------------------------------------
ROOT_TYPES = {
	"Asset": "Asset",
	"Liability": "Liability",
	"Equity": "Equity",
	"Revenue": "Income",
	"Expense": "Expense",
}
CLASSIFICATIONS = {
	"Bank": "Asset",
	"Accounts Receivable": "Asset",
	"Other Current Asset": "Asset",
	"Fixed Asset": "Asset",
	"Other Asset": "Asset",
	"Accounts Payable": "Liability",
	"Credit Card": "Liability",
	"Other Current Liability": "Liability",
	"Long Term Liability": "Liability",
	"Equity": "Equity",
	"Income": "Revenue",
	"Other Income": "Revenue",
	"Cost of Goods Sold": "Expense",
	"Expense": "Expense",
	"Other Expense": "Expense",
}
# Credit cards are "Bank" so that payments can be made from them; fixed assets carry no type, since
# ERPNext reserves "Fixed Asset" accounts for its Asset documents, which QBO's history has none of.
ACCOUNT_TYPES = {
	"Bank": "Bank",
	"Accounts Receivable": "Receivable",
	"Accounts Payable": "Payable",
	"Credit Card": "Bank",
	"Equity": "Equity",
	"Income": "Income Account",
	"Other Income": "Income Account",
	"Cost of Goods Sold": "Cost of Goods Sold",
	"Expense": "Expense Account",
	"Other Expense": "Expense Account",
}
# Undeposited Funds is "Cash": ERPNext receives payments only into Bank or Cash accounts.
SUBTYPE_ACCOUNT_TYPES = {
	"UndepositedFunds": "Cash",
	"CashOnHand": "Cash",
	"Inventory": "Stock",
	"SalesTaxPayable": "Tax",
	"GlobalTaxPayable": "Tax",
	"AccumulatedDepreciation": "Accumulated Depreciation",
}
# Where each QBO AccountType sits in ERPNext's standard chart of accounts.
STANDARD_GROUPS = {
	"Bank": "Bank Accounts",
	"Accounts Receivable": "Accounts Receivable",
	"Other Current Asset": "Current Assets",
	"Fixed Asset": "Fixed Assets",
	"Other Asset": "Application of Funds (Assets)",
	"Accounts Payable": "Accounts Payable",
	"Credit Card": "Current Liabilities",
	"Other Current Liability": "Current Liabilities",
	"Long Term Liability": "Source of Funds (Liabilities)",
	"Equity": "Equity",
	"Income": "Direct Income",
	"Other Income": "Indirect Income",
	"Cost of Goods Sold": "Stock Expenses",
	"Expense": "Indirect Expenses",
	"Other Expense": "Indirect Expenses",
}


def standard_account_groups(abbr: str) -> dict[str, str]:
	"""QBO AccountType -> group account of a company set up with ERPNext's standard chart."""
	return {account_type: f"{group} - {abbr}" for account_type, group in STANDARD_GROUPS.items()}


def _has_sub_accounts(ctx: QboContext, account_id: str) -> bool:
	return any(str((a.get("ParentRef") or {}).get("value")) == account_id for a in ctx.qbo_accounts.values())


def account(record: Mapping[str, Any], ctx: QboContext) -> Mapped:
	"""A QBO account as an ERPNext Account; nothing when it is mapped onto an existing one."""
	label = _label(ACCOUNT, record)
	account_id = str(required(record, "Id", label))
	if account_id in ctx.mapped_accounts:
		return None
	name = required(record, "Name", label)
	account_type = required(record, "AccountType", label)
	classification = record.get("Classification") or CLASSIFICATIONS.get(account_type)
	root_type = ROOT_TYPES.get(classification or "")
	if not root_type:
		raise RecordError(f"{label}: field 'Classification' is not one QBO uses: {classification!r}")
	parent_id = _ref(record, "ParentRef", label, required=False)
	if parent_id:
		parent = ctx.mapped_accounts.get(parent_id) or Ref(ACCOUNT, parent_id)
	else:
		parent = ctx.account_groups.get(account_type)
		if not parent:
			raise MissingMappingError("Account Group", account_type, label)
	doc = {
		"doctype": "Account",
		"account_name": name,
		"account_number": record.get("AcctNum") or "",
		"company": ctx.company,
		"parent_account": parent,
		"root_type": root_type,
		"report_type": "Profit and Loss" if root_type in ("Income", "Expense") else "Balance Sheet",
		"account_type": SUBTYPE_ACCOUNT_TYPES.get(
			record.get("AccountSubType"), ACCOUNT_TYPES.get(account_type, "")
		),
		"account_currency": _currency(record, ctx),
		"is_group": 0,
	}
	if ctx.disable_inactive:
		doc["disabled"] = 0 if record.get("Active", True) else 1
	if not _has_sub_accounts(ctx, account_id):
		return doc
	own_postings = {
		**doc,
		"account_name": f"{name} (own postings)",
		"account_number": "",
		"parent_account": Ref(ACCOUNT, account_id),
	}
	return [Target("", {**doc, "is_group": 1}), Target(OWN_POSTINGS, own_postings)]


# Kraal Account Mapping key type of QBO accounts: QBO account id -> ERPNext Account (read the other
# way when pushing).
QBO_ACCOUNT = "QuickBooks Account"


def _account(ctx: QboContext, account_id: str, label: str, fieldname: str) -> str:
	name = ctx.accounts.get(account_id)
	if not name:
		raise MissingMappingError(QBO_ACCOUNT, account_id, f"{label} ({fieldname})")
	return name


def _account_currency(ctx: QboContext, account_id: str) -> str:
	return _currency(ctx.qbo_accounts.get(account_id) or {}, ctx)


def _account_of_type(ctx: QboContext, account_type: str, currency: str, label: str) -> str:
	"""QBO's default account of a type in a currency (A/R or A/P), when a transaction names none."""
	for account_id, qbo_account in ctx.qbo_accounts.items():
		if qbo_account.get("AccountType") == account_type and _currency(qbo_account, ctx) == currency:
			return account_id
	raise RecordError(f"{label}: QuickBooks has no {account_type} account in {currency}")


def _undeposited_funds(ctx: QboContext, label: str) -> str:
	for account_id, qbo_account in ctx.qbo_accounts.items():
		if qbo_account.get("AccountSubType") == "UndepositedFunds":
			return account_id
	raise RecordError(f"{label}: QuickBooks has no Undeposited Funds account")


def _party_account(
	record: Mapping[str, Any], ctx: QboContext, label: str, fieldname: str, account_type: str
) -> tuple[str, str]:
	"""(QBO id, ERPNext account) of the A/R or A/P account a transaction books to."""
	account_id = _ref(record, fieldname, label, required=False)
	account_id = account_id or _account_of_type(ctx, account_type, _currency(record, ctx), label)
	return account_id, _account(ctx, account_id, label, fieldname)


# -- names: customers, vendors, items, terms, tax codes ---------------------------------------------
def _country(ctx: QboContext, raw: str | None) -> str:
	if not raw:
		return ctx.default_country
	return ctx.countries.get(raw.strip().lower(), raw.strip())


def _address(
	record: Mapping[str, Any], fieldname: str, address_type: str, link: dict, ctx: QboContext, label: str
) -> dict | None:
	"""ERPNext needs a first line and a city; a QBO address without them is left out."""
	addr = record.get(fieldname) or {}
	if not addr.get("Line1") or not addr.get("City"):
		return None
	country = _country(ctx, addr.get("Country"))
	if not country:
		raise RecordError(f"{label}: field '{fieldname}.Country' is missing and no default country is set")
	return {
		"doctype": "Address",
		"address_title": record.get("DisplayName"),
		"address_type": address_type,
		"address_line1": addr["Line1"],
		"address_line2": ", ".join(addr[k] for k in ("Line2", "Line3", "Line4", "Line5") if addr.get(k)),
		"city": addr["City"],
		"state": addr.get("CountrySubDivisionCode") or "",
		"pincode": addr.get("PostalCode") or "",
		"country": country,
		"is_primary_address": int(address_type == "Billing"),
		"is_shipping_address": int(address_type == "Shipping"),
		"links": [link],
	}


def _contact(record: Mapping[str, Any], link: dict) -> dict | None:
	email = (record.get("PrimaryEmailAddr") or {}).get("Address")
	phone = (record.get("PrimaryPhone") or {}).get("FreeFormNumber")
	mobile = (record.get("Mobile") or {}).get("FreeFormNumber")
	if not (email or phone or mobile):
		return None
	phones = [{"phone": phone, "is_primary_phone": 1}] if phone else []
	phones += [{"phone": mobile, "is_primary_mobile_no": 1}] if mobile else []
	return {
		"doctype": "Contact",
		"first_name": record.get("GivenName") or record.get("DisplayName"),
		"last_name": record.get("FamilyName") or "",
		"company_name": record.get("CompanyName") or "",
		"is_primary_contact": 1,
		"email_ids": [{"email_id": email, "is_primary": 1}] if email else [],
		"phone_nos": phones,
		"links": [link],
	}


ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "state", "pincode", "country")


def _party(record: Mapping[str, Any], ctx: QboContext, entity: str, doc: dict) -> list[Target]:
	"""A customer or supplier with its billing and shipping addresses and its contact."""
	label = _label(entity, record)
	link = {"link_doctype": doc["doctype"], "link_name": Ref(entity, str(required(record, "Id", label)))}
	billing = _address(record, "BillAddr", "Billing", link, ctx, label)
	shipping = _address(record, "ShipAddr", "Shipping", link, ctx, label)
	if shipping and billing and all(shipping[k] == billing[k] for k in ADDRESS_FIELDS):
		shipping = None
	contact = _contact(record, link)
	if ctx.disable_inactive:
		doc["disabled"] = 0 if record.get("Active", True) else 1
	targets = [Target("", doc)]
	targets += [Target(key, d) for key, d in (("address", billing), ("shipping_address", shipping)) if d]
	return targets + ([Target("contact", contact)] if contact else [])


def _party_ledgers(ctx: QboContext, account_type: str, currency: str) -> list[dict]:
	"""The party's account for the company: QBO's A/R or A/P of its currency, so what ERPNext books
	for it later lands where QBO books it (and a foreign-currency party has one in its currency)."""
	for account_id, qbo_account in ctx.qbo_accounts.items():
		if qbo_account.get("AccountType") == account_type and _currency(qbo_account, ctx) == currency:
			ledger = ctx.accounts.get(account_id)
			return [{"company": ctx.company, "account": ledger}] if ledger else []
	return []


def customer(record: Mapping[str, Any], ctx: QboContext) -> list[Target]:
	label = _label(CUSTOMER, record)
	currency = _currency(record, ctx)
	doc = {
		"doctype": "Customer",
		"customer_name": required(record, "DisplayName", label),
		"customer_type": "Company" if record.get("CompanyName") else "Individual",
		"customer_group": ctx.customer_group,
		"territory": ctx.territory,
		"default_currency": currency,
	}
	accounts = _party_ledgers(ctx, "Accounts Receivable", currency)
	if accounts:
		doc["accounts"] = accounts
	term = _ref(record, "SalesTermRef", label, required=False)
	if term:
		doc["payment_terms"] = Ref(TERM, term)
	return _party(record, ctx, CUSTOMER, doc)


def supplier(record: Mapping[str, Any], ctx: QboContext) -> list[Target]:
	label = _label(VENDOR, record)
	currency = _currency(record, ctx)
	doc = {
		"doctype": "Supplier",
		"supplier_name": required(record, "DisplayName", label),
		"supplier_type": "Company" if record.get("CompanyName") else "Individual",
		"supplier_group": ctx.supplier_group,
		"default_currency": currency,
	}
	accounts = _party_ledgers(ctx, "Accounts Payable", currency)
	if accounts:
		doc["accounts"] = accounts
	term = _ref(record, "TermRef", label, required=False)
	if term:
		doc["payment_terms"] = Ref(TERM, term)
	return _party(record, ctx, VENDOR, doc)


ITEM_TYPES = ("Service", "NonInventory", "Inventory")


def item(record: Mapping[str, Any], ctx: QboContext) -> dict | None:
	"""Service, NonInventory and Inventory items; Category and bundle (Group) items book nothing."""
	label = _label(ITEM, record)
	item_type = record.get("Type")
	if item_type not in ITEM_TYPES:
		return None
	code = record.get("FullyQualifiedName") or required(record, "Name", label)
	is_stock = item_type == "Inventory"
	income_id = _ref(record, "IncomeAccountRef", label, required=False)
	expense_id = _ref(record, "ExpenseAccountRef", label, required=False)
	defaults = {"company": ctx.company}
	if income_id:
		defaults["income_account"] = _account(ctx, income_id, label, "IncomeAccountRef")
	if expense_id:
		# For Inventory items QBO's expense account is cost of goods sold, as ERPNext's is.
		defaults["expense_account"] = _account(ctx, expense_id, label, "ExpenseAccountRef")
	if is_stock and not ctx.warehouse:
		raise MissingMappingError("Warehouse", "default", label)
	if ctx.warehouse:
		# Set for every item: ERPNext would fill an empty one from the user's default warehouse,
		# which may belong to another company.
		defaults["default_warehouse"] = ctx.warehouse
	doc = {
		"doctype": "Item",
		"item_code": code,
		"item_name": record.get("Name") or code,
		"description": record.get("Description") or record.get("Name") or code,
		"item_group": ctx.item_group,
		"stock_uom": ctx.stock_uom,
		"is_stock_item": int(is_stock),
		"include_item_in_manufacturing": 0,
		"is_sales_item": int(bool(income_id)),
		"is_purchase_item": int(bool(expense_id) or is_stock),
		"standard_rate": as_float(to_decimal(record.get("UnitPrice") or 0, label, "UnitPrice")),
		"item_defaults": [defaults],
	}
	if is_stock:
		doc["valuation_rate"] = float(to_decimal(record.get("PurchaseCost") or 0, label, "PurchaseCost"))
	if ctx.disable_inactive:
		doc["disabled"] = 0 if record.get("Active", True) else 1
	return doc


def payment_terms_template(record: Mapping[str, Any], ctx: QboContext) -> dict:
	"""STANDARD terms count days from the invoice date; DATE_DRIVEN ones fall on a day of next month."""
	label = _label(TERM, record)
	name = required(record, "Name", label)
	if record.get("Type") == "DATE_DRIVEN":
		based_on = "Day(s) after the end of the invoice month"
		days, discount_days = record.get("DayOfMonthDue"), record.get("DiscountDayOfMonth")
	else:
		based_on = "Day(s) after invoice date"
		days, discount_days = record.get("DueDays"), record.get("DiscountDays")
	term = {
		"invoice_portion": 100,
		"due_date_based_on": based_on,
		"credit_days": int(to_decimal(days or 0, label, "DueDays")),
		"description": name,
	}
	discount = to_decimal(record.get("DiscountPercent") or 0, label, "DiscountPercent")
	if discount:
		term.update(
			discount_type="Percentage",
			discount=float(discount),
			discount_validity_based_on=based_on,
			discount_validity=int(to_decimal(discount_days or 0, label, "DiscountDays")),
		)
	return {"doctype": "Payment Terms Template", "template_name": name, "terms": [term]}


def tax_code(record: Mapping[str, Any], ctx: QboContext) -> list[Target] | None:
	"""A tax code as a sales and/or a purchase taxes template, one row per rate it applies."""
	label = _label(TAX_CODE, record)
	name = required(record, "Name", label)
	targets = []
	for key, rates_field, doctype in (
		("sales", "SalesTaxRateList", "Sales Taxes and Charges Template"),
		("purchase", "PurchaseTaxRateList", "Purchase Taxes and Charges Template"),
	):
		details = (record.get(rates_field) or {}).get("TaxRateDetail") or []
		rows = []
		for number, detail in enumerate(details, 1):
			path = f"{rates_field}.TaxRateDetail {number}.TaxRateRef"
			rate_id = _ref(detail, "TaxRateRef", label, path=path)
			rate = ctx.tax_rates.get(rate_id)
			if rate is None:
				raise RecordError(f"{label}: {path} names TaxRate {rate_id}, which QuickBooks did not list")
			row = {
				"charge_type": "On Net Total",
				"account_head": _tax_account(ctx, rate_id, label),
				"rate": float(to_decimal(rate.get("RateValue"), label, f"TaxRate {rate_id} RateValue")),
				"description": rate.get("Name") or rate_id,
			}
			if key == "purchase":
				row.update(category="Total", add_deduct_tax="Add")
			rows.append(row)
		if rows:
			doc = {"doctype": doctype, "title": name, "company": ctx.company, "taxes": rows}
			if ctx.disable_inactive:
				doc["disabled"] = 0 if record.get("Active", True) else 1
			targets.append(Target(key, doc))
	return targets or None


def _tax_account(ctx: QboContext, rate_id: str, label: str) -> str:
	account_name = ctx.tax_rate_accounts.get(rate_id)
	if not account_name:
		raise MissingMappingError("Tax Rate", rate_id, label)
	return account_name


def _taxes(
	record: Mapping[str, Any], ctx: QboContext, label: str, sign: int, purchase: bool = False
) -> list[dict]:
	"""QBO's tax lines as fixed amounts, so ERPNext books exactly the tax QBO worked out."""
	detail = record.get("TxnTaxDetail") or {}
	rows, booked = [], ZERO
	for number, line in enumerate(detail.get("TaxLine") or [], 1):
		amount = money(line.get("Amount"), label, f"TxnTaxDetail.TaxLine {number}.Amount")
		if not amount:
			continue
		tax_line = line.get("TaxLineDetail") or {}
		rate_id = _ref(tax_line, "TaxRateRef", label, path=f"TxnTaxDetail.TaxLine {number}.TaxRateRef")
		rate_name = (ctx.tax_rates.get(rate_id) or {}).get("Name") or f"Tax rate {rate_id}"
		percent = tax_line.get("TaxPercent")
		row = {
			"charge_type": "Actual",
			"account_head": _tax_account(ctx, rate_id, label),
			"description": f"{rate_name} {percent}%" if percent not in (None, "") else rate_name,
			"tax_amount": as_float(sign * amount),
		}
		if purchase:
			row.update(category="Total", add_deduct_tax="Add")
		rows.append(row)
		booked += amount
	total = money(detail.get("TotalTax") or 0, label, "TxnTaxDetail.TotalTax")
	if booked != total:
		raise RecordError(
			f"{label}: TxnTaxDetail.TotalTax {total} is not the sum of its tax lines ({booked})"
		)
	return rows


# -- sales -----------------------------------------------------------------------------------------
def _sales_item(line: Mapping[str, Any], ctx: QboContext, label: str, number: int, sign: int) -> dict:
	detail = line.get("SalesItemLineDetail") or {}
	path = f"Line {number}"
	item_id = _ref(detail, "ItemRef", label, path=f"{path}.SalesItemLineDetail.ItemRef")
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


def _sales_invoice(record: Mapping[str, Any], ctx: QboContext, entity: str) -> dict:
	label = _label(entity, record)
	is_return = entity == CREDIT_MEMO
	sign = -1 if is_return else 1
	posting_date = iso_date(record, "TxnDate", label)
	items, discount, discount_account = [], ZERO, None
	for number, line in enumerate(_lines(record), 1):
		kind = line.get("DetailType")
		if kind == "SalesItemLineDetail":
			items.append(_sales_item(line, ctx, label, number, sign))
		elif kind == "DiscountLineDetail":
			discount += money(line.get("Amount"), label, f"Line {number}.Amount")
			account_id = _ref(
				line.get("DiscountLineDetail") or {},
				"DiscountAccountRef",
				label,
				path=f"Line {number}.DiscountLineDetail.DiscountAccountRef",
			)
			discount_account = _account(ctx, account_id, label, "DiscountAccountRef")
		# SubTotalLineDetail and DescriptionOnly lines book nothing.
	if not items:
		raise RecordError(f"{label}: it has no item lines")
	_, debit_to = _party_account(record, ctx, label, "ARAccountRef", "Accounts Receivable")
	doc = {
		"doctype": "Sales Invoice",
		"docstatus": 1,
		"company": ctx.company,
		"customer": Ref(CUSTOMER, _ref(record, "CustomerRef", label)),
		"posting_date": posting_date,
		"set_posting_time": 1,
		"due_date": iso_date(record, "DueDate", label)
		if entity == INVOICE and record.get("DueDate")
		else posting_date,
		"currency": _currency(record, ctx),
		"conversion_rate": float(_exchange_rate(record, label)),
		"debit_to": debit_to,
		"is_return": int(is_return),
		"update_stock": int(any("warehouse" in row for row in items)),
		"ignore_pricing_rule": 1,
		"ignore_default_payment_terms_template": 1,
		"disable_rounded_total": 1,
		"items": items,
		"taxes": _taxes(record, ctx, label, sign),
		"remarks": _remarks(entity, record),
	}
	if discount:
		# Booked to QBO's discount account when Selling Settings has discount accounting enabled.
		doc.update(
			apply_discount_on="Net Total",
			discount_amount=as_float(sign * discount),
			additional_discount_account=discount_account,
		)
	return doc


def sales_invoice(record: Mapping[str, Any], ctx: QboContext) -> dict:
	"""An Invoice as a submitted Sales Invoice."""
	return _sales_invoice(record, ctx, INVOICE)


def credit_note(record: Mapping[str, Any], ctx: QboContext) -> dict:
	"""A CreditMemo as a return Sales Invoice: quantities, tax and discount negative."""
	return _sales_invoice(record, ctx, CREDIT_MEMO)


def paid_sales_invoice(record: Mapping[str, Any], ctx: QboContext) -> list[Target]:
	"""A SalesReceipt: the Sales Invoice, and the Payment Entry that pays it into the deposit account."""
	label = _label(SALES_RECEIPT, record)
	invoice = _sales_invoice(record, ctx, SALES_RECEIPT)
	total = money(record.get("TotalAmt"), label, "TotalAmt")
	if not total:
		return [Target("", invoice)]
	deposit_id = _ref(record, "DepositToAccountRef", label, required=False) or _undeposited_funds(ctx, label)
	payment = _payment_entry(
		record,
		ctx,
		SALES_RECEIPT,
		"Receive",
		party=("Customer", invoice["customer"]),
		party_account=invoice["debit_to"],
		bank_account_id=deposit_id,
		bank_field="DepositToAccountRef",
		reference_no=record.get("PaymentRefNum") or record.get("DocNumber"),
	)
	payment["references"] = [
		{
			"reference_doctype": "Sales Invoice",
			"reference_name": Ref(SALES_RECEIPT, str(required(record, "Id", label))),
			"allocated_amount": as_float(total),
		}
	]
	return [Target("", invoice), Target("payment", payment)]


# -- purchases -------------------------------------------------------------------------------------
def _purchase_line(
	line: Mapping[str, Any], ctx: QboContext, label: str, number: int, sign: int
) -> dict | None:
	kind = line.get("DetailType")
	path = f"Line {number}"
	amount = money(line.get("Amount"), label, f"{path}.Amount")
	if kind == "ItemBasedExpenseLineDetail":
		detail = line[kind] or {}
		item_id = _ref(detail, "ItemRef", label, path=f"{path}.{kind}.ItemRef")
		qty = (
			to_decimal(detail["Qty"], label, f"{path}.Qty")
			if detail.get("Qty") not in (None, "", 0)
			else Decimal(1)
		)
		has_price = detail.get("UnitPrice") not in (None, "")
		rate = to_decimal(detail["UnitPrice"], label, f"{path}.UnitPrice") if has_price else amount / qty
		row = {
			"item_code": Ref(ITEM, item_id),
			"qty": float(sign * qty),
			"rate": float(rate),
			"description": line.get("Description") or "",
		}
		if item_id in ctx.stock_item_ids:
			row["warehouse"] = ctx.warehouse
		return row
	if kind == "AccountBasedExpenseLineDetail":
		detail = line[kind] or {}
		account_id = _ref(detail, "AccountRef", label, path=f"{path}.{kind}.AccountRef")
		description = line.get("Description") or (detail.get("AccountRef") or {}).get("name") or "Expense"
		return {
			"item_name": description[:140],
			"description": description,
			"qty": float(sign),
			"rate": as_float(amount),
			"uom": ctx.stock_uom,
			"conversion_factor": 1,
			"expense_account": _account(ctx, account_id, label, f"{path}.AccountRef"),
		}
	return None


def _purchase_invoice(record: Mapping[str, Any], ctx: QboContext, entity: str) -> dict:
	label = _label(entity, record)
	is_return = entity == VENDOR_CREDIT
	sign = -1 if is_return else 1
	posting_date = iso_date(record, "TxnDate", label)
	items = [
		row
		for number, line in enumerate(record.get("Line") or [], 1)
		if (row := _purchase_line(line, ctx, label, number, sign)) is not None
	]
	if not items:
		raise RecordError(f"{label}: it has no expense or item lines")
	_, credit_to = _party_account(record, ctx, label, "APAccountRef", "Accounts Payable")
	doc = {
		"doctype": "Purchase Invoice",
		"docstatus": 1,
		"company": ctx.company,
		"supplier": Ref(VENDOR, _ref(record, "VendorRef", label)),
		"posting_date": posting_date,
		"set_posting_time": 1,
		"bill_date": posting_date,
		"due_date": iso_date(record, "DueDate", label)
		if entity == BILL and record.get("DueDate")
		else posting_date,
		"currency": _currency(record, ctx),
		"conversion_rate": float(_exchange_rate(record, label)),
		"credit_to": credit_to,
		"is_return": int(is_return),
		"update_stock": int(any("warehouse" in row for row in items)),
		"ignore_pricing_rule": 1,
		"ignore_default_payment_terms_template": 1,
		"disable_rounded_total": 1,
		"items": items,
		"taxes": _taxes(record, ctx, label, sign, purchase=True),
		"remarks": _remarks(entity, record),
	}
	if record.get("DocNumber"):
		doc["bill_no"] = record["DocNumber"]
	return doc


def purchase_invoice(record: Mapping[str, Any], ctx: QboContext) -> dict:
	"""A Bill as a submitted Purchase Invoice; item lines through the item, expense lines to their account."""
	return _purchase_invoice(record, ctx, BILL)


def debit_note(record: Mapping[str, Any], ctx: QboContext) -> dict:
	"""A VendorCredit as a return Purchase Invoice."""
	return _purchase_invoice(record, ctx, VENDOR_CREDIT)


# -- payments --------------------------------------------------------------------------------------
def _payment_entry(
	record: Mapping[str, Any],
	ctx: QboContext,
	entity: str,
	payment_type: str,
	*,
	party: tuple[str, Any],
	party_account: str,
	bank_account_id: str,
	bank_field: str,
	reference_no: str | None,
) -> dict:
	"""The party side is in the transaction's currency; the bank side in its account's currency,
	which is either the same or the company's (QBO converts at the transaction's rate)."""
	label = _label(entity, record)
	amount = money(record.get("TotalAmt"), label, "TotalAmt")
	rate = _exchange_rate(record, label)
	currency = _currency(record, ctx)
	bank_currency = _account_currency(ctx, bank_account_id)
	if bank_currency == currency:
		bank_amount, bank_rate = amount, rate
	elif bank_currency == ctx.company_currency:
		bank_amount, bank_rate = cents(amount * rate), Decimal(1)
	else:
		raise RecordError(f"{label}: {bank_field} is in {bank_currency}, the payment in {currency}")
	bank_account = _account(ctx, bank_account_id, label, bank_field)
	posting_date = iso_date(record, "TxnDate", label)
	doc = {
		"doctype": "Payment Entry",
		"docstatus": 1,
		"payment_type": payment_type,
		"company": ctx.company,
		"posting_date": posting_date,
		"party_type": party[0],
		"party": party[1],
		# ERPNext wants a reference on payments through bank accounts.
		"reference_no": reference_no or f"QuickBooks {QBO_ENTITIES[entity]} {record.get('Id')}",
		"reference_date": posting_date,
		"remarks": _remarks(entity, record),
	}
	if payment_type == "Receive":
		doc.update(
			paid_from=party_account,
			paid_amount=as_float(amount),
			source_exchange_rate=float(rate),
			paid_to=bank_account,
			received_amount=as_float(bank_amount),
			target_exchange_rate=float(bank_rate),
		)
	else:
		doc.update(
			paid_from=bank_account,
			paid_amount=as_float(bank_amount),
			source_exchange_rate=float(bank_rate),
			paid_to=party_account,
			received_amount=as_float(amount),
			target_exchange_rate=float(rate),
		)
	return doc


def _references(
	record: Mapping[str, Any], label: str, kinds: Mapping[str, tuple[str, str, int]]
) -> list[dict]:
	"""The documents a payment's lines settle; credits it applies (credit memos, vendor credits) count
	against it. Lines linked to anything else stay unallocated."""
	references = []
	for number, line in enumerate(record.get("Line") or [], 1):
		for linked in line.get("LinkedTxn") or []:
			if linked.get("TxnType") not in kinds:
				continue
			doctype, entity, sign = kinds[linked["TxnType"]]
			amount = money(line.get("Amount"), label, f"Line {number}.Amount")
			references.append(
				{
					"reference_doctype": doctype,
					"reference_name": Ref(entity, str(required(linked, "TxnId", label))),
					"allocated_amount": as_float(sign * amount),
				}
			)
	return references


RECEIPT_LINKS = {
	"Invoice": ("Sales Invoice", INVOICE, 1),
	"CreditMemo": ("Sales Invoice", CREDIT_MEMO, -1),
	"JournalEntry": ("Journal Entry", JOURNAL_ENTRY, 1),
}
BILL_PAYMENT_LINKS = {
	"Bill": ("Purchase Invoice", BILL, 1),
	"VendorCredit": ("Purchase Invoice", VENDOR_CREDIT, -1),
	"JournalEntry": ("Journal Entry", JOURNAL_ENTRY, 1),
}


def payment_received(record: Mapping[str, Any], ctx: QboContext) -> dict | None:
	"""A customer Payment as a Payment Entry (Receive) allocated to the invoices QBO links.

	A payment of zero only applies a credit memo to an invoice: ERPNext's balances need nothing.
	"""
	label = _label(PAYMENT, record)
	if not money(record.get("TotalAmt"), label, "TotalAmt"):
		return None
	_, receivable = _party_account(record, ctx, label, "ARAccountRef", "Accounts Receivable")
	deposit_id = _ref(record, "DepositToAccountRef", label, required=False) or _undeposited_funds(ctx, label)
	doc = _payment_entry(
		record,
		ctx,
		PAYMENT,
		"Receive",
		party=("Customer", Ref(CUSTOMER, _ref(record, "CustomerRef", label))),
		party_account=receivable,
		bank_account_id=deposit_id,
		bank_field="DepositToAccountRef",
		reference_no=record.get("PaymentRefNum"),
	)
	doc["references"] = _references(record, label, RECEIPT_LINKS)
	return doc


def bill_payment(record: Mapping[str, Any], ctx: QboContext) -> dict | None:
	"""A BillPayment (by check or credit card) as a Payment Entry (Pay) allocated to the bills."""
	label = _label(BILL_PAYMENT, record)
	if not money(record.get("TotalAmt"), label, "TotalAmt"):
		return None
	_, payable = _party_account(record, ctx, label, "APAccountRef", "Accounts Payable")
	if record.get("PayType") == "CreditCard":
		bank_field = "CreditCardPayment.CCAccountRef"
		bank_id = _ref(record.get("CreditCardPayment") or {}, "CCAccountRef", label, path=bank_field)
	else:
		bank_field = "CheckPayment.BankAccountRef"
		bank_id = _ref(record.get("CheckPayment") or {}, "BankAccountRef", label, path=bank_field)
	doc = _payment_entry(
		record,
		ctx,
		BILL_PAYMENT,
		"Pay",
		party=("Supplier", Ref(VENDOR, _ref(record, "VendorRef", label))),
		party_account=payable,
		bank_account_id=bank_id,
		bank_field=bank_field,
		reference_no=record.get("DocNumber"),
	)
	doc["references"] = _references(record, label, BILL_PAYMENT_LINKS)
	return doc


# -- journals: deposits, transfers, journal entries -------------------------------------------------
PARTY_ACCOUNT_TYPES = {"Accounts Receivable", "Accounts Payable"}
PARTY_TYPES = {"customer": ("Customer", CUSTOMER), "vendor": ("Supplier", VENDOR)}


def _journal_row(
	ctx: QboContext,
	record: Mapping[str, Any],
	label: str,
	account_id: str,
	fieldname: str,
	amount: Decimal,
	entity: Mapping[str, Any] | None = None,
) -> dict:
	"""One Journal Entry row: amount > 0 a debit, < 0 a credit, in the transaction's currency."""
	rate = _exchange_rate(record, label)
	currency = _currency(record, ctx)
	account_currency = _account_currency(ctx, account_id)
	base = cents(abs(amount) * rate)
	if account_currency == ctx.company_currency:
		in_account, exchange_rate = base, Decimal(1)
	elif account_currency == currency:
		in_account, exchange_rate = abs(amount), rate
	else:
		raise RecordError(f"{label}: {fieldname} is in {account_currency}, the transaction in {currency}")
	row = {
		"account": _account(ctx, account_id, label, fieldname),
		"debit_in_account_currency": as_float(in_account) if amount > 0 else 0.0,
		"credit_in_account_currency": as_float(in_account) if amount < 0 else 0.0,
		"exchange_rate": float(exchange_rate),
	}
	if (ctx.qbo_accounts.get(account_id) or {}).get("AccountType") in PARTY_ACCOUNT_TYPES:
		# ERPNext books receivables and payables against a party, and only those.
		entity = entity or {}
		kind = str(entity.get("Type") or entity.get("type") or "").lower()
		party_id = _ref(entity, "EntityRef", label, required=False) or entity.get("value")
		if kind not in PARTY_TYPES or not party_id:
			raise RecordError(
				f"{label}: {fieldname} is a receivable or payable but the line names no customer or vendor"
			)
		party_type, party_entity = PARTY_TYPES[kind]
		row.update(party_type=party_type, party=Ref(party_entity, str(party_id)))
	return row


def _journal_entry(
	record: Mapping[str, Any], ctx: QboContext, entity: str, voucher_type: str, rows: list[dict]
) -> dict:
	label = _label(entity, record)
	posting_date = iso_date(record, "TxnDate", label)
	doc = {
		"doctype": "Journal Entry",
		"docstatus": 1,
		"voucher_type": voucher_type,
		"company": ctx.company,
		"posting_date": posting_date,
		"multi_currency": int(any(row["exchange_rate"] != 1 for row in rows)),
		"user_remark": _remarks(entity, record),
		"accounts": rows,
	}
	if voucher_type != "Journal Entry":
		doc.update(
			cheque_no=record.get("DocNumber") or f"QuickBooks {QBO_ENTITIES[entity]} {record.get('Id')}"
		)
		doc.update(cheque_date=posting_date)
	return doc


def deposit(record: Mapping[str, Any], ctx: QboContext) -> dict:
	"""A Deposit as a bank Journal Entry: the bank debited, each line's source credited. Lines that
	bank earlier payments or sales receipts come out of Undeposited Funds, where those went."""
	label = _label(DEPOSIT, record)
	bank_id = _ref(record, "DepositToAccountRef", label)
	rows = [
		_journal_row(
			ctx,
			record,
			label,
			bank_id,
			"DepositToAccountRef",
			money(record.get("TotalAmt"), label, "TotalAmt"),
		)
	]
	for number, line in enumerate(record.get("Line") or [], 1):
		detail = line.get("DepositLineDetail") or {}
		amount = money(line.get("Amount"), label, f"Line {number}.Amount")
		source = _ref(detail, "AccountRef", label, required=False)
		if not source:
			if not line.get("LinkedTxn"):
				raise RecordError(f"{label}: field 'Line {number}.DepositLineDetail.AccountRef' is missing")
			source = _undeposited_funds(ctx, label)
		rows.append(
			_journal_row(
				ctx, record, label, source, f"Line {number}.AccountRef", -amount, detail.get("Entity")
			)
		)
	return _journal_entry(record, ctx, DEPOSIT, "Bank Entry", rows)


def transfer(record: Mapping[str, Any], ctx: QboContext) -> dict:
	"""A Transfer between two balance-sheet accounts as a contra Journal Entry."""
	label = _label(TRANSFER, record)
	amount = money(record.get("Amount"), label, "Amount")
	rows = [
		_journal_row(ctx, record, label, _ref(record, "ToAccountRef", label), "ToAccountRef", amount),
		_journal_row(ctx, record, label, _ref(record, "FromAccountRef", label), "FromAccountRef", -amount),
	]
	return _journal_entry(record, ctx, TRANSFER, "Contra Entry", rows)


def journal_entry(record: Mapping[str, Any], ctx: QboContext) -> dict:
	label = _label(JOURNAL_ENTRY, record)
	rows = []
	for number, line in enumerate(record.get("Line") or [], 1):
		if line.get("DetailType") != "JournalEntryLineDetail":
			continue
		detail = line.get("JournalEntryLineDetail") or {}
		posting = detail.get("PostingType")
		if posting not in ("Debit", "Credit"):
			raise RecordError(
				f"{label}: field 'Line {number}.PostingType' is not Debit or Credit: {posting!r}"
			)
		amount = money(line.get("Amount"), label, f"Line {number}.Amount")
		if not amount:
			continue
		path = f"Line {number}.AccountRef"
		account_id = _ref(detail, "AccountRef", label, path=path)
		signed = amount if posting == "Debit" else -amount
		rows.append(_journal_row(ctx, record, label, account_id, path, signed, detail.get("Entity")))
	if not rows:
		raise RecordError(f"{label}: it has no journal lines")
	return _journal_entry(record, ctx, JOURNAL_ENTRY, "Journal Entry", rows)


# -- fiscal years ----------------------------------------------------------------------------------
MONTHS = (
	"January",
	"February",
	"March",
	"April",
	"May",
	"June",
	"July",
	"August",
	"September",
	"October",
	"November",
	"December",
)


@dataclass(frozen=True)
class FiscalYearSpan:
	name: str
	start: date
	end: date


def fiscal_year_start_month(company_info: Mapping[str, Any]) -> int:
	"""CompanyInfo.FiscalYearStartMonth ("April") as a month number."""
	name = company_info.get("FiscalYearStartMonth") or "January"
	if name not in MONTHS:
		raise RecordError(f"QuickBooks CompanyInfo: field 'FiscalYearStartMonth' is not a month: {name!r}")
	return MONTHS.index(name) + 1


def fiscal_years(first: date, last: date, start_month: int) -> list[FiscalYearSpan]:
	"""Every fiscal year from the one holding `first` to the one holding `last`, named as ERPNext
	names them: "2024" for calendar years, "2023-2024" otherwise."""
	year = first.year if first.month >= start_month else first.year - 1
	spans = []
	while True:
		start = date(year, start_month, 1)
		end = date(year + 1, start_month, 1) if start_month > 1 else date(year + 1, 1, 1)
		end = date.fromordinal(end.toordinal() - 1)
		spans.append(FiscalYearSpan(str(year) if start_month == 1 else f"{year}-{year + 1}", start, end))
		if end >= last:
			return spans
		year += 1


# -- the books compared ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BalanceDifference:
	"""One ERPNext account whose balance (debit - credit) differs from the QBO accounts mapped to it;
	erpnext_account is None for a QBO account with a balance that maps to nothing."""

	erpnext_account: str | None
	qbo_account_ids: tuple[str, ...]
	qbo_balance: Decimal
	erpnext_balance: Decimal

	@property
	def difference(self) -> Decimal:
		return self.erpnext_balance - self.qbo_balance


def _report_rows(rows: Iterable[Mapping[str, Any]]) -> Iterable[list]:
	for row in rows:
		if row.get("ColData"):
			yield row["ColData"]
		yield from _report_rows((row.get("Rows") or {}).get("Row") or [])


def _report_amount(cell: Mapping[str, Any]) -> Decimal:
	value = str(cell.get("value") or "").replace(",", "")
	return Decimal(value) if value else ZERO


def qbo_trial_balance(report: Mapping[str, Any]) -> dict[str, tuple[str, Decimal]]:
	"""QBO's TrialBalance report as {account id: (name, debit - credit)}."""
	balances = {}
	for columns in _report_rows((report.get("Rows") or {}).get("Row") or []):
		account_cell = columns[0]
		key = str(account_cell.get("id") or account_cell.get("value"))
		balances[key] = (
			account_cell.get("value") or key,
			_report_amount(columns[1]) - _report_amount(columns[2]),
		)
	return balances


def compare_trial_balance(
	report: Mapping[str, Any], erpnext_balances: Mapping[str, Any], accounts: Mapping[str, str]
) -> list[BalanceDifference]:
	"""Account by account, to the cent: QBO's TrialBalance against ERPNext's balances (debit - credit
	per ERPNext account, counted as QBO's report counts them: income and expenses from the start of
	the fiscal year, earlier years' profit inside retained earnings). `accounts` is QBO account id ->
	ERPNext account; several QBO accounts may share one. Empty when the books agree."""
	qbo = qbo_trial_balance(report)
	differences = [
		BalanceDifference(None, (account_id,), balance, ZERO)
		for account_id, (_, balance) in qbo.items()
		if account_id not in accounts and balance
	]
	mapped_ids: dict[str, list[str]] = {}
	for account_id, erpnext_account in accounts.items():
		mapped_ids.setdefault(erpnext_account, []).append(account_id)
	for erpnext_account in sorted(set(mapped_ids) | set(erpnext_balances)):
		ids = mapped_ids.get(erpnext_account, [])
		qbo_balance = sum((qbo[i][1] for i in ids if i in qbo), ZERO)
		erpnext_balance = cents(Decimal(str(erpnext_balances.get(erpnext_account) or 0)))
		if erpnext_balance != qbo_balance:
			differences.append(BalanceDifference(erpnext_account, tuple(ids), qbo_balance, erpnext_balance))
	return differences


# -- ERPNext -> QBO --------------------------------------------------------------------------------
class QboKey(NamedTuple):
	entity: str  # QBO's name: "Invoice", "CreditMemo", "Customer" …
	id: str


@dataclass(frozen=True)
class QboPush:
	"""What to send to QBO: the entity and its body, without Id and SyncToken (the client adds them)."""

	entity: str
	body: dict


@dataclass(frozen=True)
class QboPushContext:
	company: str
	company_currency: str
	# (ERPNext doctype, name) -> the QBO object it is linked with; may be a live lookup.
	links: Mapping[tuple[str, str], QboKey] = field(default_factory=dict)
	# ERPNext account -> QBO account id (the Kraal Account Mapping, read the other way).
	qbo_accounts: Mapping[str, str] = field(default_factory=dict)
	# ERPNext Sales Taxes and Charges Template -> QBO TaxCode id.
	qbo_tax_codes: Mapping[str, str] = field(default_factory=dict)
	# QBO ids of credit-card accounts: a bill paid from one is a CreditCard bill payment.
	credit_card_accounts: Container[str] = frozenset()
	# The company's default income and expense accounts, for items with no defaults of their own,
	# and the QBO inventory asset account new stock items go to.
	default_income_account: str = ""
	default_expense_account: str = ""
	inventory_asset_account_id: str = ""


def _push_label(doc: Mapping[str, Any]) -> str:
	return f"{doc.get('doctype')} {doc.get('name') or '(unsaved)'}"


def _linked(ctx: QboPushContext, doctype: str, name: str, label: str) -> QboKey:
	key = ctx.links.get((doctype, name))
	if not key:
		raise RecordError(f"{label}: {doctype} {name} is not in QuickBooks yet")
	return key


def _qbo_account(ctx: QboPushContext, account_name: str, label: str) -> str:
	account_id = ctx.qbo_accounts.get(account_name)
	if not account_id:
		raise MissingMappingError(QBO_ACCOUNT, account_name, label)
	return account_id


def _amount(value: Any) -> float:
	return float(abs(cents(Decimal(str(value or 0)))))


def _doc_number(doc: Mapping[str, Any]) -> str:
	return str(doc["name"])[-21:]  # QBO keeps at most 21 characters


def _party_body(doc: Mapping[str, Any], display_name: str, is_company: bool) -> dict:
	body = {"DisplayName": display_name, "Active": not doc.get("disabled")}
	if is_company:
		body["CompanyName"] = display_name
	if doc.get("email_id"):
		body["PrimaryEmailAddr"] = {"Address": doc["email_id"]}
	if doc.get("mobile_no"):
		body["Mobile"] = {"FreeFormNumber": doc["mobile_no"]}
	if doc.get("default_currency"):
		body["CurrencyRef"] = {"value": doc["default_currency"]}
	return body


def customer_to_qbo(doc: Mapping[str, Any], ctx: QboPushContext) -> QboPush:
	return QboPush("Customer", _party_body(doc, doc["customer_name"], doc.get("customer_type") == "Company"))


def supplier_to_qbo(doc: Mapping[str, Any], ctx: QboPushContext) -> QboPush:
	return QboPush("Vendor", _party_body(doc, doc["supplier_name"], doc.get("supplier_type") == "Company"))


def item_to_qbo(doc: Mapping[str, Any], ctx: QboPushContext) -> QboPush:
	"""Stock items become Inventory items (quantities come from the transactions), others Services."""
	label = _push_label(doc)
	defaults = next((d for d in doc.get("item_defaults") or [] if d.get("company") == ctx.company), {})
	body = {
		"Name": str(doc["item_code"]).replace(":", "-")[:100],  # QBO reserves ":" for sub-items
		"Description": doc.get("description") or doc.get("item_name") or "",
		"Active": not doc.get("disabled"),
		"UnitPrice": _amount(doc.get("standard_rate")),
	}
	if doc.get("is_sales_item"):
		income = defaults.get("income_account") or ctx.default_income_account
		body["IncomeAccountRef"] = {"value": _qbo_account(ctx, income, label)}
	if doc.get("is_purchase_item") or doc.get("is_stock_item"):
		expense = defaults.get("expense_account") or ctx.default_expense_account
		body["ExpenseAccountRef"] = {"value": _qbo_account(ctx, expense, label)}
		body["PurchaseCost"] = float(
			Decimal(str(doc.get("valuation_rate") or doc.get("last_purchase_rate") or 0))
		)
	if doc.get("is_stock_item"):
		if not ctx.inventory_asset_account_id:
			raise MissingMappingError(QBO_ACCOUNT, "Inventory Asset", label)
		body.update(
			Type="Inventory",
			TrackQtyOnHand=True,
			QtyOnHand=0,
			InvStartDate=str(doc.get("creation") or "")[:10] or None,
			AssetAccountRef={"value": ctx.inventory_asset_account_id},
		)
	else:
		body["Type"] = "Service"
	return QboPush("Item", body)


def sales_invoice_to_qbo(doc: Mapping[str, Any], ctx: QboPushContext) -> QboPush:
	"""A Sales Invoice as an Invoice, a return as a CreditMemo (QBO's amounts are positive)."""
	label = _push_label(doc)
	taxed = bool(doc.get("taxes"))
	lines = []
	for row in doc.get("items") or []:
		item_key = _linked(ctx, "Item", row["item_code"], label)
		lines.append(
			{
				"DetailType": "SalesItemLineDetail",
				"Amount": _amount(row.get("amount")),
				"Description": row.get("description") or "",
				"SalesItemLineDetail": {
					"ItemRef": {"value": item_key.id},
					"Qty": float(abs(Decimal(str(row.get("qty") or 0)))),
					"UnitPrice": float(abs(Decimal(str(row.get("rate") or 0)))),
					"TaxCodeRef": {"value": "TAX" if taxed else "NON"},
				},
			}
		)
	if doc.get("discount_amount"):
		discount = {"PercentBased": False}
		if doc.get("additional_discount_account"):
			discount["DiscountAccountRef"] = {
				"value": _qbo_account(ctx, doc["additional_discount_account"], label)
			}
		lines.append(
			{
				"DetailType": "DiscountLineDetail",
				"Amount": _amount(doc["discount_amount"]),
				"DiscountLineDetail": discount,
			}
		)
	customer_key = _linked(ctx, "Customer", doc["customer"], label)
	body = {
		"CustomerRef": {"value": customer_key.id},
		"TxnDate": str(doc["posting_date"]),
		"DocNumber": _doc_number(doc),
		"CurrencyRef": {"value": doc.get("currency") or ctx.company_currency},
		"ExchangeRate": float(doc.get("conversion_rate") or 1),
		"PrivateNote": f"ERPNext {doc['name']}",
		"Line": lines,
	}
	if taxed:
		tax = {"TotalTax": _amount(doc.get("total_taxes_and_charges"))}
		tax_code_id = ctx.qbo_tax_codes.get(doc.get("taxes_and_charges") or "")
		if tax_code_id:
			tax["TxnTaxCodeRef"] = {"value": tax_code_id}
		body["TxnTaxDetail"] = tax
	receivable = ctx.qbo_accounts.get(doc.get("debit_to") or "")
	if receivable:
		body["ARAccountRef"] = {"value": receivable}
	if doc.get("is_return"):
		return QboPush("CreditMemo", body)
	body["DueDate"] = str(doc.get("due_date") or doc["posting_date"])
	return QboPush("Invoice", body)


def purchase_invoice_to_qbo(doc: Mapping[str, Any], ctx: QboPushContext) -> QboPush:
	"""A Purchase Invoice as a Bill, a return as a VendorCredit. Rows with an item go through the
	QBO item; rows without one post to their expense account."""
	label = _push_label(doc)
	lines = []
	for row in doc.get("items") or []:
		line = {
			"Amount": _amount(row.get("amount")),
			"Description": row.get("description") or row.get("item_name") or "",
		}
		if row.get("item_code"):
			item_key = _linked(ctx, "Item", row["item_code"], label)
			line["DetailType"] = "ItemBasedExpenseLineDetail"
			line["ItemBasedExpenseLineDetail"] = {
				"ItemRef": {"value": item_key.id},
				"Qty": float(abs(Decimal(str(row.get("qty") or 0)))),
				"UnitPrice": float(abs(Decimal(str(row.get("rate") or 0)))),
			}
		else:
			line["DetailType"] = "AccountBasedExpenseLineDetail"
			line["AccountBasedExpenseLineDetail"] = {
				"AccountRef": {"value": _qbo_account(ctx, row.get("expense_account") or "", label)}
			}
		lines.append(line)
	supplier_key = _linked(ctx, "Supplier", doc["supplier"], label)
	body = {
		"VendorRef": {"value": supplier_key.id},
		"TxnDate": str(doc["posting_date"]),
		"DocNumber": str(doc.get("bill_no") or _doc_number(doc))[:21],
		"CurrencyRef": {"value": doc.get("currency") or ctx.company_currency},
		"ExchangeRate": float(doc.get("conversion_rate") or 1),
		"PrivateNote": f"ERPNext {doc['name']}",
		"Line": lines,
	}
	if doc.get("taxes"):
		body["TxnTaxDetail"] = {"TotalTax": _amount(doc.get("total_taxes_and_charges"))}
	payable = ctx.qbo_accounts.get(doc.get("credit_to") or "")
	if payable:
		body["APAccountRef"] = {"value": payable}
	if doc.get("is_return"):
		return QboPush("VendorCredit", body)
	body["DueDate"] = str(doc.get("due_date") or doc["posting_date"])
	return QboPush("Bill", body)


def _linked_lines(doc: Mapping[str, Any], ctx: QboPushContext, label: str) -> list[dict]:
	lines = []
	for row in doc.get("references") or []:
		key = _linked(ctx, row["reference_doctype"], row["reference_name"], label)
		lines.append(
			{
				"Amount": _amount(row.get("allocated_amount")),
				"LinkedTxn": [{"TxnId": key.id, "TxnType": key.entity}],
			}
		)
	return lines


def payment_entry_to_qbo(doc: Mapping[str, Any], ctx: QboPushContext) -> QboPush:
	"""A receipt from a customer as a Payment, a payment to a supplier as a BillPayment, an internal
	transfer as a Transfer. Amounts are in the party's currency, as QBO keeps them."""
	label = _push_label(doc)
	payment_type = doc.get("payment_type")
	posting_date = str(doc["posting_date"])
	if payment_type == "Internal Transfer":
		body = {
			"FromAccountRef": {"value": _qbo_account(ctx, doc["paid_from"], label)},
			"ToAccountRef": {"value": _qbo_account(ctx, doc["paid_to"], label)},
			"Amount": _amount(doc.get("paid_amount")),
			"TxnDate": posting_date,
			"PrivateNote": f"ERPNext {doc['name']}",
		}
		return QboPush("Transfer", body)
	if payment_type == "Receive" and doc.get("party_type") == "Customer":
		body = {
			"CustomerRef": {"value": _linked(ctx, "Customer", doc["party"], label).id},
			"TotalAmt": _amount(doc.get("paid_amount")),
			"TxnDate": posting_date,
			"PaymentRefNum": str(doc.get("reference_no") or doc["name"])[:21],
			"DepositToAccountRef": {"value": _qbo_account(ctx, doc["paid_to"], label)},
			"CurrencyRef": {"value": doc.get("paid_from_account_currency") or ctx.company_currency},
			"ExchangeRate": float(doc.get("source_exchange_rate") or 1),
			"PrivateNote": f"ERPNext {doc['name']}",
			"Line": _linked_lines(doc, ctx, label),
		}
		return QboPush("Payment", body)
	if payment_type == "Pay" and doc.get("party_type") == "Supplier":
		bank_id = _qbo_account(ctx, doc["paid_from"], label)
		body = {
			"VendorRef": {"value": _linked(ctx, "Supplier", doc["party"], label).id},
			"TotalAmt": _amount(doc.get("received_amount")),
			"TxnDate": posting_date,
			"DocNumber": str(doc.get("reference_no") or doc["name"])[:21],
			"CurrencyRef": {"value": doc.get("paid_to_account_currency") or ctx.company_currency},
			"ExchangeRate": float(doc.get("target_exchange_rate") or 1),
			"PrivateNote": f"ERPNext {doc['name']}",
			"Line": _linked_lines(doc, ctx, label),
		}
		if bank_id in ctx.credit_card_accounts:
			body.update(PayType="CreditCard", CreditCardPayment={"CCAccountRef": {"value": bank_id}})
		else:
			body.update(PayType="Check", CheckPayment={"BankAccountRef": {"value": bank_id}})
		payable = ctx.qbo_accounts.get(doc.get("paid_to") or "")
		if payable:
			body["APAccountRef"] = {"value": payable}
		return QboPush("BillPayment", body)
	raise RecordError(
		f"{label}: only receipts from customers, payments to suppliers and internal transfers go to QuickBooks"
	)


def journal_entry_to_qbo(doc: Mapping[str, Any], ctx: QboPushContext) -> QboPush:
	"""A Journal Entry in the company's currency as a JournalEntry; receivable and payable rows name
	their customer or vendor."""
	label = _push_label(doc)
	if doc.get("multi_currency"):
		raise RecordError(
			f"{label}: multi-currency journal entries are not sent to QuickBooks; enter it there"
		)
	lines = []
	for row in doc.get("accounts") or []:
		debit, credit = _amount(row.get("debit")), _amount(row.get("credit"))
		if not (debit or credit):
			continue
		detail = {
			"PostingType": "Debit" if debit else "Credit",
			"AccountRef": {"value": _qbo_account(ctx, row["account"], label)},
		}
		if row.get("party_type") in ("Customer", "Supplier") and row.get("party"):
			key = _linked(ctx, row["party_type"], row["party"], label)
			kind = "Customer" if row["party_type"] == "Customer" else "Vendor"
			detail["Entity"] = {"Type": kind, "EntityRef": {"value": key.id}}
		lines.append(
			{
				"DetailType": "JournalEntryLineDetail",
				"Amount": debit or credit,
				"Description": row.get("user_remark") or doc.get("user_remark") or "",
				"JournalEntryLineDetail": detail,
			}
		)
	body = {
		"TxnDate": str(doc["posting_date"]),
		"DocNumber": _doc_number(doc),
		"PrivateNote": doc.get("user_remark") or f"ERPNext {doc['name']}",
		"CurrencyRef": {"value": ctx.company_currency},
		"Line": lines,
	}
	return QboPush("JournalEntry", body)


PUSHERS = {
	"Customer": customer_to_qbo,
	"Supplier": supplier_to_qbo,
	"Item": item_to_qbo,
	"Sales Invoice": sales_invoice_to_qbo,
	"Purchase Invoice": purchase_invoice_to_qbo,
	"Payment Entry": payment_entry_to_qbo,
	"Journal Entry": journal_entry_to_qbo,
}


def to_qbo(doc: Mapping[str, Any], ctx: QboPushContext) -> QboPush:
	"""The QBO entity and body for an ERPNext document of any doctype Kraal sends."""
	pusher = PUSHERS.get(doc.get("doctype"))
	if pusher is None:
		raise RecordError(f"{_push_label(doc)}: {doc.get('doctype')} documents are not sent to QuickBooks")
	return pusher(doc, ctx)
