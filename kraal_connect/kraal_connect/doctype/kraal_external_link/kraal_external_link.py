import frappe
from frappe.model.document import Document


class KraalExternalLink(Document):
	pass


def on_doctype_update():
	frappe.db.add_unique(
		"Kraal External Link",
		["integration", "external_type", "external_id"],
		constraint_name="unique_external_record",
	)
	frappe.db.add_index("Kraal External Link", ["reference_doctype", "reference_name"])
