"""External Links written before they carried their record type in words and their vendor page."""

import frappe

from kraal_connect.kraal_connect.doctype.kraal_external_link.kraal_external_link import describe


def execute():
	for integration in frappe.get_all("Kraal Integration", pluck="name"):
		doc = frappe.get_doc("Kraal Integration", integration)
		for link in frappe.get_all(
			"Kraal External Link",
			filters={"integration": integration, "record_type": ("is", "not set")},
			fields=["name", "external_type", "external_id"],
		):
			frappe.db.set_value("Kraal External Link", link.name, describe(link, doc), update_modified=False)
