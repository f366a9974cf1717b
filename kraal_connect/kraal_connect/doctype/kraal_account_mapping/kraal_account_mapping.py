import frappe
from frappe import _
from frappe.model.document import Document

from kraal_connect.engine import failed_records
from kraal_connect.engine.runner import enqueue_retry

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
		self.company = frappe.db.get_value("Kraal Integration", self.integration, "company")
		self.validate_target_company()

	def validate_target_company(self):
		"""A target of another company would book the integration's records into that company's books.
		Records that belong to no company (a Customer, an Item, a Mode of Payment) may be shared."""
		if not (self.target_doctype and self.target_name):
			return
		if not frappe.get_meta(self.target_doctype).has_field("company"):
			return
		owner = frappe.db.get_value(self.target_doctype, self.target_name, "company")
		if owner and owner != self.company:
			frappe.throw(
				_("{0} {1} belongs to company {2}; {3} books into {4}: choose one of {4}'s").format(
					_(self.target_doctype), self.target_name, owner, self.integration, self.company
				),
				title=_("Another Company's Record"),
			)

	def on_update(self):
		"""A key filled in (or pointed elsewhere) books the records that failed waiting for it."""
		if not (self.target_name and self.has_value_changed("target_name")):
			return
		key = (self.key_type, self.external_key)
		if failed_records.open_failures(self.integration, mapping=key):
			enqueue_retry(self.integration, mapping=key)


def on_doctype_update():
	frappe.db.add_unique("Kraal Account Mapping", list(KEY_FIELDS), constraint_name="unique_mapping_key")
