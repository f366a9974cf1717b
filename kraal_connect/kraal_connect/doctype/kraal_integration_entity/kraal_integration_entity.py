from frappe.model.document import Document


class KraalIntegrationEntity(Document):
	pass
