"""QBO payments -> Payment Entries allocated to the invoices and bills QBO links them to."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kraal_connect.connectors.fields import as_float, cents, iso_date, money, required
from kraal_connect.connectors.qbo.mapping.accounts import (
	account_currency_of,
	party_ledger,
	posting_account,
	undeposited_funds,
)
from kraal_connect.connectors.qbo.mapping.records import (
	BILL,
	BILL_PAYMENT,
	CREDIT_MEMO,
	CUSTOMER,
	INVOICE,
	JOURNAL_ENTRY,
	PAYMENT,
	QBO_ENTITIES,
	VENDOR,
	VENDOR_CREDIT,
	QboContext,
	currency_of,
	exchange_rate_of,
	record_label,
	ref_id,
	remarks_of,
)
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.records import Ref


def payment_entry(
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
	label = record_label(entity, record)
	amount = money(record.get("TotalAmt"), label, "TotalAmt")
	rate = exchange_rate_of(record, label)
	currency = currency_of(record, ctx)
	bank_currency = account_currency_of(ctx, bank_account_id)
	if bank_currency == currency:
		bank_amount, bank_rate = amount, rate
	elif bank_currency == ctx.company_currency:
		bank_amount, bank_rate = cents(amount * rate), Decimal(1)
	else:
		raise RecordError(f"{label}: {bank_field} is in {bank_currency}, the payment in {currency}")
	bank_account = posting_account(ctx, bank_account_id, label, bank_field)
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
		"remarks": remarks_of(entity, record),
		# Else ERPNext writes remarks of its own over QBO's, and every re-read finds them changed.
		"custom_remarks": 1,
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
	label = record_label(PAYMENT, record)
	if not money(record.get("TotalAmt"), label, "TotalAmt"):
		return None
	_, receivable = party_ledger(record, ctx, label, "ARAccountRef", "Accounts Receivable")
	deposit_id = ref_id(record, "DepositToAccountRef", label, required=False) or undeposited_funds(ctx, label)
	doc = payment_entry(
		record,
		ctx,
		PAYMENT,
		"Receive",
		party=("Customer", Ref(CUSTOMER, ref_id(record, "CustomerRef", label))),
		party_account=receivable,
		bank_account_id=deposit_id,
		bank_field="DepositToAccountRef",
		reference_no=record.get("PaymentRefNum"),
	)
	doc["references"] = _references(record, label, RECEIPT_LINKS)
	return doc


def bill_payment(record: Mapping[str, Any], ctx: QboContext) -> dict | None:
	"""A BillPayment (by check or credit card) as a Payment Entry (Pay) allocated to the bills."""
	label = record_label(BILL_PAYMENT, record)
	if not money(record.get("TotalAmt"), label, "TotalAmt"):
		return None
	_, payable = party_ledger(record, ctx, label, "APAccountRef", "Accounts Payable")
	if record.get("PayType") == "CreditCard":
		bank_field = "CreditCardPayment.CCAccountRef"
		bank_id = ref_id(record.get("CreditCardPayment") or {}, "CCAccountRef", label, path=bank_field)
	else:
		bank_field = "CheckPayment.BankAccountRef"
		bank_id = ref_id(record.get("CheckPayment") or {}, "BankAccountRef", label, path=bank_field)
	doc = payment_entry(
		record,
		ctx,
		BILL_PAYMENT,
		"Pay",
		party=("Supplier", Ref(VENDOR, ref_id(record, "VendorRef", label))),
		party_account=payable,
		bank_account_id=bank_id,
		bank_field=bank_field,
		reference_no=record.get("DocNumber"),
	)
	doc["references"] = _references(record, label, BILL_PAYMENT_LINKS)
	return doc
