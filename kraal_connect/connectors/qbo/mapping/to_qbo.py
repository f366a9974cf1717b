"""ERPNext documents -> QBO request bodies, for the parallel run's pushes."""

from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from kraal_connect.connectors.fields import cents
from kraal_connect.connectors.qbo.mapping.accounts import QBO_ACCOUNT
from kraal_connect.engine.errors import MissingMappingError, RecordError


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
