import frappe
from frappe.model.document import Document


class KraalFailedRecord(Document):
	pass


def on_doctype_update():
	# The engine looks a record's open failure up by these on every page it writes.
	frappe.db.add_index("Kraal Failed Record", ["integration", "status", "external_id"])
