"""Shopify payouts and Amazon settlements booked as deposits that no bank transaction holds yet, with
the bank transactions each is suggested for (engine/deposits.deposits_not_in_bank)."""

import frappe
from frappe import _

from kraal_connect.engine import deposits


def execute(filters=None):
	filters = frappe._dict(filters or {})
	rows = deposits.deposits_not_in_bank(filters.company)
	for row in rows:
		row["suggested_for"] = ", ".join(row["suggested_for"])
	return _columns(), rows


def _columns() -> list[dict]:
	return [
		{"label": _("Date"), "fieldname": "posting_date", "fieldtype": "Date", "width": 100},
		{"label": _("Payout or Settlement"), "fieldname": "source", "fieldtype": "Data", "width": 230},
		{
			"label": _("Journal Entry"),
			"fieldname": "journal_entry",
			"fieldtype": "Link",
			"options": "Journal Entry",
			"width": 170,
		},
		{
			"label": _("Amount"),
			"fieldname": "amount",
			"fieldtype": "Currency",
			"options": "currency",
			"width": 120,
		},
		{
			"label": _("Currency"),
			"fieldname": "currency",
			"fieldtype": "Link",
			"options": "Currency",
			"width": 80,
		},
		{
			"label": _("Bank Account"),
			"fieldname": "account",
			"fieldtype": "Link",
			"options": "Account",
			"width": 200,
		},
		{
			"label": _("Suggested For Bank Transactions"),
			"fieldname": "suggested_for",
			"fieldtype": "Data",
			"width": 260,
		},
		{
			"label": _("Company"),
			"fieldname": "company",
			"fieldtype": "Link",
			"options": "Company",
			"width": 160,
		},
	]
