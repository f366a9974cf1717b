from frappe.model.document import Document


class KraalSyncLog(Document):
	pass
