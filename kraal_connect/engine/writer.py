"""The one writer for every vendor: Kraal External Link decides insert, update, cancel or skip."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import frappe
from erpnext.accounts.utils import get_autoname_with_number
from frappe.utils import get_datetime, now_datetime

from kraal_connect.engine import decisions, run_cache, shared_masters
from kraal_connect.engine.compare import differences
from kraal_connect.engine.decisions import Decision, Written, decide
from kraal_connect.engine.errors import ConflictError, DependencyMissing, PageLost, caused_by
from kraal_connect.engine.protection_facts import document_lock_reasons
from kraal_connect.engine.records import Ref

LINK = "Kraal External Link"
# Re-exported: the vendors' pushes read these through the writer.
DELETED = decisions.DELETED
HOLD_FOR_REVIEW = decisions.HOLD_FOR_REVIEW
ERPNEXT_WINS = decisions.ERPNEXT_WINS


# A deadlock throws the whole transaction away; a lock wait timeout (another writer held a row, a
# naming series say, for too long) is no fault of the record either. Both are tried again from the
# page's cursor, never counted as a failed record that the cursor would leave behind.
DATABASE_BUSY = (frappe.QueryDeadlockError, frappe.QueryTimeoutError)


@contextmanager
def isolated() -> Iterator[None]:
	"""A savepoint around one record: on any error its partial writes are undone, others stay."""
	savepoint = "kraal_" + frappe.generate_hash(length=10)
	frappe.db.savepoint(savepoint)
	try:
		yield
	except BaseException as exc:
		busy = caused_by(exc, DATABASE_BUSY)
		if busy is None and frappe.flags.kraal_parallel:
			# Two workers of a run made the same thing at once (a customer of two orders, a naming
			# series' first row), or a record came before another of its stage that it names: it is
			# written again later, and finds it made.
			busy = caused_by(
				exc, (frappe.DuplicateEntryError, frappe.UniqueValidationError, frappe.db.IntegrityError)
			)
		if busy is not None:
			raise PageLost(f"database busy: {busy}") from exc
		frappe.db.rollback(save_point=savepoint)
		run_cache.forget()
		raise
	else:
		frappe.db.release_savepoint(savepoint)


def _races() -> tuple[type[BaseException], ...]:
	return (frappe.DuplicateEntryError, frappe.UniqueValidationError, frappe.db.IntegrityError)


LINK_FIELDS = (
	"name",
	"reference_doctype",
	"reference_name",
	"external_version",
	"local_modified",
	"last_synced",
	"matched",
)


def find_link(integration: str, external_type: str, external_id: str) -> dict | None:
	"""The link of one record; within a run read once (engine/run_cache): a customer or an item that
	many documents name costs one query a run, not one a document."""
	key = (integration, external_type, external_id)
	return run_cache.remembered(
		LINKS,
		key,
		lambda: frappe.db.get_value(
			LINK,
			{"integration": integration, "external_type": external_type, "external_id": external_id},
			list(LINK_FIELDS),
			as_dict=True,
		),
	)


LINKS = "links"


def linked_name(integration: str, external_type: str, external_id: str) -> str | None:
	link = find_link(integration, external_type, external_id)
	return link.reference_name if link else None


def booked_versions(integration: str, external_type: str, external_ids: list[str]) -> dict[str, str]:
	"""external id -> the version its document was last written at, for a page of records at once."""
	rows = frappe.get_all(
		LINK,
		filters={
			"integration": integration,
			"external_type": external_type,
			"external_id": ("in", external_ids),
		},
		fields=["external_id", "external_version"],
	)
	return {row.external_id: row.external_version for row in rows if row.external_version}


def upsert(
	integration: str,
	external_type: str,
	external_id: str,
	version: str,
	mapped: dict,
	conflict_rule: str | None = None,
) -> str:
	"""Write one mapped document; returns created, updated, cancelled or skipped.

	A mapped docstatus of 2 means the source cancelled it: the document is cancelled if one was
	written, and none is created. A change that a person's edit or what holds the document (a
	payment, a closed period) forbids raises ConflictError and leaves the document as it is.
	"""
	cancel = mapped.get("docstatus") == 2
	if not cancel:
		mapped = resolve_refs(integration, mapped)
	link = find_link(integration, external_type, external_id)
	if link is None and not cancel:
		mapped, existing = _existing_master(integration, mapped)
		if existing is not None:
			# A record the firm already keeps under this name (an Item with the SKU as its code, a
			# Supplier another company buys from) is matched, not duplicated, and not taken over.
			_add_link(
				integration, external_type, external_id, existing, "", matched=_matched(integration, existing)
			)
			link = find_link(integration, external_type, external_id)
	if link and link.matched and not cancel:
		mapped = shared_masters.owned_part(mapped, _tables(mapped["doctype"]), _company_keyed)
	written = LinkedDocument(link, None if cancel else mapped) if link else None
	decision = decide(
		version,
		written,
		cancel=cancel,
		conflict_rule=conflict_rule,
		lock_reasons=lambda: document_lock_reasons(written.doc),
		force=bool(frappe.flags.kraal_apply_source),
	)
	return _carry_out(decision, integration, external_type, external_id, version, written, mapped)


class LinkedDocument:
	"""The document a link points to, as decide() reads it (engine/decisions.Written): loaded and
	compared only when the decision gets that far, so an unchanged version costs one look-up."""

	def __init__(self, link, mapped: dict | None):
		self.link = link
		self.mapped = mapped

	@property
	def version(self) -> str:
		return self.link.external_version or ""

	@cached_property
	def doc(self):
		return frappe.get_doc(self.link.reference_doctype, self.link.reference_name)

	@property
	def docstatus(self) -> int:
		return self.doc.docstatus

	@cached_property
	def differences(self) -> tuple[str, ...]:
		if self.mapped is None:
			return ()
		return tuple(differences(self.doc.doctype, self.doc.as_dict(), self.mapped, _schema))

	@cached_property
	def changed_locally(self) -> bool:
		return _changed_since_sync(self.doc, self.link)


def _carry_out(decision: Decision, integration, external_type, external_id, version, written, mapped):
	action = decision.action
	current = written.doc if written and action != decisions.INSERT and action != decisions.SKIP else None
	if action in (decisions.CONFLICT, decisions.LOCKED):
		raise ConflictError(f"{current.doctype} {current.name}: {decision.reason}", holders=decision.holders)
	if action == decisions.SKIP:
		return "skipped"
	with writing_for(integration):
		if action == decisions.INSERT:
			_add_link(integration, external_type, external_id, _insert(mapped), version)
		elif action == decisions.CANCEL:
			_undo(current)
			_relink(written.link, current, version)
		elif action == decisions.RELINK:
			_relink(written.link, current, version)
		else:
			_relink(written.link, _update(current, mapped), version)
	return decisions.OUTCOME[action]


def _schema(doctype: str) -> dict[str, tuple[str, str]]:
	return {df.fieldname: (df.fieldtype, df.options or "") for df in frappe.get_meta(doctype).fields}


def ensure(integration: str, external_type: str, external_id: str, version: str, mapped: dict) -> str:
	"""Create the document when no record wrote it yet; never change it (its own stream does). One a
	person deleted since (the shipping Item a store's orders need) is created again."""
	link = find_link(integration, external_type, external_id)
	if link and frappe.db.exists(link.reference_doctype, link.reference_name):
		return "skipped"
	if link:
		frappe.db.delete(LINK, link.name)
		run_cache.drop(LINKS, (integration, external_type, external_id))
	mapped, existing = _existing_master(integration, resolve_refs(integration, mapped))
	if existing is not None:
		_add_link(
			integration,
			external_type,
			external_id,
			existing,
			version,
			matched=_matched(integration, existing),
		)
		return "skipped"
	with writing_for(integration):
		_add_link(integration, external_type, external_id, _insert(mapped), version)
	return "created"


def record_push(integration: str, external_type: str, external_id: str, doc, version: str) -> None:
	"""A document pushed to the vendor: link it to what the vendor made of it, at the version the
	vendor gave back, so that version coming back from the vendor is not written again."""
	link = find_link(integration, external_type, external_id)
	if link:
		_relink(link, doc, version)
	else:
		_add_link(integration, external_type, external_id, doc, version)


def _existing_master(integration: str, mapped: dict) -> tuple[dict, Any]:
	"""The record as it is to be written, and the existing document it is matched to, if any: by the
	integration's choice, a master of the same name is used, or the record gets a distinct name."""
	existing = _same_named(mapped)
	if existing is None or shared_masters.naming_value(mapped) is None:
		return mapped, existing
	choice = frappe.get_cached_value("Kraal Integration", integration, "existing_masters")
	if choice != shared_masters.SEPARATE_RECORDS:
		return mapped, existing
	separate = shared_masters.with_distinct_name(mapped, integration)
	return separate, _same_named(separate)


def _matched(integration: str, existing) -> bool:
	"""Whether an existing document is another's: not one this integration wrote for another record
	(an Item an Amazon order made before the catalog item that describes it)."""
	return not frappe.db.exists(
		LINK,
		{
			"integration": integration,
			"reference_doctype": existing.doctype,
			"reference_name": existing.name,
			"matched": 0,
		},
	)


def _same_named(mapped: dict):
	"""The existing document a mapped dict names: by its name, its doctype's naming field, or the
	fields a Customer, Supplier, Item or Item Price is known by."""
	doctype = mapped["doctype"]
	autoname = frappe.get_meta(doctype).autoname or ""
	name = (
		mapped.get("name")
		or (mapped.get(autoname[6:]) if autoname.startswith("field:") else None)
		or _named_by_controller(mapped)
	)
	if name and frappe.db.exists(doctype, name):
		return frappe.get_doc(doctype, name)
	key = None if name else shared_masters.natural_key(mapped)
	if key:
		found = frappe.get_all(doctype, filters=key, pluck="name", order_by="creation", limit=1)
		if found:
			return frappe.get_doc(doctype, found[0])
	return None


def _named_by_controller(mapped: dict) -> str | None:
	"""The name ERPNext's controller gives a ledger account ("1010 - Checking - KQC"): one a person or
	an earlier migration made under that name is the same account, not a duplicate to fail on."""
	if mapped["doctype"] == "Account" and mapped.get("account_name") and mapped.get("company"):
		return get_autoname_with_number(
			mapped.get("account_number"), mapped["account_name"], mapped["company"]
		)
	return None


def _tables(doctype: str) -> dict[str, str]:
	return {df.fieldname: df.options for df in frappe.get_meta(doctype).get_table_fields()}


def _company_keyed(child_doctype: str) -> bool:
	return frappe.get_meta(child_doctype).has_field("company")


def _add_link(
	integration: str, external_type: str, external_id: str, doc, version: str, matched: bool = False
) -> None:
	"""One row, in the transaction of the document it names. Not a full Document insert: the engine
	wrote the values (no links to validate, a query each), nobody else hooks the engine's own rows, and
	its controller's before_insert (what the record is and where it lives at the vendor) still runs."""
	link = frappe.new_doc(LINK)
	link.update(
		{
			"integration": integration,
			"external_type": external_type,
			"external_id": external_id,
			"reference_doctype": doc.doctype,
			"reference_name": doc.name,
			"external_version": version,
			"last_synced": now_datetime(),
			"local_modified": doc.modified,
			"matched": int(matched),
		}
	)
	link.run_method("before_insert")
	link.db_insert()
	links = run_cache.table(LINKS)
	if links is not None:
		links[(integration, external_type, external_id)] = frappe._dict(
			{field: link.get(field) for field in LINK_FIELDS}
		)


def remove(integration: str, entity: str, external_id: str) -> str:
	"""The source deleted a record: undo each document it wrote, the last written first.

	Submitted documents are cancelled, drafts deleted, masters disabled; a document something holds
	(a payment, a reconciliation, a closed period) is kept and the removal raised as a ConflictError.
	"""
	links = frappe.get_all(
		LINK,
		filters={
			"integration": integration,
			"external_id": external_id,
			"external_type": ("like", f"{entity}%"),
			"external_version": ("!=", DELETED),
		},
		fields=[
			"name",
			"external_type",
			"reference_doctype",
			"reference_name",
			"external_version",
			"matched",
		],
		order_by="creation desc",
	)
	links = [ln for ln in links if ln.external_type == entity or ln.external_type.startswith(f"{entity}:")]
	for link in links:
		current = frappe.get_doc(link.reference_doctype, link.reference_name)
		if link.matched:
			# A master the integration matched is not its own (another store sells the Item): the
			# record's going only ends the link.
			_relink(link, current, DELETED)
			run_cache.drop(LINKS, (integration, link.external_type, external_id))
			continue
		decision = decide(
			DELETED,
			Written(version=link.external_version, docstatus=current.docstatus),
			cancel=True,
			lock_reasons=lambda current=current: document_lock_reasons(current),
			force=bool(frappe.flags.kraal_apply_source),
		)
		if decision.action == decisions.LOCKED:
			raise ConflictError(
				f"{current.doctype} {current.name}: {decision.reason}", holders=decision.holders
			)
		if decision.action == decisions.CANCEL:
			with writing_for(integration):
				_undo(current)
		_relink(link, current, DELETED)
		run_cache.drop(LINKS, (integration, link.external_type, external_id))
	return "cancelled" if links else "skipped"


def _undo(current) -> None:
	_mark_inbound(current)
	if current.docstatus == 1:
		current.cancel()
	elif current.meta.is_submittable and current.docstatus == 0:
		frappe.delete_doc(current.doctype, current.name, ignore_permissions=True)
	elif current.meta.has_field("disabled"):
		current.db_set("disabled", 1)


def resolve_refs(integration: str, value: Any) -> Any:
	"""Every Ref in a mapped document replaced by the name of the document its record wrote."""
	if isinstance(value, Ref):
		name = linked_name(integration, value.external_type, value.external_id)
		if not name:
			raise DependencyMissing(
				f"needs {value.external_type} {value.external_id}, which has not been synced"
			)
		return name
	if isinstance(value, dict):
		return {k: resolve_refs(integration, v) for k, v in value.items()}
	if isinstance(value, list):
		return [resolve_refs(integration, v) for v in value]
	return value


def _insert(mapped: dict):
	submit = mapped.get("docstatus") == 1
	doc = frappe.get_doc({**mapped, "docstatus": 0})
	_mark_inbound(doc)
	doc.insert()
	if submit:
		doc.submit()
	return doc


def _update(current, mapped: dict):
	"""A draft or master is saved in place; a submitted or cancelled document is amended."""
	fields = {k: v for k, v in mapped.items() if k not in ("doctype", "docstatus", "name")}
	_mark_inbound(current)
	if current.docstatus == 0:
		current.update(_merge_tables(current, fields))
		current.save()
		return current
	if current.docstatus == 1:
		current.cancel()
	amended = frappe.copy_doc(current)
	amended.amended_from = current.name
	amended.update(fields)
	amended.docstatus = 0
	_mark_inbound(amended)
	amended.insert()
	if mapped.get("docstatus") == 1:
		amended.submit()
	return amended


def _merge_tables(current, fields: dict) -> dict:
	"""The fields with each child table merged into the document's rows (engine/shared_masters): a
	table already holding the rows is left out, other companies' rows are kept as they are."""
	merged = dict(fields)
	tables = _tables(current.doctype)
	for fieldname, new_rows in fields.items():
		child = tables.get(fieldname)
		if not child or not isinstance(new_rows, list):
			continue
		rows = current.get(fieldname)
		plan = shared_masters.merged_rows(
			[row.as_dict() for row in rows],
			new_rows,
			_company_keyed(child),
			lambda row, new, child=child: not differences(child, row, new, _schema),
		)
		if plan is None:
			del merged[fieldname]
		else:
			for entry in plan:
				if isinstance(entry, int):
					rows[entry].idx = None  # numbered again in the merged table's order
			merged[fieldname] = [rows[entry] if isinstance(entry, int) else entry for entry in plan]
	return merged


def _mark_inbound(doc) -> None:
	"""Written by the engine for the vendor: no permission check, and never pushed back to it."""
	doc.flags.ignore_permissions = True
	doc.flags.kraal_inbound = True


def _relink(link: dict, doc, version: str) -> None:
	"""The link points at doc at this version; the dict (the run's cached one, when it is) says so too."""
	values = {
		"reference_name": doc.name,
		"external_version": version,
		"last_synced": now_datetime(),
		"local_modified": doc.modified,
	}
	frappe.db.set_value(LINK, link.name, values, update_modified=False)
	link.update(values)


@contextmanager
def writing_for(integration: str) -> Iterator[None]:
	"""Documents written here are the integration's: what ERPNext writes with them (stock and ledger
	rows) is not sent back to its vendor (engine/outbound)."""
	before = frappe.flags.kraal_writing_for
	frappe.flags.kraal_writing_for = integration
	try:
		yield
	finally:
		frappe.flags.kraal_writing_for = before


def _changed_since_sync(current, link) -> bool:
	"""A person saved, amended or cancelled the document after the engine last wrote it.

	ERPNext's own bookkeeping (a payment setting an invoice's outstanding amount, a delivery the
	order's per cent delivered) bumps `modified` without a Version; a person's save leaves one. So
	documents that track changes are asked their Versions, the others their modified time.
	"""
	if not link.local_modified:
		return False
	if current.meta.track_changes:
		return bool(
			frappe.db.exists(
				"Version",
				{
					"ref_doctype": current.doctype,
					"docname": current.name,
					"creation": (">", link.last_synced or link.local_modified),
				},
			)
		)
	return get_datetime(current.modified) > get_datetime(link.local_modified)
