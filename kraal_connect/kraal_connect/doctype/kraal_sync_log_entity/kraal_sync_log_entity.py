from frappe.model.document import Document


class KraalSyncLogEntity(Document):
	pass
