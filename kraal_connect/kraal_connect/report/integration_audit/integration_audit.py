"""Which documents integrations wrote and which people wrote, side by side."""

import frappe
from frappe import _
from frappe.utils import add_days, getdate

AUDITED_DOCTYPES = (
	"Bank Transaction",
	"Sales Order",
	"Sales Invoice",
	"Delivery Note",
	"Purchase Invoice",
	"Payment Entry",
	"Journal Entry",
	"Stock Reconciliation",
	"Customer",
	"Supplier",
	"Item",
	"Account",
	"Bank Account",
)


def execute(filters=None):
	filters = frappe._dict(filters or {})
	rows = [row for doctype in _doctypes(filters) for row in _rows(doctype, filters)]
	if filters.source == "Integration":
		rows = [r for r in rows if r["integration"]]
	elif filters.source == "People":
		rows = [r for r in rows if not r["integration"]]
	rows.sort(key=lambda r: r["creation"], reverse=True)
	return _columns(), rows, None, None, _summary(rows)


def _doctypes(filters) -> tuple[str, ...]:
	return (filters.document_type,) if filters.document_type else AUDITED_DOCTYPES


def _rows(doctype: str, filters) -> list[dict]:
	meta = frappe.get_meta(doctype)
	conditions = {
		"creation": (
			"between",
			[getdate(filters.from_date), add_days(getdate(filters.to_date), 1)],
		)
	}
	if filters.company and meta.has_field("company"):
		conditions["company"] = filters.company
	documents = frappe.get_list(
		doctype, filters=conditions, fields=["name", "owner", "creation", "docstatus"], limit_page_length=0
	)
	if not documents:
		return []
	links = {
		link.reference_name: link
		for link in frappe.get_all(
			"Kraal External Link",
			filters={"reference_doctype": doctype, "reference_name": ("in", [d.name for d in documents])},
			fields=["reference_name", "integration", "external_type", "external_id"],
		)
	}
	return [
		{
			"document_type": doctype,
			"document": doc.name,
			"creation": doc.creation,
			"owner": doc.owner,
			"docstatus": ("Draft", "Submitted", "Cancelled")[doc.docstatus],
			"source": _("Integration") if doc.name in links else _("Person"),
			"integration": links[doc.name].integration if doc.name in links else None,
			"external_id": links[doc.name].external_id if doc.name in links else None,
		}
		for doc in documents
	]


def _columns() -> list[dict]:
	return [
		{
			"label": _("Document Type"),
			"fieldname": "document_type",
			"fieldtype": "Link",
			"options": "DocType",
			"width": 150,
		},
		{
			"label": _("Document"),
			"fieldname": "document",
			"fieldtype": "Dynamic Link",
			"options": "document_type",
			"width": 200,
		},
		{"label": _("Source"), "fieldname": "source", "fieldtype": "Data", "width": 100},
		{
			"label": _("Integration"),
			"fieldname": "integration",
			"fieldtype": "Link",
			"options": "Kraal Integration",
			"width": 180,
		},
		{"label": _("External ID"), "fieldname": "external_id", "fieldtype": "Data", "width": 180},
		{
			"label": _("Created By"),
			"fieldname": "owner",
			"fieldtype": "Link",
			"options": "User",
			"width": 160,
		},
		{"label": _("Created On"), "fieldname": "creation", "fieldtype": "Datetime", "width": 160},
		{"label": _("Status"), "fieldname": "docstatus", "fieldtype": "Data", "width": 90},
	]


def _summary(rows: list[dict]) -> list[dict]:
	by_integration = sum(1 for r in rows if r["integration"])
	return [
		{
			"label": _("Written by integrations"),
			"value": by_integration,
			"indicator": "blue",
			"datatype": "Int",
		},
		{
			"label": _("Written by people"),
			"value": len(rows) - by_integration,
			"indicator": "green",
			"datatype": "Int",
		},
	]
