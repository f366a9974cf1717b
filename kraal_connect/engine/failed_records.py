"""Kraal Failed Record: each record that failed stays open until a later run books it or a person
dismisses it. Open failures are written with the page that failed them (in its transaction), so a
cursor never moves past a record that is not either booked or kept here."""

import frappe
from frappe.query_builder import Order
from frappe.utils import now_datetime

from kraal_connect.engine.records import Change, change_as_json, change_from_json
from kraal_connect.engine.stats import Failure

FAILED_RECORD = "Kraal Failed Record"
OPEN, FIXED, DISMISSED, GONE = "Open", "Fixed", "Dismissed", "Gone at Source"


def keep(integration: str, failures: list[Failure], log: str, redact) -> None:
	"""Open (or bring up to date) a failed record for each failure that has a record to try again."""
	for failure in failures:
		if failure.change is None or not failure.external_id:
			continue
		values = {
			"kind": failure.kind,
			"message": redact(failure.message),
			"mapping_type": failure.mapping[0] if failure.mapping else "",
			"mapping_key": failure.mapping[1] if failure.mapping else "",
			"waits_for": waits_for_text(failure.mappings),
			"last_seen": now_datetime(),
			"last_log": log,
			"record_version": failure.change.version or "",
			"record": change_as_json(failure.change),
		}
		name = _open_failure(integration, failure.entity, failure.external_id)
		if name:
			attempts, kind = frappe.db.get_value(FAILED_RECORD, name, ["attempts", "kind"])
			if kind == "Conflict" and frappe.flags.kraal_apply_source:
				# ERPNext refused the source's version: the conflict is still there to decide.
				values["kind"] = kind
			frappe.db.set_value(FAILED_RECORD, name, {**values, "attempts": (attempts or 0) + 1})
			continue
		frappe.get_doc(
			{
				"doctype": FAILED_RECORD,
				"integration": integration,
				"entity": failure.entity,
				"external_id": failure.external_id,
				"status": OPEN,
				"attempts": 1,
				"first_seen": values["last_seen"],
				"first_log": log,
				**values,
			}
		).insert(ignore_permissions=True)


def settle(integration: str, written: list[tuple[str, str]], log: str) -> list[tuple[str, str, str, object]]:
	"""The open failures of records these runs wrote are fixed by that run; returns them."""
	if not written:
		return []
	wanted = set(written)
	table = frappe.qb.DocType(FAILED_RECORD)
	rows = (
		frappe.qb.from_(table)
		.select(table.name, table.entity, table.external_id, table.first_seen)
		.where(
			_open(table, integration)
			& table.external_id.isin(sorted({external_id for _, external_id in written}))
		)
		.run(as_dict=True)
	)
	fixed = [r for r in rows if (r.entity, r.external_id) in wanted]
	for row in fixed:
		frappe.db.set_value(
			FAILED_RECORD, row.name, {"status": FIXED, "fixed_by": log, "fixed_on": now_datetime()}
		)
	return [(r.entity, r.external_id, r.name, r.first_seen) for r in fixed]


def failures_of_run(integration: str, log: str) -> list[Failure]:
	"""The failures a run's workers kept, as the run tells of them (their records are kept already)."""
	rows = frappe.get_all(
		FAILED_RECORD,
		filters={"integration": integration, "status": OPEN, "last_log": log},
		fields=["entity", "external_id", "message", "kind", "waits_for", "mapping_type", "mapping_key"],
		order_by="modified asc",
	)
	return [
		Failure(row.entity, row.external_id, row.message, row.kind, tuple(waits_for_keys(row)))
		for row in rows
	]


def fixed_by_run(integration: str, log: str) -> list[tuple[str, str, str, object]]:
	table = frappe.qb.DocType(FAILED_RECORD)
	rows = (
		frappe.qb.from_(table)
		.select(table.entity, table.external_id, table.name, table.first_seen)
		.where((table.integration == integration) & (table.status == FIXED) & (table.fixed_by == log))
		.run()
	)
	return [tuple(row) for row in rows]


def mark_gone(name: str, log: str) -> None:
	"""The vendor no longer has the record: there is nothing left to book."""
	frappe.db.set_value(FAILED_RECORD, name, {"status": GONE, "fixed_by": log, "fixed_on": now_datetime()})


def open_failures(integration: str, names: list[str] | None = None, mapping: tuple[str, str] | None = None):
	filters = {"integration": integration, "status": OPEN}
	if names is not None:
		filters["name"] = ("in", names or [""])
	rows = frappe.get_all(
		FAILED_RECORD,
		filters=filters,
		fields=[
			"name",
			"entity",
			"external_id",
			"record",
			"record_version",
			"last_log",
			"mapping_type",
			"mapping_key",
			"waits_for",
		],
		order_by="first_seen asc",
	)
	if mapping:
		# Any of the keys a record waits for; a record kept before waits_for was has only its first.
		rows = [row for row in rows if tuple(mapping) in waits_for_keys(row)]
	return rows


def waits_for_text(mappings) -> str:
	"""Every mapping a record waits for, a "key type: key" line each (the Failed Record shows them)."""
	return "\n".join(f"{key_type}: {key}" for key_type, key in mappings)


def waits_for_keys(row) -> list[tuple[str, str]]:
	keys = [tuple(line.split(": ", 1)) for line in (row.waits_for or "").splitlines() if ": " in line]
	return keys or ([(row.mapping_type, row.mapping_key)] if row.mapping_type else [])


def stored_change(row) -> Change | None:
	if not row.record:
		return None
	return change_from_json(row.external_id, row.record, row.record_version)


def count_open(integration: str) -> int:
	return frappe.db.count(FAILED_RECORD, {"integration": integration, "status": OPEN})


def count_open_by_kind(integration: str) -> dict[str, int]:
	"""Open failed records of an integration by kind: Error, Conflict."""
	rows = frappe.get_all(
		FAILED_RECORD,
		filters={"integration": integration, "status": OPEN},
		fields=["kind", "count(name) as count"],
		group_by="kind",
	)
	return {row.kind: row.count for row in rows}


# first_seen and last_seen are read through frappe.qb, not frappe.get_all: get_all drops from its
# fields any name that contains "_seen" (Frappe's optional `_seen` column) when the table has no
# `_seen` column, so it would return these rows without them.


def open_first_seen(integration: str) -> list:
	"""When each open failed record of an integration was first seen."""
	table = frappe.qb.DocType(FAILED_RECORD)
	return frappe.qb.from_(table).select(table.first_seen).where(_open(table, integration)).run(pluck=True)


def last_seen_open(integration: str, limit: int) -> list[dict]:
	"""The open failed records of an integration, the last seen first (the integration's form)."""
	table = frappe.qb.DocType(FAILED_RECORD)
	return (
		frappe.qb.from_(table)
		.select(
			table.name,
			table.entity,
			table.external_id,
			table.kind,
			table.message,
			table.attempts,
			table.first_seen,
			table.last_seen,
		)
		.where(_open(table, integration))
		.orderby(table.last_seen, order=Order.desc)
		.limit(limit)
		.run(as_dict=True)
	)


def _open(table, integration: str):
	return (table.integration == integration) & (table.status == OPEN)


def _open_failure(integration: str, entity: str, external_id: str) -> str | None:
	return frappe.db.get_value(
		FAILED_RECORD,
		{"integration": integration, "entity": entity, "external_id": external_id, "status": OPEN},
		"name",
	)
