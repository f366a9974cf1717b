from frappe.model.document import Document


class KraalSyncFixedRecord(Document):
	pass
