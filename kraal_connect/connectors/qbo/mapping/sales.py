"""QBO sales -> Sales Invoices: invoices, credit memos (returns) and sales receipts (paid invoices)."""

from collections.abc import Mapping
from typing import Any

from kraal_connect.connectors.fields import as_float, money, required
from kraal_connect.connectors.qbo.mapping.accounts import party_ledger, posting_account, undeposited_funds
from kraal_connect.connectors.qbo.mapping.masters import tax_rows
from kraal_connect.connectors.qbo.mapping.payments import payment_entry
from kraal_connect.connectors.qbo.mapping.records import (
	CREDIT_MEMO,
	CUSTOMER,
	INVOICE,
	SALES_RECEIPT,
	QboContext,
	invoice_fields,
	item_row,
	lines_of,
	record_label,
	ref_id,
)
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.records import Ref, Target


def _discount_row(line: Mapping[str, Any], ctx: QboContext, label: str, number: int, sign: int) -> dict:
	"""A discount as a charge of a negative amount on QBO's discount account, where QBO books it.
	ERPNext books an invoice-level discount to an account of its own only with discount accounting on,
	a setting of every company on the site, and refuses rows of a negative rate unless another is on;
	charges it books as they are."""
	detail = line.get("DiscountLineDetail") or {}
	path = f"Line {number}"
	account_id = ref_id(
		detail, "DiscountAccountRef", label, path=f"{path}.DiscountLineDetail.DiscountAccountRef"
	)
	percent = detail.get("DiscountPercent") if detail.get("PercentBased") else None
	return {
		"charge_type": "Actual",
		"account_head": posting_account(ctx, account_id, label, "DiscountAccountRef"),
		"description": line.get("Description") or (f"Discount {percent}%" if percent else "Discount"),
		"tax_amount": as_float(-sign * money(line.get("Amount"), label, f"{path}.Amount")),
	}


def _sales_invoice(record: Mapping[str, Any], ctx: QboContext, entity: str) -> dict:
	label = record_label(entity, record)
	is_return = entity == CREDIT_MEMO
	sign = -1 if is_return else 1
	items, discounts = [], []
	for number, line in enumerate(lines_of(record), 1):
		kind = line.get("DetailType")
		if kind == "SalesItemLineDetail":
			items.append(item_row(line, kind, ctx, label, number, sign))
		elif kind == "DiscountLineDetail":
			discounts.append(_discount_row(line, ctx, label, number, sign))
		# SubTotalLineDetail and DescriptionOnly lines book nothing.
	if not items:
		raise RecordError(f"{label}: it has no item lines")
	_, debit_to = party_ledger(record, ctx, label, "ARAccountRef", "Accounts Receivable")
	doc = {
		"doctype": "Sales Invoice",
		"customer": Ref(CUSTOMER, ref_id(record, "CustomerRef", label)),
		"debit_to": debit_to,
		**invoice_fields(record, ctx, entity, items, discounts + tax_rows(record, ctx, label, sign)),
	}
	if not is_return:
		# ERPNext gives a sale the customer's payment terms whatever the invoice says, and moves its
		# due date to theirs (a sales receipt has no DueDate, an invoice's may differ from the terms);
		# one instalment on QBO's date keeps it, so a re-read of the same record finds nothing changed.
		doc["payment_schedule"] = [{"due_date": doc["due_date"], "invoice_portion": 100}]
	return doc


def sales_invoice(record: Mapping[str, Any], ctx: QboContext) -> dict:
	"""An Invoice as a submitted Sales Invoice."""
	return _sales_invoice(record, ctx, INVOICE)


def credit_note(record: Mapping[str, Any], ctx: QboContext) -> dict:
	"""A CreditMemo as a return Sales Invoice: quantities, tax and discount negative."""
	return _sales_invoice(record, ctx, CREDIT_MEMO)


def paid_sales_invoice(record: Mapping[str, Any], ctx: QboContext) -> list[Target]:
	"""A SalesReceipt: the Sales Invoice, and the Payment Entry that pays it into the deposit account."""
	label = record_label(SALES_RECEIPT, record)
	invoice = _sales_invoice(record, ctx, SALES_RECEIPT)
	total = money(record.get("TotalAmt"), label, "TotalAmt")
	if not total:
		return [Target("", invoice)]
	deposit_id = ref_id(record, "DepositToAccountRef", label, required=False) or undeposited_funds(ctx, label)
	payment = payment_entry(
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
