import frappe
from frappe.model.document import Document


class KraalQueuedRecord(Document):
	pass


def on_doctype_update():
	# Workers claim a stage's queued records through this index (engine/queued_records).
	frappe.db.add_index("Kraal Queued Record", ["integration", "status", "stage"])
