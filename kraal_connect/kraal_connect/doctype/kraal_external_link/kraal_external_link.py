import frappe
from frappe.model.document import Document

from kraal_connect.engine.registry import connector_class
from kraal_connect.engine.sources import record_type_label


class KraalExternalLink(Document):
	def before_insert(self):
		self.update(describe(self, frappe.get_cached_doc("Kraal Integration", self.integration)))


def on_doctype_update():
	frappe.db.add_unique(
		"Kraal External Link",
		["integration", "external_type", "external_id"],
		constraint_name="unique_external_record",
	)
	frappe.db.add_index("Kraal External Link", ["reference_doctype", "reference_name"])


def describe(link, integration) -> dict:
	"""The link's record type in words and its page in the vendor's admin, as the connector knows them."""
	connector = connector_class(integration.vendor)
	return {
		"record_type": record_type_label(integration.vendor, link.external_type, connector.record_types),
		"source_url": connector.source_url(integration, link.external_type, link.external_id) or "",
	}


@frappe.whitelist()
def document_sources(doctype: str, name: str) -> list[dict]:
	"""Where a document came from, for its form: each integration that wrote it, the record's id there
	and its page in the vendor's admin. Read-only, for whoever may read the document itself."""
	frappe.has_permission(doctype, "read", name, throw=True)
	links = frappe.get_all(
		"Kraal External Link",
		filters={"reference_doctype": doctype, "reference_name": name},
		fields=["integration", "external_type", "external_id", "last_synced"],
		order_by="creation",
	)
	sources = []
	for link in links:
		integration = frappe.get_cached_doc("Kraal Integration", link.integration)
		connector = connector_class(integration.vendor)
		sources.append(
			{
				"integration": link.integration,
				"vendor": integration.vendor,
				"external_id": link.external_id,
				"last_synced": link.last_synced,
				"detail": connector.source_detail(integration, link.external_type, link.external_id),
				**describe(link, integration),
			}
		)
	return sources
