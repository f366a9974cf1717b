"""Deposits matched to payouts and settlements on the site (engine/deposit_match decides).

After a run of a bank feed (Plaid) or of a connector that books deposits (Shopify payouts, Amazon
settlements), every unreconciled bank transaction of the company is held against the payouts and
settlements no bank transaction holds yet. A unique match is reconciled through ERPNext's own
Bank Reconciliation Tool (reconcile_vouchers: the Bank Transaction's payment entries and the Journal
Entry's clearance date, as a person reconciling it would leave them); an ambiguous one is left alone
and offered as a suggestion by deposit_suggestions(), computed from the books each time it is asked,
so it never goes stale; accept_suggestion() reconciles the one a person chose. deposits_not_in_bank()
lists the payouts and settlements no bank transaction holds yet.

A deposit is seen only when its Journal Entry moves the Bank Account's own ledger account: map a
payout's bank (Shopify Payout Bank) or a settlement's currency (Amazon Settlement Currency) to the
ledger account of the Bank Account the bank feed writes to.
"""

import json
from decimal import Decimal

import frappe
from erpnext.accounts.doctype.bank_reconciliation_tool.bank_reconciliation_tool import reconcile_vouchers
from frappe import _
from frappe.utils import getdate

from kraal_connect.engine.deposit_match import AMBIGUOUS, UNIQUE, BankLine, Deposit, plan
from kraal_connect.engine.registry import CONNECTORS, connector_class

CENT = Decimal("0.01")
SAVEPOINT = "kraal_deposits"


def after_run(connector, stats) -> None:
	"""The engine's one hook: match the company's deposits after a bank feed or a payout/settlement run.

	A failure here never fails the sync that booked the records: it is logged and the run goes on."""
	if not (connector.bank_feed or connector.deposit_entities):
		return
	company = connector.integration.company
	frappe.db.savepoint(SAVEPOINT)
	try:
		reconciled, suggested = match_company(company)
	except Exception:
		frappe.db.rollback(save_point=SAVEPOINT)
		frappe.log_error(title=f"Kraal could not match the deposits of {company}")
		return
	if reconciled or suggested:
		stats.remarks.append(
			_("Deposits: {0} reconciled with their payout or settlement, {1} with a choice to make").format(
				reconciled, suggested
			)
		)


def match_company(company: str) -> tuple[int, int]:
	"""Reconcile every unique match of the company; returns (reconciled, left as suggestions)."""
	lines = bank_lines(company)
	matches = plan(lines, open_deposits(company))
	reconciled = 0
	for line in lines:
		match = matches[line.name]
		if match.kind == UNIQUE:
			_reconcile(line.name, match.deposits[0].voucher)
			reconciled += 1
	return reconciled, sum(1 for m in matches.values() if m.kind == AMBIGUOUS)


def _reconcile(bank_transaction: str, journal_entry: str) -> None:
	vouchers = [{"payment_doctype": "Journal Entry", "payment_name": journal_entry}]
	reconcile_vouchers(bank_transaction, json.dumps(vouchers))


# -- what the books hold ---------------------------------------------------------------------------


def deposit_types() -> dict[str, tuple[str, str]]:
	"""External type -> (vendor, the mapping key type of its deposit account), for every connector that
	books deposits."""
	return {
		entity: (vendor, key_type)
		for vendor in CONNECTORS
		for entity, key_type in connector_class(vendor).deposit_entities.items()
	}


def bank_lines(company: str, names: list[str] | None = None) -> list[BankLine]:
	"""Submitted bank transactions of the company with something left to reconcile."""
	filters = {"company": company, "docstatus": 1, "unallocated_amount": (">", 0)}
	if names is not None:
		filters["name"] = ("in", names or [""])
	rows = frappe.get_all(
		"Bank Transaction",
		filters=filters,
		fields=["name", "bank_account", "currency", "deposit", "withdrawal", "unallocated_amount", "date"],
		order_by="date, name",
	)
	ledgers = dict(
		frappe.get_all(
			"Bank Account",
			filters={"name": ("in", list({r.bank_account for r in rows}) or [""])},
			fields=["name", "account"],
			as_list=True,
		)
	)
	lines = []
	for row in rows:
		if not ledgers.get(row.bank_account):
			continue  # a Bank Account with no ledger account cannot be reconciled with a voucher
		sign = 1 if row.deposit else -1
		amount = (sign * Decimal(str(row.unallocated_amount))).quantize(CENT)
		lines.append(BankLine(row.name, ledgers[row.bank_account], row.currency, amount, getdate(row.date)))
	return lines


def open_deposits(company: str) -> list[Deposit]:
	"""The deposit lines (on the account its integration maps deposits to: Shopify Payout Bank, Amazon
	Settlement Currency) of the company's payout and settlement Journal Entries that no bank transaction
	holds yet (no clearance date, in no Bank Transaction's payment entries). ERPNext gives a Journal
	Entry that also moves another Bank-type account (a clearing account typed Bank) its clearance date
	only once that side is reconciled too, so being held by a bank transaction is what counts here."""
	types = deposit_types()
	links = frappe.get_all(
		"Kraal External Link",
		filters={"external_type": ("in", list(types) or [""]), "reference_doctype": "Journal Entry"},
		fields=["reference_name", "external_type", "external_id", "integration"],
	)
	labels = {
		link.reference_name: f"{types[link.external_type][0]} {link.external_type} {_short(link.external_id)}"
		for link in links
	}
	# Each entry's deposit line: the rows on the accounts its integration maps deposits to.
	deposit_accounts: dict[tuple[str, str], set[str]] = {}
	for row in frappe.get_all(
		"Kraal Account Mapping",
		filters={
			"integration": ("in", list({link.integration for link in links}) or [""]),
			"key_type": ("in", list({key_type for _vendor, key_type in types.values()}) or [""]),
			"target_name": ("is", "set"),
		},
		fields=["integration", "key_type", "target_name"],
	):
		deposit_accounts.setdefault((row.integration, row.key_type), set()).add(row.target_name)
	accounts_of = {
		link.reference_name: deposit_accounts.get((link.integration, types[link.external_type][1]), set())
		for link in links
	}
	if not labels:
		return []
	held = set(
		frappe.get_all(
			"Bank Transaction Payments",
			filters={
				"payment_document": "Journal Entry",
				"payment_entry": ("in", list(labels)),
				"docstatus": 1,
			},
			pluck="payment_entry",
		)
	)
	entries = {
		je.name: je
		for je in frappe.get_all(
			"Journal Entry",
			filters={
				"name": ("in", list(labels)),
				"company": company,
				"docstatus": 1,
				"clearance_date": ("is", "not set"),
			},
			fields=["name", "posting_date"],
		)
		if je.name not in held
	}
	rows = frappe.get_all(
		"Journal Entry Account",
		filters={"parent": ("in", list(entries) or [""]), "parenttype": "Journal Entry"},
		fields=[
			"parent",
			"account",
			"account_currency",
			"debit_in_account_currency",
			"credit_in_account_currency",
		],
	)
	moved: dict[tuple[str, str, str], Decimal] = {}
	for row in rows:
		if row.account in accounts_of[row.parent]:
			key = (row.parent, row.account, row.account_currency)
			amount = Decimal(str(row.debit_in_account_currency)) - Decimal(
				str(row.credit_in_account_currency)
			)
			moved[key] = moved.get(key, Decimal(0)) + amount
	return [
		Deposit(
			voucher,
			account,
			currency,
			amount.quantize(CENT),
			getdate(entries[voucher].posting_date),
			labels[voucher],
		)
		for (voucher, account, currency), amount in sorted(moved.items())
		if amount
	]


def _short(external_id: str) -> str:
	"""gid://shopify/ShopifyPaymentsPayout/80001 -> 80001; an Amazon settlement id stays as it is."""
	return external_id.rsplit("/", 1)[-1]


# -- for people (and the e-commerce view) ---------------------------------------------------------


def _check_company(company: str | None) -> list[str]:
	"""The companies asked about that the user may read Journal Entries of."""
	frappe.has_permission("Journal Entry", "read", throw=True)
	frappe.has_permission("Bank Transaction", "read", throw=True)
	companies = [company] if company else frappe.get_list("Company", pluck="name")
	for name in companies:
		if not frappe.has_permission("Company", "read", doc=name):
			frappe.throw(_("Not permitted to read company {0}").format(name), frappe.PermissionError)
	return companies


@frappe.whitelist()
def deposits_not_in_bank(company: str | None = None) -> list[dict]:
	"""Every payout and settlement booked as a deposit that no bank transaction holds yet, oldest first:
	company, vendor (label), Journal Entry, date, bank ledger account, currency, amount, and the bank
	transactions it is suggested for (a choice a person has to make), if any."""
	result = []
	for name in _check_company(company):
		deposits = open_deposits(name)
		suggestions = _suggestions(name, deposits)
		for deposit in deposits:
			result.append(
				{
					"company": name,
					"source": deposit.label,
					"journal_entry": deposit.voucher,
					"posting_date": deposit.date,
					"account": deposit.account,
					"currency": deposit.currency,
					"amount": float(deposit.amount),
					"suggested_for": [
						s["bank_transaction"] for s in suggestions if deposit.voucher in s["candidates"]
					],
				}
			)
	return sorted(result, key=lambda row: (row["posting_date"], row["journal_entry"]))


@frappe.whitelist()
def deposit_suggestions(company: str | None = None) -> list[dict]:
	"""Bank transactions that fit several payouts or settlements (or share their only one with another
	bank transaction): each with its candidates' Journal Entries, for a person to choose."""
	result = []
	for name in _check_company(company):
		result += _suggestions(name, open_deposits(name))
	return result


def _suggestions(company: str, deposits: list[Deposit]) -> list[dict]:
	lines = bank_lines(company)
	matches = plan(lines, deposits)
	return [
		{
			"bank_transaction": line.name,
			"date": line.date,
			"amount": float(line.amount),
			"currency": line.currency,
			"candidates": [d.voucher for d in matches[line.name].deposits],
			"labels": [d.label for d in matches[line.name].deposits],
		}
		for line in lines
		if matches[line.name].kind == AMBIGUOUS
	]


@frappe.whitelist(methods=["POST"])
def match_now(company: str) -> dict:
	"""Match the company's deposits now, as a run would (a Bank Transaction entered by hand, say)."""
	frappe.has_permission("Bank Transaction", "write", throw=True)
	_check_company(company)
	reconciled, suggested = match_company(company)
	return {"reconciled": reconciled, "suggestions": suggested}


@frappe.whitelist(methods=["POST"])
def accept_suggestion(bank_transaction: str, journal_entry: str) -> str:
	"""Reconcile a bank transaction with the payout or settlement a person chose among its suggestions."""
	frappe.has_permission("Bank Transaction", "write", doc=bank_transaction, throw=True)
	company = frappe.db.get_value("Bank Transaction", bank_transaction, "company")
	lines = bank_lines(company, [bank_transaction])
	deposits = [d for d in open_deposits(company) if d.voucher == journal_entry]
	match = plan(lines, deposits).get(bank_transaction)
	if not match or not match.deposits:
		frappe.throw(
			_("Journal Entry {0} is not a payout or settlement that Bank Transaction {1} may be").format(
				journal_entry, bank_transaction
			)
		)
	_reconcile(bank_transaction, journal_entry)
	return journal_entry
