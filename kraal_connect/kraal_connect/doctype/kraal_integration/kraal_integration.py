import frappe
from frappe.model.document import Document

from kraal_connect.engine import alerts
from kraal_connect.engine.connector import check_api_base_url
from kraal_connect.engine.endpoints import EndpointNotAllowed
from kraal_connect.engine.registry import connector_class


class KraalIntegration(Document):
	def validate(self):
		try:
			check_api_base_url(connector_class(self.vendor), self.api_base_url)
		except EndpointNotAllowed as exc:
			frappe.throw(str(exc), title=frappe._("API Base URL"))
		self.add_missing_entities()
		if self.vendor == "Shopify" and self.access_token and not self.is_dummy_password(self.access_token):
			# A token pasted by hand (a custom app's) comes with no grant Shopify told of: Connect Shopify's
			# Granted Scopes were another token's.
			self.granted_scopes = ""
		for fieldname, value in connector_class(self.vendor).defaults.items():
			if not self.get(fieldname):
				self.set(fieldname, value)
		self.validate_default_warehouse()

	def before_insert(self):
		if (
			self.vendor == "Shopify"
			and not self.order_prefix
			and frappe.db.exists("Kraal Integration", {"vendor": "Shopify", "company": self.company})
		):
			# Every store numbers its orders from #1001: a second store's order references are told
			# apart from the first's (shown on the form before the first run, and the user's to change).
			self.order_prefix = f"{self.integration_name} "

	def validate_default_warehouse(self):
		"""Sales orders reserve stock in it: a warehouse of another company would move stock in that
		company's books."""
		if not self.default_warehouse:
			return
		company, is_group = frappe.db.get_value("Warehouse", self.default_warehouse, ["company", "is_group"])
		if (
			company != self.company
			and self.is_new()
			and self.default_warehouse == frappe.db.get_default("default_warehouse")
		):
			# Frappe fills a new document's default_warehouse from the site's global default (Stock
			# Settings), which belongs to one company: not a choice anybody made for this integration.
			self.default_warehouse = None
			return
		if company != self.company:
			frappe.throw(
				frappe._("Default Warehouse {0} belongs to company {1}; choose one of {2}'s").format(
					self.default_warehouse, company, self.company
				),
				title=frappe._("Default Warehouse"),
			)
		if is_group:
			frappe.throw(
				frappe._("Default Warehouse {0} is a group; choose a warehouse that holds stock").format(
					self.default_warehouse
				),
				title=frappe._("Default Warehouse"),
			)

	def on_change(self):
		# Every write of the status passes here, db_set included (a run's end, Test Connection, a
		# vendor's webhook, a connect flow): the one place that tells people of a new incident.
		alerts.review(self)

	def add_missing_entities(self):
		"""Every entity the vendor's connector can sync gets a row, switched on unless the connector
		leaves it for a person to turn on."""
		known = {row.entity for row in self.entities}
		connector = connector_class(self.vendor)
		for entity in connector.entities:
			if entity not in known:
				self.append(
					"entities", {"entity": entity, "enabled": int(entity not in connector.switched_off)}
				)

	def entity_row(self, entity: str):
		return next(row for row in self.entities if row.entity == entity)

	def secrets(self) -> list[str]:
		"""The decrypted Password fields: what must never reach a log."""
		return [
			self.get_password(df.fieldname, raise_exception=False) or ""
			for df in self.meta.get("fields", {"fieldtype": "Password"})
		]
