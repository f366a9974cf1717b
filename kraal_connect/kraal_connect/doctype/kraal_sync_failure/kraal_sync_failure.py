from frappe.model.document import Document


class KraalSyncFailure(Document):
	pass
