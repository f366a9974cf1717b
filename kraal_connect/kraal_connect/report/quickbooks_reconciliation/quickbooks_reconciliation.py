"""ERPNext's books against QuickBooks' as of a date: the trial balance account by account in the table;
under it, what is left to do: each differing account with the transactions that make it differ, each
item whose stock differs, each stock repost ERPNext could not run and each record that failed to come
over, with what to do about it."""

import frappe
from frappe import _

from kraal_connect.connectors.qbo.reconciliation import COMPLETE, Reconciliation, reconcile_books


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
	return _columns(), rows, to_do(result), None, _summary(result)


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


def _summary(result: Reconciliation) -> list[dict]:
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
		{
			"label": _("Differing Items"),
			"value": len(result.stock_differences),
			"indicator": "Red" if result.stock_differences else "Green",
			"datatype": "Int",
		},
		{"label": _("Income and Expenses From"), "value": result.year_start, "datatype": "Date"},
	]


def to_do(result: Reconciliation) -> str | None:
	"""What keeps the migration from Complete, each part with what to do about it; nothing when Complete."""
	parts = [
		_accounts(result),
		_stock(result),
		_reposts(result.failed_reposts),
		_failed_records(result.failed),
	]
	parts = [part for part in parts if part]
	return "".join(parts) or None


def _e(value) -> str:
	return frappe.utils.escape_html(str(value if value is not None else ""))


def _link(doctype: str, name: str) -> str:
	return f"<a href='/app/{frappe.scrub(doctype).replace('_', '-')}/{_e(name)}'>{_e(name)}</a>"


def _money(value) -> str:
	return frappe.format_value(value, {"fieldtype": "Currency"})


def _table(headers: list[str], rows: list[list[str]]) -> str:
	head = "".join(f"<th>{h}</th>" for h in headers)
	body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
	return (
		"<table class='table table-bordered table-sm'>"
		f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
	)


def _accounts(result: Reconciliation) -> str:
	if not result.differences:
		return ""
	html = [
		f"<h5>{_('Accounts that differ')}</h5><p>"
		+ _(
			"Each account below is listed with the QuickBooks transactions and ERPNext documents whose "
			"amounts on it disagree. A transaction without an ERPNext document did not come over: see its "
			"failed record below, or run the integration. Where both exist, correct the record in "
			"QuickBooks or the account it is mapped to under Kraal Account Mapping, then run the "
			"integration: it reads the record again and updates the document. A document made in ERPNext "
			"has no QuickBooks transaction: record it in QuickBooks too, or cancel it."
		)
		+ "</p>"
	]
	for difference in result.differences:
		name = difference.erpnext_account or _("QuickBooks account {0}, mapped to no ERPNext account").format(
			", ".join(difference.qbo_account_ids)
		)
		html.append(
			f"<p><b>{_e(name)}</b>: {_('QuickBooks')} {_money(difference.qbo_balance)}, "
			f"{_('ERPNext')} {_money(difference.erpnext_balance)}</p>"
		)
		if difference not in result.documents:
			html.append(
				"<p>"
				+ _(
					"Retained earnings hold the profit of the years before {0}: run this report as of the "
					"last day of the year before to see the income and expense accounts that differ."
				).format(frappe.format_value(result.year_start, {"fieldtype": "Date"}))
				+ "</p>"
			)
			continue
		rows = [
			[
				_e(f"{row.entity} {row.qbo_id}" if row.entity else _("made in ERPNext")),
				_e(row.number),
				", ".join(_link(doctype, docname) for doctype, docname in row.documents) or _("none"),
				_money(row.qbo_amount),
				_money(row.erpnext_amount),
				_money(row.difference),
			]
			for row in result.documents[difference]
		]
		headers = [
			_("QuickBooks Transaction"),
			_("Number"),
			_("ERPNext Documents"),
			_("QuickBooks"),
			_("ERPNext"),
			_("Difference"),
		]
		html.append(_table(headers, rows))
	return "".join(html)


def _stock(result: Reconciliation) -> str:
	if not result.stock_differences:
		return ""
	rows = [
		[
			_link("Item", item.item_code) if item.item_code else _("none"),
			_e(item.name),
			_e(f"{item.qbo_qty.normalize():f}"),
			_e(f"{item.erpnext_qty.normalize():f}"),
			_money(item.qbo_value),
			_money(item.erpnext_value),
		]
		for item in result.stock_differences
	]
	headers = [
		_("Item"),
		_("QuickBooks Item"),
		_("QuickBooks Qty"),
		_("ERPNext Qty"),
		_("QuickBooks Value"),
		_("ERPNext Value"),
	]
	return (
		f"<h5>{_('Stock that differs')}</h5><p>"
		+ _(
			"Quantity on hand and its value per item, QuickBooks' at its FIFO cost. Open the item's Stock "
			"Ledger: the purchases and sales of each differing item come from the bills, invoices and "
			"credits listed there; a quantity that differs points to one that did not come over (see the "
			"failed records), a value alone to a cost that differs."
		)
		+ "</p>"
		+ _table(headers, rows)
	)


def _reposts(failed: list[dict]) -> str:
	if not failed:
		return ""
	rows = [
		[
			_link("Repost Item Valuation", row.name),
			_e(f"{row.voucher_type or ''} {row.voucher_no or row.item_code or ''}"),
		]
		for row in failed
	]
	return (
		f"<h5>{_('Stock reposts ERPNext could not run')}</h5><p>"
		+ _(
			"Stock values and cost of goods sold are not final until these run: open each, fix what its "
			"error names, and use Restart Reposting; this report runs it again."
		)
		+ "</p>"
		+ _table([_("Repost Item Valuation"), _("For")], rows)
	)


def _failed_records(failed: list[dict]) -> str:
	if not failed:
		return ""
	rows = [
		[
			_e(row.entity),
			_e(row.external_id),
			_e(row.message),
			_link("Kraal Failed Record", row.name),
			_link("Kraal Sync Log", row.sync_log),
		]
		for row in failed
	]
	return (
		f"<h5>{_('QuickBooks records that failed to come over')}</h5><p>"
		+ _(
			"Fix what each error names: fill in the Kraal Account Mapping it asks for, or correct the "
			"record in QuickBooks. Then use Retry now beside it on the integration's form, or run the "
			"integration: the record is read again and booked."
		)
		+ "</p>"
		+ _table([_("Entity"), _("QuickBooks Id"), _("Error"), _("Failed Record"), _("Sync Log")], rows)
	)
