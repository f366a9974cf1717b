"""An account's QuickBooks transactions, from QBO's GeneralLedger report, against the ERPNext documents
that post to it: which documents make the account differ."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kraal_connect.connectors.qbo.mapping.books import report_amount, report_rows
from kraal_connect.connectors.qbo.mapping.records import (
	BILL,
	BILL_PAYMENT,
	CREDIT_MEMO,
	DEPOSIT,
	INVOICE,
	JOURNAL_ENTRY,
	PAYMENT,
	SALES_RECEIPT,
	TRANSFER,
	VENDOR_CREDIT,
	ZERO,
)

# How QBO's reports name the transactions the migration reads -> their stream entity. Other kinds
# (checks, expenses, inventory adjustments …) keep QBO's name.
TXN_TYPES = {
	"Invoice": INVOICE,
	"Credit Memo": CREDIT_MEMO,
	"Sales Receipt": SALES_RECEIPT,
	"Bill": BILL,
	"Vendor Credit": VENDOR_CREDIT,
	"Payment": PAYMENT,
	"Bill Payment (Check)": BILL_PAYMENT,
	"Bill Payment (Credit Card)": BILL_PAYMENT,
	"Deposit": DEPOSIT,
	"Transfer": TRANSFER,
	"Journal Entry": JOURNAL_ENTRY,
}


@dataclass(frozen=True)
class DocumentDifference:
	"""What one QBO transaction posts to an account against what its ERPNext documents post there.
	A document made in ERPNext has no QBO transaction (entity and qbo_id None); a QBO transaction that
	did not come over has no documents."""

	entity: str | None
	qbo_id: str | None
	number: str
	documents: tuple[tuple[str, str], ...]
	qbo_amount: Decimal
	erpnext_amount: Decimal

	@property
	def difference(self) -> Decimal:
		return self.erpnext_amount - self.qbo_amount


def _column_keys(report: Mapping[str, Any]) -> list[str]:
	keys = []
	for column in (report.get("Columns") or {}).get("Column") or []:
		meta = {m.get("Name"): m.get("Value") for m in column.get("MetaData") or []}
		keys.append(meta.get("ColKey") or column.get("ColTitle") or "")
	return keys


def qbo_ledger(report: Mapping[str, Any]) -> dict[tuple[str, str], tuple[str, Decimal]]:
	"""QBO's GeneralLedger as {(entity, transaction id): (number, debit - credit)}, each transaction's
	lines on the accounts it was asked for added up."""
	keys = _column_keys(report)
	column = {key: keys.index(key) for key in ("txn_type", "doc_num", "debt_amt", "credt_amt")}
	lines: dict[tuple[str, str], tuple[str, Decimal]] = {}
	# Sub-accounts are sections inside their parent's: every line is read wherever it sits; a row
	# without a transaction (a beginning balance) is not one.
	for cells in report_rows((report.get("Rows") or {}).get("Row") or []):
		kind = cells[column["txn_type"]]
		if not kind.get("id"):
			continue
		key = (TXN_TYPES.get(kind.get("value"), kind.get("value") or ""), str(kind["id"]))
		amount = report_amount(cells[column["debt_amt"]]) - report_amount(cells[column["credt_amt"]])
		number = cells[column["doc_num"]].get("value") or ""
		lines[key] = (number, lines.get(key, ("", ZERO))[1] + amount)
	return lines


def compare_documents(
	qbo: Mapping[tuple[str, str], tuple[str, Decimal]],
	erpnext: Mapping[tuple[str, str], Decimal],
	sources: Mapping[tuple[str, str], tuple[str, str]],
) -> list[DocumentDifference]:
	"""The transactions whose amounts on an account differ, to the cent. `qbo` is qbo_ledger() of the
	account, `erpnext` debit - credit per ERPNext document (doctype, name) on it, `sources` the QBO
	transaction (entity, id) each document was written for."""
	documents: dict[tuple[str, str], list[tuple[str, str]]] = {}
	made_here = []
	for document in erpnext:
		if document in sources:
			documents.setdefault(sources[document], []).append(document)
		else:
			made_here.append(document)
	differences = []
	for key in list(qbo) + [k for k in documents if k not in qbo]:
		number, qbo_amount = qbo.get(key, ("", ZERO))
		own = tuple(sorted(documents.get(key, [])))
		erpnext_amount = sum((erpnext[d] for d in own), ZERO)
		if erpnext_amount != qbo_amount:
			differences.append(DocumentDifference(key[0], key[1], number, own, qbo_amount, erpnext_amount))
	for document in sorted(made_here):
		if erpnext[document]:
			differences.append(DocumentDifference(None, None, "", (document,), ZERO, erpnext[document]))
	return differences
