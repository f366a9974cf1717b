"""ERPNext's books against QuickBooks' TrialBalance, account by account, and the QBO records that
failed to come over."""

import frappe
from frappe import _

from kraal_connect.connectors.qbo.reconciliation import COMPLETE, reconcile_books


def execute(filters=None):
	filters = frappe._dict(filters or {})
	if not filters.integration:
		frappe.throw(_("Choose the QuickBooks integration to reconcile"))
	frappe.get_doc("Kraal Integration", filters.integration).check_permission("read")
	result = reconcile_books(filters.integration, filters.as_of_date)
	rows = [
		{
			"account": row.erpnext_account,
			"qbo_accounts": row.qbo_accounts,
			"qbo_balance": row.qbo_balance,
			"erpnext_balance": row.erpnext_balance,
			"difference": row.difference,
			"differs": bool(row.difference),
			"status": _("Differs") if row.difference else _("Matches"),
		}
		for row in result.balances
	]
	if filters.differing_only:
		rows = [r for r in rows if r["differs"]]
	return _columns(), rows, _failed_records_html(result.failed), None, _summary(result)


def _columns() -> list[dict]:
	return [
		{
			"label": _("ERPNext Account"),
			"fieldname": "account",
			"fieldtype": "Link",
			"options": "Account",
			"width": 280,
		},
		{"label": _("QuickBooks Account"), "fieldname": "qbo_accounts", "fieldtype": "Data", "width": 240},
		{"label": _("QuickBooks Balance"), "fieldname": "qbo_balance", "fieldtype": "Currency", "width": 150},
		{
			"label": _("ERPNext Balance"),
			"fieldname": "erpnext_balance",
			"fieldtype": "Currency",
			"width": 150,
		},
		{"label": _("Difference"), "fieldname": "difference", "fieldtype": "Currency", "width": 130},
		{"label": _("Status"), "fieldname": "status", "fieldtype": "Data", "width": 100},
	]


def _summary(result) -> list[dict]:
	return [
		{
			"label": _("Migration"),
			"value": _(result.status),
			"indicator": "Green" if result.status == COMPLETE else "Red",
			"datatype": "Data",
		},
		{
			"label": _("Differing Accounts"),
			"value": len(result.differences),
			"indicator": "Red" if result.differences else "Green",
			"datatype": "Int",
		},
		{
			"label": _("Failed Records"),
			"value": len(result.failed),
			"indicator": "Red" if result.failed else "Green",
			"datatype": "Int",
		},
		{"label": _("Income and Expenses From"), "value": result.year_start, "datatype": "Date"},
	]


def _failed_records_html(failed: list[dict]) -> str | None:
	"""Balances are in the table; the records that did not come over are listed under it."""
	if not failed:
		return None
	escape = frappe.utils.escape_html
	rows = "".join(
		f"<tr><td>{escape(row.entity)}</td><td>{escape(row.external_id)}</td>"
		f"<td>{escape(row.message)}</td>"
		f"<td><a href='/app/kraal-sync-log/{escape(row.sync_log)}'>{escape(row.sync_log)}</a></td></tr>"
		for row in failed
	)
	return (
		f"<p>{_('QuickBooks records that failed to come over')}</p>"
		"<table class='table table-bordered table-sm'><thead><tr>"
		f"<th>{_('Entity')}</th><th>{_('QuickBooks Id')}</th><th>{_('Error')}</th><th>{_('Sync Log')}</th>"
		f"</tr></thead><tbody>{rows}</tbody></table>"
	)
