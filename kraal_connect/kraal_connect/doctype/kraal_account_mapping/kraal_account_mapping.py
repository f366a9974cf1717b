import frappe
from frappe import _
from frappe.model.document import Document

KEY_FIELDS = ("integration", "key_type", "external_key")


class KraalAccountMapping(Document):
	def validate(self):
		duplicate = frappe.db.exists(
			"Kraal Account Mapping",
			{**{f: self.get(f) for f in KEY_FIELDS}, "name": ("!=", self.name)},
		)
		if duplicate:
			frappe.throw(
				_("{0} '{1}' of {2} is already mapped in {3}").format(
					self.key_type, self.external_key, self.integration, duplicate
				),
				frappe.UniqueValidationError,
			)


def on_doctype_update():
	frappe.db.add_unique("Kraal Account Mapping", list(KEY_FIELDS), constraint_name="unique_mapping_key")
