"""QBO deposits, transfers and journal entries -> Journal Entries."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kraal_connect.connectors.fields import as_float, cents, iso_date, money
from kraal_connect.connectors.qbo.mapping.accounts import (
	account_currency_of,
	posting_account,
	undeposited_funds,
)
from kraal_connect.connectors.qbo.mapping.records import (
	CUSTOMER,
	DEPOSIT,
	JOURNAL_ENTRY,
	QBO_ENTITIES,
	TRANSFER,
	VENDOR,
	QboContext,
	currency_of,
	exchange_rate_of,
	record_label,
	ref_id,
	remarks_of,
)
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.records import Ref

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
	rate = exchange_rate_of(record, label)
	currency = currency_of(record, ctx)
	account_currency = account_currency_of(ctx, account_id)
	base = cents(abs(amount) * rate)
	if account_currency == ctx.company_currency:
		in_account, exchange_rate = base, Decimal(1)
	elif account_currency == currency:
		in_account, exchange_rate = abs(amount), rate
	else:
		raise RecordError(f"{label}: {fieldname} is in {account_currency}, the transaction in {currency}")
	row = {
		"account": posting_account(ctx, account_id, label, fieldname),
		"debit_in_account_currency": as_float(in_account) if amount > 0 else 0.0,
		"credit_in_account_currency": as_float(in_account) if amount < 0 else 0.0,
		"exchange_rate": float(exchange_rate),
	}
	if (ctx.qbo_accounts.get(account_id) or {}).get("AccountType") in PARTY_ACCOUNT_TYPES:
		# ERPNext books receivables and payables against a party, and only those.
		entity = entity or {}
		kind = str(entity.get("Type") or entity.get("type") or "").lower()
		party_id = ref_id(entity, "EntityRef", label, required=False) or entity.get("value")
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
	label = record_label(entity, record)
	posting_date = iso_date(record, "TxnDate", label)
	doc = {
		"doctype": "Journal Entry",
		"docstatus": 1,
		"voucher_type": voucher_type,
		"company": ctx.company,
		"posting_date": posting_date,
		"multi_currency": int(any(row["exchange_rate"] != 1 for row in rows)),
		"user_remark": remarks_of(entity, record),
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
	label = record_label(DEPOSIT, record)
	bank_id = ref_id(record, "DepositToAccountRef", label)
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
		source = ref_id(detail, "AccountRef", label, required=False)
		if not source:
			if not line.get("LinkedTxn"):
				raise RecordError(f"{label}: field 'Line {number}.DepositLineDetail.AccountRef' is missing")
			source = undeposited_funds(ctx, label)
		rows.append(
			_journal_row(
				ctx, record, label, source, f"Line {number}.AccountRef", -amount, detail.get("Entity")
			)
		)
	return _journal_entry(record, ctx, DEPOSIT, "Bank Entry", rows)


def transfer(record: Mapping[str, Any], ctx: QboContext) -> dict:
	"""A Transfer between two balance-sheet accounts as a contra Journal Entry."""
	label = record_label(TRANSFER, record)
	amount = money(record.get("Amount"), label, "Amount")
	rows = [
		_journal_row(ctx, record, label, ref_id(record, "ToAccountRef", label), "ToAccountRef", amount),
		_journal_row(ctx, record, label, ref_id(record, "FromAccountRef", label), "FromAccountRef", -amount),
	]
	return _journal_entry(record, ctx, TRANSFER, "Contra Entry", rows)


def journal_entry(record: Mapping[str, Any], ctx: QboContext) -> dict:
	label = record_label(JOURNAL_ENTRY, record)
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
		account_id = ref_id(detail, "AccountRef", label, path=path)
		signed = amount if posting == "Debit" else -amount
		rows.append(_journal_row(ctx, record, label, account_id, path, signed, detail.get("Entity")))
	if not rows:
		raise RecordError(f"{label}: it has no journal lines")
	return _journal_entry(record, ctx, JOURNAL_ENTRY, "Journal Entry", rows)
