"""ERPNext -> QuickBooks in the parallel run: documents people submit, change or cancel go to QBO in
batches, each with the SyncToken last seen, and are linked at the SyncToken QBO gives back, so CDC
reporting them again writes nothing (no echo).

Masters go first, then invoices and journals, then payments, so that each batch finds what it names
already in QBO; a party or item a document names that QBO does not have yet goes with the masters.
"""

from collections.abc import Iterable
from functools import cached_property
from typing import NamedTuple

import frappe

from kraal_connect.connectors.qbo import mapping
from kraal_connect.connectors.qbo.client import BATCH_LIMIT, StaleObjectError
from kraal_connect.connectors.qbo.integration import QUICKBOOKS_WINS, Lookup, account_map
from kraal_connect.connectors.qbo.mapping import QBO_ENTITIES, QboKey, QboPushContext
from kraal_connect.engine import writer
from kraal_connect.engine.errors import ConflictError, RecordError, SyncError
from kraal_connect.engine.stats import RunStats

LEVELS = (
	("Customer", "Supplier", "Item"),
	("Sales Invoice", "Purchase Invoice", "Journal Entry"),
	("Payment Entry",),
)
# QBO entity -> the External Link type its records are linked under (the stream's entity)
LINK_TYPES = {qbo_entity: entity for entity, qbo_entity in QBO_ENTITIES.items()}

DocKey = tuple[str, str]  # (doctype, name)


class Operation(NamedTuple):
	key: DocKey
	operation: str  # create, update or delete
	entity: str  # QBO's
	body: dict
	outcome: str  # what the Sync Log counts once QBO took it


class QboPusher:
	def __init__(self, connector, stats: RunStats):
		self.connector = connector
		self.integration = connector.integration
		self.api = connector.api
		self.caller = connector.caller
		self.stats = stats
		self.rule = self.integration.conflict_rule

	@cached_property
	def context(self) -> QboPushContext:
		return push_context(self.connector)

	def push(self, keys: Iterable[DocKey]) -> None:
		keys = list(dict.fromkeys(keys))
		keys += [k for k in self._missing_masters(keys) if k not in keys]
		for level in LEVELS:
			operations = []
			for key in (k for k in keys if k[0] in level):
				try:
					operation = self._operation(key)
				except SyncError as exc:
					self.stats.fail(key[0], key[1], str(exc))
					continue
				if operation is None:
					self.stats.record(key[0], "skipped")
				else:
					operations.append(operation)
			for start in range(0, len(operations), BATCH_LIMIT):
				self._send(operations[start : start + BATCH_LIMIT])

	def _missing_masters(self, keys: list[DocKey]) -> list[DocKey]:
		"""The customers, suppliers and items the documents name that QBO does not have yet."""
		needed = []
		for doctype, name in keys:
			if doctype in LEVELS[0] or not frappe.db.exists(doctype, name):
				continue
			doc = frappe.get_doc(doctype, name)
			needed += [("Customer", doc.get("customer")), ("Supplier", doc.get("supplier"))]
			needed += [("Item", row.item_code) for row in doc.get("items") or [] if row.get("item_code")]
			rows = [doc] if doctype == "Payment Entry" else doc.get("accounts") or []
			needed += [(row.party_type, row.party) for row in rows if row.get("party_type") in LEVELS[0]]
		return [key for key in dict.fromkeys(needed) if key[1] and key not in self.context.links]

	def _operation(self, key: DocKey) -> Operation | None:
		doctype, name = key
		if not frappe.db.exists(doctype, name):
			return None  # deleted before it was pushed
		doc = frappe.get_doc(doctype, name)
		link = self._link(doc)
		if doc.docstatus == 2:
			if not link or frappe.db.exists(doctype, {"amended_from": name, "docstatus": ("<", 2)}):
				return None  # never in QBO, or its amendment takes its place there
			body = {"Id": link.external_id, "SyncToken": link.external_version}
			return Operation(key, "delete", QBO_ENTITIES[link.external_type], body, "cancelled")
		if doc.meta.is_submittable and doc.docstatus == 0:
			return None
		push = mapping.to_qbo(doc.as_dict(), self.context)
		if not link:
			return Operation(key, "create", push.entity, push.body, "created")
		if LINK_TYPES[push.entity] != link.external_type:
			raise RecordError(
				f"{doctype} {name} came from QuickBooks {QBO_ENTITIES[link.external_type]} "
				f"{link.external_id}, which ERPNext cannot send back as a {push.entity}; change it in QuickBooks"
			)
		body = {**push.body, "Id": link.external_id, "SyncToken": link.external_version, "sparse": True}
		return Operation(key, "update", push.entity, body, "updated")

	def _link(self, doc) -> frappe._dict | None:
		"""The QBO object the document (or the one it amends) is linked with; links of documents
		deleted in QBO do not count."""
		for name in (doc.name, doc.get("amended_from")):
			link = name and frappe.db.get_value(
				writer.LINK,
				{
					"integration": self.integration.name,
					"reference_doctype": doc.doctype,
					"reference_name": name,
					"external_version": ("!=", writer.DELETED),
				},
				["external_type", "external_id", "external_version"],
				as_dict=True,
			)
			if link:
				return link
		return None

	def _send(self, operations: list[Operation]) -> None:
		"""One batch; what QBO took is linked and committed before the next batch goes out, so a run
		that dies later does not send it again as new."""
		items = [(str(i), op.operation, op.entity, op.body) for i, op in enumerate(operations)]
		# A stale SyncToken means QBO changed the object since the last sync: only when ERPNext wins
		# is it read again and sent on the new one.
		retry_stale = self.rule not in (writer.HOLD_FOR_REVIEW, QUICKBOOKS_WINS)
		results = self.caller(self.api.batch, items, retry_stale=retry_stale)
		for (bid, *_), op in zip(items, operations, strict=True):
			self._record(op, results[bid])
		frappe.db.commit()

	def _record(self, op: Operation, result) -> None:
		doctype, name = op.key
		if isinstance(result, StaleObjectError):
			if self.rule == QUICKBOOKS_WINS:
				self.stats.record(doctype, "skipped")  # QBO's version comes back through CDC
			else:
				self.stats.fail(
					doctype,
					name,
					f"{doctype} {name} changed in ERPNext and in QuickBooks since the last sync; held for review",
					kind="Conflict",
				)
			return
		if isinstance(result, ConflictError):
			self.stats.fail(doctype, name, str(result), kind="Conflict")
			return
		if isinstance(result, SyncError):
			self.stats.fail(doctype, name, f"{doctype} {name}: {result}")
			return
		doc = frappe.get_doc(doctype, name)
		qbo_id = str(result.get("Id") or op.body["Id"])
		version = writer.DELETED if op.operation == "delete" else str(result["SyncToken"])
		writer.record_push(self.integration.name, LINK_TYPES[op.entity], qbo_id, doc, version)
		self.stats.record(doctype, op.outcome)


def push_context(connector) -> QboPushContext:
	"""What the reverse mappers look up: links, accounts and tax codes read from the site, QBO's
	credit-card and inventory accounts from QBO."""
	doc = connector.integration
	company = frappe.get_cached_doc("Company", doc.company)
	qbo_accounts = connector.read_all("Account")
	qbo_ids = {}
	for qbo_id, account in sorted(account_map(doc.name).items(), key=lambda item: int(item[0])):
		qbo_ids.setdefault(account, qbo_id)
	tax_codes = {
		link.reference_name: link.external_id
		for link in frappe.get_all(
			writer.LINK,
			filters={"integration": doc.name, "external_type": f"{mapping.TAX_CODE}:sales"},
			fields=["reference_name", "external_id"],
		)
	}
	return QboPushContext(
		company=company.name,
		company_currency=company.default_currency,
		links=Lookup(lambda key: _linked_key(doc.name, *key)),
		qbo_accounts=qbo_ids,
		qbo_tax_codes=tax_codes,
		credit_card_accounts=frozenset(
			a["Id"] for a in qbo_accounts if a.get("AccountType") == "Credit Card"
		),
		default_income_account=company.default_income_account or "",
		default_expense_account=company.default_expense_account or "",
		inventory_asset_account_id=next(
			(a["Id"] for a in qbo_accounts if a.get("AccountSubType") == "Inventory"), ""
		),
	)


def _linked_key(integration: str, doctype: str, name: str) -> QboKey | None:
	"""The QBO object an ERPNext document is linked with as a whole (not as an address or payment
	written for another record)."""
	for link in frappe.get_all(
		writer.LINK,
		filters={
			"integration": integration,
			"reference_doctype": doctype,
			"reference_name": name,
			"external_version": ("!=", writer.DELETED),
		},
		fields=["external_type", "external_id"],
	):
		if link.external_type in QBO_ENTITIES:
			return QboKey(QBO_ENTITIES[link.external_type], link.external_id)
	return None
