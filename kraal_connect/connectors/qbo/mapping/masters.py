"""QBO names -> ERPNext masters: customers, vendors (with addresses and contacts), items, terms and
tax codes."""

from collections.abc import Mapping
from typing import Any

from kraal_connect.connectors import contact_values
from kraal_connect.connectors.fields import as_float, money, required, to_decimal
from kraal_connect.connectors.qbo.mapping.accounts import posting_account
from kraal_connect.connectors.qbo.mapping.records import (
	CUSTOMER,
	ITEM,
	TAX_CODE,
	TERM,
	UOM,
	VENDOR,
	ZERO,
	QboContext,
	currency_of,
	record_label,
	ref_id,
)
from kraal_connect.engine.errors import MissingMappingError, RecordError
from kraal_connect.engine.missing_mappings import missing_mapping
from kraal_connect.engine.records import Ref, Target


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


def _contact(record: Mapping[str, Any], link: dict, refused: dict) -> dict | None:
	"""The party's contact; a value ERPNext refuses in its field goes into refused instead."""
	email, refused["e-mail address"] = contact_values.email(
		(record.get("PrimaryEmailAddr") or {}).get("Address")
	)
	phone, refused["phone number"] = contact_values.phone(
		(record.get("PrimaryPhone") or {}).get("FreeFormNumber")
	)
	mobile, refused["mobile number"] = contact_values.phone(
		(record.get("Mobile") or {}).get("FreeFormNumber")
	)
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
	label = record_label(entity, record)
	link = {"link_doctype": doc["doctype"], "link_name": Ref(entity, str(required(record, "Id", label)))}
	billing = _address(record, "BillAddr", "Billing", link, ctx, label)
	shipping = _address(record, "ShipAddr", "Shipping", link, ctx, label)
	if shipping and billing and all(shipping[k] == billing[k] for k in ADDRESS_FIELDS):
		shipping = None
	refused = {}
	contact = _contact(record, link, refused)
	if ctx.disable_inactive:
		doc["disabled"] = 0 if record.get("Active", True) else 1
	details, notes = contact_values.refusals(label, refused)
	if details:
		doc["customer_details" if doc["doctype"] == "Customer" else "supplier_details"] = details
	targets = [Target("", doc, notes=tuple(notes))]
	targets += [Target(key, d) for key, d in (("address", billing), ("shipping_address", shipping)) if d]
	return targets + ([Target("contact", contact)] if contact else [])


def _party_ledgers(ctx: QboContext, account_type: str, currency: str) -> list[dict]:
	"""The party's account for the company: QBO's A/R or A/P of its currency, so what ERPNext books
	for it later lands where QBO books it (and a foreign-currency party has one in its currency)."""
	for account_id, qbo_account in ctx.qbo_accounts.items():
		if qbo_account.get("AccountType") == account_type and currency_of(qbo_account, ctx) == currency:
			ledger = ctx.accounts.get(account_id)
			return [{"company": ctx.company, "account": ledger}] if ledger else []
	return []


def customer(record: Mapping[str, Any], ctx: QboContext) -> list[Target]:
	label = record_label(CUSTOMER, record)
	currency = currency_of(record, ctx)
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
	term = ref_id(record, "SalesTermRef", label, required=False)
	if term:
		doc["payment_terms"] = Ref(TERM, term)
	return _party(record, ctx, CUSTOMER, doc)


def supplier(record: Mapping[str, Any], ctx: QboContext) -> list[Target]:
	label = record_label(VENDOR, record)
	currency = currency_of(record, ctx)
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
	term = ref_id(record, "TermRef", label, required=False)
	if term:
		doc["payment_terms"] = Ref(TERM, term)
	return _party(record, ctx, VENDOR, doc)


ITEM_TYPES = ("Service", "NonInventory", "Inventory")


def item(record: Mapping[str, Any], ctx: QboContext) -> dict | None:
	"""Service, NonInventory and Inventory items; Category and bundle (Group) items book nothing."""
	label = record_label(ITEM, record)
	item_type = record.get("Type")
	if item_type not in ITEM_TYPES:
		return None
	code = record.get("FullyQualifiedName") or required(record, "Name", label)
	is_stock = item_type == "Inventory"
	income_id = ref_id(record, "IncomeAccountRef", label, required=False)
	expense_id = ref_id(record, "ExpenseAccountRef", label, required=False)
	defaults = {"company": ctx.company}
	if income_id:
		defaults["income_account"] = posting_account(ctx, income_id, label, "IncomeAccountRef")
	if expense_id:
		# For Inventory items QBO's expense account is cost of goods sold, as ERPNext's is.
		defaults["expense_account"] = posting_account(ctx, expense_id, label, "ExpenseAccountRef")
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
		"stock_uom": UOM,
		"is_stock_item": int(is_stock),
		"include_item_in_manufacturing": 0,
		"is_sales_item": int(bool(income_id)),
		"is_purchase_item": int(bool(expense_id) or is_stock),
		"standard_rate": as_float(to_decimal(record.get("UnitPrice") or 0, label, "UnitPrice")),
		"item_defaults": [defaults],
	}
	if is_stock:
		doc["valuation_rate"] = float(to_decimal(record.get("PurchaseCost") or 0, label, "PurchaseCost"))
		if ctx.stock_valuation != "FIFO":
			# QBO costs inventory first in, first out. So does ERPNext by default; where Stock Settings
			# say otherwise the item says FIFO itself, and Stock Settings stay as they are.
			doc["valuation_method"] = "FIFO"
	if ctx.disable_inactive:
		doc["disabled"] = 0 if record.get("Active", True) else 1
	return doc


def payment_terms_template(record: Mapping[str, Any], ctx: QboContext) -> dict:
	"""STANDARD terms count days from the invoice date; DATE_DRIVEN ones fall on a day of next month."""
	label = record_label(TERM, record)
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
	label = record_label(TAX_CODE, record)
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
			rate_id = ref_id(detail, "TaxRateRef", label, path=path)
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
		return missing_mapping("Tax Rate", rate_id, label)
	return account_name


def tax_rows(
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
		rate_id = ref_id(tax_line, "TaxRateRef", label, path=f"TxnTaxDetail.TaxLine {number}.TaxRateRef")
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
