"""The migration's result, as of a date: ERPNext's trial balance against QBO's TrialBalance account by
account (and, for an account that differs, the transactions that make it differ), ERPNext's stock
against QBO's item by item, and the records that did not come over. Complete only when every account
and every item agrees to the cent and no failed record is open."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import frappe
from erpnext.stock.doctype.repost_item_valuation.repost_item_valuation import repost
from frappe import _
from frappe.utils import getdate, today

from kraal_connect.api import check_can_configure
from kraal_connect.connectors.fields import cents
from kraal_connect.connectors.qbo import mapping
from kraal_connect.connectors.qbo.integration import VENDOR, QboConnector, account_map, sync_account_mappings
from kraal_connect.connectors.qbo.mapping import BalanceDifference, DocumentDifference, StockBalance
from kraal_connect.engine import writer
from kraal_connect.engine.failed_records import FAILED_RECORD, OPEN

COMPLETE, DIFFERENCES_FOUND, FAILURES_OPEN = "Complete", "Differences Found", "Failed Records Open"
# Where a balance-sheet account's ledger is read from: all of its history.
BEGINNING = date(1900, 1, 1)
# ERPNext closes a year by moving its income and expenses into an equity account on its last day;
# QBO's report does that only for earlier years, which the comparison does itself.
PERIOD_CLOSING = "Period Closing Voucher"


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
	# The transactions whose amounts differ on each differing account; none are looked for on
	# retained earnings, which holds earlier years' profit rather than transactions of its own.
	documents: dict[BalanceDifference, list[DocumentDifference]]
	retained_earnings: str | None
	stock: list[StockBalance]
	failed: list[dict]
	# Stock reposts of the company ERPNext could not run: stock values are not final until they do.
	failed_reposts: list[dict]

	@property
	def stock_differences(self) -> list[StockBalance]:
		return [item for item in self.stock if not item.matches]

	@property
	def status(self) -> str:
		if self.differences or self.stock_differences or self.failed_reposts:
			return DIFFERENCES_FOUND
		return FAILURES_OPEN if self.failed else COMPLETE


def reconcile_books(integration: str, as_of: date | str | None = None) -> Reconciliation:
	"""ERPNext's books against QBO's as of a date, once ERPNext has reposted the company's stock."""
	doc = frappe.get_doc("Kraal Integration", integration)
	if doc.vendor != VENDOR:
		frappe.throw(_("{0} is not a QuickBooks Online integration").format(integration))
	as_of = getdate(as_of or today())
	failed_reposts = run_stock_reposts(doc.company)
	connector = QboConnector(doc)
	api, call = connector.api, connector.caller
	report = call(api.trial_balance, as_of)
	start_month = mapping.fiscal_year_start_month(call(api.company_info))
	year_start = mapping.fiscal_years(as_of, as_of, start_month)[0].start
	qbo_accounts = {a["Id"]: a for a in connector.read_all("Account")}
	accounts = account_map(doc.name)
	retained = next(
		(accounts.get(i) for i, a in qbo_accounts.items() if a.get("AccountSubType") == "RetainedEarnings"),
		None,
	)
	books = erpnext_balances(doc.company, as_of, year_start, retained)
	differences = mapping.compare_trial_balance(report, books, accounts)
	documents = {
		difference: account_documents(connector, difference, qbo_accounts, year_start, as_of)
		for difference in differences
		if not retained or difference.erpnext_account != retained
	}
	stock = mapping.compare_stock(
		mapping.qbo_inventory(call(api.inventory_valuation, as_of)),
		erpnext_stock(doc.company, as_of),
		linked_items(doc.name),
	)
	return Reconciliation(
		as_of=as_of,
		year_start=year_start,
		balances=_side_by_side(mapping.qbo_trial_balance(report), books, accounts),
		differences=differences,
		documents=documents,
		retained_earnings=retained,
		stock=stock,
		failed=failed_records(doc.name),
		failed_reposts=failed_reposts,
	)


def run_stock_reposts(company: str) -> list[dict]:
	"""The company's queued stock reposts, run now as ERPNext's hourly job would, in its order: stock
	written out of date order (purchases and sales of the past, migrated) has wrong values and cost of
	goods sold until they run. Returns those that failed."""
	for name in frappe.get_all(
		"Repost Item Valuation",
		filters={"company": company, "docstatus": 1, "status": ("in", ("Queued", "In Progress"))},
		order_by="posting_date asc, posting_time asc, creation asc",
		pluck="name",
	):
		entry = frappe.get_doc("Repost Item Valuation", name)
		if entry.status in ("Queued", "In Progress"):  # not marked Skipped by an earlier one
			repost(entry)
			entry.deduplicate_similar_repost()
	return frappe.get_all(
		"Repost Item Valuation",
		filters={"company": company, "docstatus": 1, "status": "Failed"},
		fields=["name", "voucher_type", "voucher_no", "item_code", "error_log"],
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
			and gle.voucher_type != %(closing)s
		group by gle.account, acc.report_type, earlier
		""",
		{"company": company, "as_of": as_of, "year_start": year_start, "closing": PERIOD_CLOSING},
		as_dict=True,
	)
	balances: dict[str, Decimal] = {}
	for row in rows:
		account = row.account
		if row.report_type == "Profit and Loss" and row.earlier and retained_earnings:
			account = retained_earnings
		balances[account] = balances.get(account, Decimal(0)) + cents(Decimal(str(row.balance)))
	return {account: balance for account, balance in balances.items() if balance}


def account_documents(
	connector: QboConnector,
	difference: BalanceDifference,
	qbo_accounts: dict[str, dict],
	year_start: date,
	as_of: date,
) -> list[DocumentDifference]:
	"""The QBO transactions and ERPNext documents whose amounts on a differing account disagree, over
	what the comparison counted: income and expenses from the start of the fiscal year, the rest from
	the beginning."""
	income_or_expense = any(
		qbo_accounts.get(i, {}).get("Classification") in ("Revenue", "Expense")
		for i in difference.qbo_account_ids
	) or (
		difference.erpnext_account
		and frappe.get_cached_value("Account", difference.erpnext_account, "report_type") == "Profit and Loss"
	)
	start = year_start if income_or_expense else BEGINNING
	qbo = {}
	if difference.qbo_account_ids:
		report = connector.caller(
			connector.api.general_ledger, list(difference.qbo_account_ids), start, as_of
		)
		qbo = mapping.qbo_ledger(report)
	posted = document_balances(difference.erpnext_account, start, as_of) if difference.erpnext_account else {}
	return mapping.compare_documents(qbo, posted, document_sources(connector.integration.name, posted))


def document_balances(account: str, start: date, as_of: date) -> dict[tuple[str, str], Decimal]:
	"""Debit - credit each ERPNext document posts to an account in the period."""
	rows = frappe.db.sql(
		"""
		select voucher_type, voucher_no, sum(debit) - sum(credit) as balance
		from `tabGL Entry`
		where account = %(account)s and is_cancelled = 0 and voucher_type != %(closing)s
			and posting_date between %(start)s and %(as_of)s
		group by voucher_type, voucher_no
		""",
		{"account": account, "start": start, "as_of": as_of, "closing": PERIOD_CLOSING},
		as_dict=True,
	)
	return {(row.voucher_type, row.voucher_no): cents(Decimal(str(row.balance))) for row in rows}


def document_sources(integration: str, documents) -> dict[tuple[str, str], tuple[str, str]]:
	"""(doctype, name) -> the QBO transaction (entity, id) the integration wrote it for. ERPNext's own
	exchange gain or loss journal belongs to the payment it was booked for."""
	names: dict[str, list[str]] = defaultdict(list)
	for doctype, name in documents:
		names[doctype].append(name)
	booked_for = {}
	if names.get("Journal Entry"):
		for row in frappe.db.sql(
			"""
			select je.name, jea.reference_name
			from `tabJournal Entry` je join `tabJournal Entry Account` jea on jea.parent = je.name
			where je.name in %(names)s and je.voucher_type = 'Exchange Gain Or Loss'
				and jea.reference_type = 'Payment Entry'
			""",
			{"names": names["Journal Entry"]},
			as_dict=True,
		):
			booked_for[("Journal Entry", row.name)] = ("Payment Entry", row.reference_name)
			names["Payment Entry"].append(row.reference_name)
	written = {}
	for doctype, doc_names in names.items():
		for link in frappe.get_all(
			writer.LINK,
			filters={
				"integration": integration,
				"reference_doctype": doctype,
				"reference_name": ("in", doc_names),
			},
			fields=["external_type", "external_id", "reference_name"],
		):
			written[(doctype, link.reference_name)] = (link.external_type.partition(":")[0], link.external_id)
	sources = {document: written[document] for document in documents if document in written}
	for journal, payment in booked_for.items():
		if payment in written:
			sources[journal] = written[payment]
	return sources


def erpnext_stock(company: str, as_of: date) -> dict[str, tuple[float, float]]:
	"""Item code -> (quantity on hand, stock value) in the company's warehouses as of the date."""
	rows = frappe.db.sql(
		"""
		select item_code, sum(actual_qty) as qty, sum(stock_value_difference) as value
		from `tabStock Ledger Entry`
		where company = %(company)s and is_cancelled = 0 and posting_date <= %(as_of)s
		group by item_code
		""",
		{"company": company, "as_of": as_of},
		as_dict=True,
	)
	return {row.item_code: (row.qty, row.value) for row in rows}


def linked_items(integration: str) -> dict[str, str]:
	"""QBO item id -> the ERPNext item written for it."""
	return {
		link.external_id: link.reference_name
		for link in frappe.get_all(
			writer.LINK,
			filters={"integration": integration, "external_type": mapping.ITEM, "reference_doctype": "Item"},
			fields=["external_id", "reference_name"],
		)
	}


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
		fields=["name", "entity", "external_id", "message", "last_log as sync_log"],
		order_by="last_seen desc",
	)


@frappe.whitelist(methods=["POST"])
def reconcile(integration: str, as_of_date: str | None = None) -> dict:
	"""Compare the books and record the result on the integration: Complete only when no account or
	item differs by as much as a cent and no failed record is open."""
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
		"differing_items": len(result.stock_differences),
		"failed_records": len(result.failed),
	}
