"""The migration's result: ERPNext's trial balance against QBO's TrialBalance report, account by
account, to the cent, with the records that did not come over. The migration is Complete only when
no account differs and no failed record is open."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import frappe
from frappe import _
from frappe.utils import getdate, today

from kraal_connect.api import check_can_configure
from kraal_connect.connectors.fields import cents
from kraal_connect.connectors.qbo import mapping
from kraal_connect.connectors.qbo.integration import VENDOR, QboConnector, account_map, sync_account_mappings
from kraal_connect.connectors.qbo.mapping import BalanceDifference
from kraal_connect.engine.failed_records import FAILED_RECORD, OPEN

COMPLETE, DIFFERENCES_FOUND, FAILURES_OPEN = "Complete", "Differences Found", "Failed Records Open"


@dataclass(frozen=True)
class AccountBalance:
	erpnext_account: str | None
	qbo_accounts: str  # their names, as QBO's report shows them
	qbo_balance: Decimal  # debit - credit
	erpnext_balance: Decimal

	@property
	def difference(self) -> Decimal:
		return self.erpnext_balance - self.qbo_balance


@dataclass(frozen=True)
class Reconciliation:
	as_of: date
	year_start: date
	balances: list[AccountBalance]
	differences: list[BalanceDifference]
	failed: list[dict]

	@property
	def status(self) -> str:
		if self.differences:
			return DIFFERENCES_FOUND
		return FAILURES_OPEN if self.failed else COMPLETE


def reconcile_books(integration: str, as_of: date | str | None = None) -> Reconciliation:
	doc = frappe.get_doc("Kraal Integration", integration)
	if doc.vendor != VENDOR:
		frappe.throw(_("{0} is not a QuickBooks Online integration").format(integration))
	as_of = getdate(as_of or today())
	connector = QboConnector(doc)
	report = connector.caller(connector.api.trial_balance, as_of)
	start_month = mapping.fiscal_year_start_month(connector.caller(connector.api.company_info))
	year_start = mapping.fiscal_years(as_of, as_of, start_month)[0].start
	accounts = account_map(doc.name)
	retained = next(
		(
			accounts.get(a["Id"])
			for a in connector.read_all("Account")
			if a.get("AccountSubType") == "RetainedEarnings"
		),
		None,
	)
	books = erpnext_balances(doc.company, as_of, year_start, retained)
	qbo = mapping.qbo_trial_balance(report)
	return Reconciliation(
		as_of=as_of,
		year_start=year_start,
		balances=_side_by_side(qbo, books, accounts),
		differences=mapping.compare_trial_balance(report, books, accounts),
		failed=failed_records(doc.name),
	)


def erpnext_balances(company: str, as_of: date, year_start: date, retained_earnings: str | None) -> dict:
	"""Debit - credit per account as QBO's TrialBalance counts it: balance-sheet accounts to the date,
	income and expenses from the start of its fiscal year, earlier years' profit in retained earnings."""
	rows = frappe.db.sql(
		"""
		select gle.account, acc.report_type, gle.posting_date < %(year_start)s as earlier,
			sum(gle.debit) - sum(gle.credit) as balance
		from `tabGL Entry` gle join `tabAccount` acc on acc.name = gle.account
		where gle.company = %(company)s and gle.is_cancelled = 0 and gle.posting_date <= %(as_of)s
		group by gle.account, acc.report_type, earlier
		""",
		{"company": company, "as_of": as_of, "year_start": year_start},
		as_dict=True,
	)
	balances: dict[str, Decimal] = {}
	for row in rows:
		account = row.account
		if row.report_type == "Profit and Loss" and row.earlier and retained_earnings:
			account = retained_earnings
		balances[account] = balances.get(account, Decimal(0)) + cents(Decimal(str(row.balance)))
	return {account: balance for account, balance in balances.items() if balance}


def _side_by_side(qbo: dict, books: dict, accounts: dict) -> list[AccountBalance]:
	qbo_ids: dict[str, list[str]] = {}
	for qbo_id, account in accounts.items():
		qbo_ids.setdefault(account, []).append(qbo_id)
	rows = [
		AccountBalance(
			account,
			", ".join(qbo[i][0] for i in qbo_ids.get(account, []) if i in qbo),
			sum((qbo[i][1] for i in qbo_ids.get(account, []) if i in qbo), Decimal(0)),
			books.get(account, Decimal(0)),
		)
		for account in sorted(set(books) | {a for a, ids in qbo_ids.items() if any(i in qbo for i in ids)})
	]
	rows += [
		AccountBalance(None, name, balance, Decimal(0))
		for i, (name, balance) in qbo.items()
		if i not in accounts
	]
	return rows


def failed_records(integration: str) -> list[dict]:
	"""The QBO records that did not come over: each open failed record, with the run it last failed in."""
	return frappe.get_all(
		FAILED_RECORD,
		filters={"integration": integration, "status": OPEN},
		fields=["entity", "external_id", "message", "last_log as sync_log", "last_seen as started"],
		order_by="last_seen desc",
	)


@frappe.whitelist(methods=["POST"])
def reconcile(integration: str, as_of_date: str | None = None) -> dict:
	"""Compare the books and record the result on the integration: Complete only when no account
	differs by as much as a cent and no failed record is open."""
	doc = check_can_configure(integration)
	result = reconcile_books(integration, as_of_date)
	# The mapping rows show where each QBO account's postings went, now that they all went somewhere.
	connector = QboConnector(doc)
	sync_account_mappings(doc, {a["Id"]: a for a in connector.read_all("Account")})
	frappe.db.set_value("Kraal Integration", integration, "migration_status", result.status)
	return {
		"migration_status": result.status,
		"as_of_date": str(result.as_of),
		"differing_accounts": len(result.differences),
		"failed_records": len(result.failed),
	}
