from frappe.model.document import Document


class KraalPlatformStock(Document):
	"""Written by the engine only (engine/platform_stock): one row a platform level, its latest count."""
