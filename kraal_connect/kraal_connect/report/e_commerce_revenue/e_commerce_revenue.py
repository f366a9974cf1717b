"""Revenue by channel over a period, from ERPNext's own invoices and the payouts' and settlements' Journal
Entries (commerce/figures says what each figure is): gross sales, discounts, refunds, fees, adjustments
and net, in each store's or seller account's company currency."""

import frappe
from frappe import _

from kraal_connect.commerce import site

FIGURES = (
	("gross", _("Gross Sales"), "#5e64ff"),
	("discounts", _("Discounts"), "#ffa00a"),
	("refunds", _("Refunds"), "#ff5858"),
	("fees", _("Fees"), "#743ee2"),
	("net", _("Net"), "#29cd42"),
)


def execute(filters=None):
	filters = frappe._dict(filters or {})
	site.check_channel(filters.integration)
	from_date, to_date = site.period(filters, year_to_date=True)
	rows = []
	for channel in site.channels(filters.company, filters.integration):
		figures = site.revenue(channel, from_date, to_date)
		rows.append(
			{
				"integration": channel.name,
				"vendor": channel.vendor,
				"company": channel.company,
				"currency": frappe.get_cached_value("Company", channel.company, "default_currency"),
				**{
					key: float(value) if key != "orders" else value
					for key, value in figures.as_dict().items()
				},
			}
		)
	return _columns(), rows, None, _chart(rows), _summary(rows)


def _chart(rows: list[dict]) -> dict | None:
	if not rows:
		return None
	currencies = {r["currency"] for r in rows}
	return {
		"data": {
			"labels": [r["integration"] for r in rows],
			"datasets": [{"name": label, "values": [r[key] for r in rows]} for key, label, _c in FIGURES],
		},
		"type": "bar",
		"colors": [colour for _k, _l, colour in FIGURES],
		"barOptions": {"spaceRatio": 0.3},
		"fieldtype": "Currency",
		"options": currencies.pop() if len(currencies) == 1 else None,
	}


def _summary(rows: list[dict]) -> list[dict]:
	currencies = {r["currency"] for r in rows}
	if len(currencies) != 1:
		return []  # channels of companies in several currencies: no one total means anything
	currency = currencies.pop()
	indicators = {"gross": "blue", "discounts": "orange", "refunds": "red", "fees": "purple", "net": "green"}
	return [
		{
			"label": label,
			"value": sum(r[key] for r in rows),
			"indicator": indicators[key],
			"datatype": "Currency",
			"currency": currency,
		}
		for key, label, _c in FIGURES
	]


def _columns() -> list[dict]:
	money = {"fieldtype": "Currency", "options": "currency", "width": 120}
	return [
		{
			"label": _("Store or Seller Account"),
			"fieldname": "integration",
			"fieldtype": "Link",
			"options": "Kraal Integration",
			"width": 190,
		},
		{"label": _("Channel"), "fieldname": "vendor", "fieldtype": "Data", "width": 90},
		{"label": _("Orders Invoiced"), "fieldname": "orders", "fieldtype": "Int", "width": 120},
		{"label": _("Gross Sales"), "fieldname": "gross", **money},
		{"label": _("Discounts"), "fieldname": "discounts", **money},
		{"label": _("Refunds"), "fieldname": "refunds", **money},
		{"label": _("Fees"), "fieldname": "fees", **money},
		{"label": _("Adjustments"), "fieldname": "adjustments", **money},
		{"label": _("Net"), "fieldname": "net", **money},
		{
			"label": _("Currency"),
			"fieldname": "currency",
			"fieldtype": "Link",
			"options": "Currency",
			"width": 80,
		},
		{
			"label": _("Company"),
			"fieldname": "company",
			"fieldtype": "Link",
			"options": "Company",
			"width": 160,
		},
	]
