import frappe
from frappe.model.document import Document


class KraalQueuedRecord(Document):
	pass


def on_doctype_update():
	# Workers claim a stage's first queued record in this index's order (engine/queued_records.claim):
	# without `creation` in it, MariaDB sorts the stage's rows, and a locking read locks each row it
	# reads, so one worker's claim held the whole stage and the others found nothing free.
	frappe.db.add_index("Kraal Queued Record", ["integration", "status", "stage", "creation"])
