"""QBO purchases -> Purchase Invoices: bills and vendor credits (returns)."""

from collections.abc import Mapping
from typing import Any

from kraal_connect.connectors.fields import as_float, money
from kraal_connect.connectors.qbo.mapping.accounts import party_ledger, posting_account
from kraal_connect.connectors.qbo.mapping.masters import tax_rows
from kraal_connect.connectors.qbo.mapping.records import (
	BILL,
	UOM,
	VENDOR,
	VENDOR_CREDIT,
	QboContext,
	invoice_fields,
	item_row,
	record_label,
	ref_id,
)
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.records import Ref


def _purchase_line(
	line: Mapping[str, Any], ctx: QboContext, label: str, number: int, sign: int
) -> dict | None:
	kind = line.get("DetailType")
	path = f"Line {number}"
	if kind == "ItemBasedExpenseLineDetail":
		return item_row(line, kind, ctx, label, number, sign)
	if kind == "AccountBasedExpenseLineDetail":
		amount = money(line.get("Amount"), label, f"{path}.Amount")
		detail = line[kind] or {}
		account_id = ref_id(detail, "AccountRef", label, path=f"{path}.{kind}.AccountRef")
		description = line.get("Description") or (detail.get("AccountRef") or {}).get("name") or "Expense"
		return {
			"item_name": description[:140],
			"description": description,
			"qty": float(sign),
			"rate": as_float(amount),
			"uom": UOM,
			"conversion_factor": 1,
			"expense_account": posting_account(ctx, account_id, label, f"{path}.AccountRef"),
		}
	return None


def _purchase_invoice(record: Mapping[str, Any], ctx: QboContext, entity: str) -> dict:
	label = record_label(entity, record)
	is_return = entity == VENDOR_CREDIT
	sign = -1 if is_return else 1
	items = [
		row
		for number, line in enumerate(record.get("Line") or [], 1)
		if (row := _purchase_line(line, ctx, label, number, sign)) is not None
	]
	if not items:
		raise RecordError(f"{label}: it has no expense or item lines")
	_, credit_to = party_ledger(record, ctx, label, "APAccountRef", "Accounts Payable")
	doc = {
		"doctype": "Purchase Invoice",
		"supplier": Ref(VENDOR, ref_id(record, "VendorRef", label)),
		"credit_to": credit_to,
		**invoice_fields(record, ctx, entity, items, tax_rows(record, ctx, label, sign, purchase=True)),
	}
	doc["bill_date"] = doc["posting_date"]
	if record.get("DocNumber"):
		doc["bill_no"] = record["DocNumber"]
	return doc


def purchase_invoice(record: Mapping[str, Any], ctx: QboContext) -> dict:
	"""A Bill as a submitted Purchase Invoice; item lines through the item, expense lines to their account."""
	return _purchase_invoice(record, ctx, BILL)


def debit_note(record: Mapping[str, Any], ctx: QboContext) -> dict:
	"""A VendorCredit as a return Purchase Invoice."""
	return _purchase_invoice(record, ctx, VENDOR_CREDIT)
