"""Kraal Queued Record: a long run's records between reading them and writing them.

A run queues each page's records in the transaction that moves its cursor, so the cursor passes only
records that are durable here; workers then claim them one at a time (a row lock, SKIP LOCKED: a
worker that dies lets go of its record with its connection) and mark each written in the transaction
of its documents. What a run that died left queued is written by the next run before it reads on.
"""

import frappe
from frappe.utils import now_datetime

from kraal_connect.engine.records import Change, change_as_json, change_from_json
from kraal_connect.engine.stats import RunStats

QUEUED_RECORD = "Kraal Queued Record"
QUEUED, WRITTEN = "Queued", "Written"
FAILED = "failed"
# The stage of a queued record whose entity the run does not write (switched off since it was queued).
WAITING = -1
_TABLE = "`tabKraal Queued Record`"


def add(integration: str, log: str, stage: int, entity: str, changes: list[Change]) -> None:
	"""Queue a page's records; a record already waiting takes the newer version instead of a second row
	(two versions of one record must never be written by two workers at once)."""
	if not changes:
		return
	waiting = dict(
		frappe.db.sql(
			f"""select external_id, name from {_TABLE}
			where integration=%s and status=%s and entity=%s and external_id in %s""",
			(integration, QUEUED, entity, [c.external_id for c in changes]),
		)
	)
	now, rows = now_datetime(), []
	for change in changes:
		values = {"record_version": change.version or "", "record": change_as_json(change), "sync_log": log}
		if change.external_id in waiting:
			frappe.db.set_value(QUEUED_RECORD, waiting[change.external_id], values, update_modified=False)
			continue
		name = frappe.generate_hash(length=12)
		waiting[change.external_id] = name
		rows.append(
			{
				"name": name,
				"creation": now,
				"modified": now,
				"owner": "Administrator",
				"modified_by": "Administrator",
				"integration": integration,
				"entity": entity,
				"external_id": change.external_id,
				"stage": stage,
				"status": QUEUED,
				**values,
			}
		)
	if rows:
		fields = list(rows[0])
		frappe.db.bulk_insert(QUEUED_RECORD, fields, [[row[f] for f in fields] for row in rows])


def adopt(integration: str, log: str, stage_of: dict[str, int]) -> dict[str, int]:
	"""Records an earlier run queued and did not write become this run's, in this run's stages; returns
	how many, by entity. Rows a run that died wrote and did not count are let go of. A disabled entity's
	records wait for it to be enabled again."""
	frappe.db.sql(
		f"delete from {_TABLE} where integration=%s and status=%s and sync_log!=%s",
		(integration, WRITTEN, log),
	)
	frappe.db.sql(
		f"update {_TABLE} set stage=%s where integration=%s and status=%s", (WAITING, integration, QUEUED)
	)
	adopted = {}
	for entity, stage in stage_of.items():
		frappe.db.sql(
			f"update {_TABLE} set sync_log=%s, stage=%s where integration=%s and status=%s and entity=%s",
			(log, stage, integration, QUEUED, entity),
		)
		if number := frappe.db.count(
			QUEUED_RECORD, {"integration": integration, "status": QUEUED, "entity": entity}
		):
			adopted[entity] = number
	return adopted


def count(integration: str) -> int:
	"""Queued records of the entities this run writes."""
	return frappe.db.count(QUEUED_RECORD, {"integration": integration, "status": QUEUED, "stage": (">=", 0)})


def claim(integration: str, stage: int, passed_over: set[str]) -> dict | None:
	"""The stage's first queued record no worker holds, locked for this worker's transaction."""
	rows = frappe.db.sql(
		f"""select name, entity, external_id, record, record_version from {_TABLE}
		where integration=%s and status=%s and stage=%s {_not_in(passed_over)}
		order by creation, name limit 1 for update skip locked""",
		(integration, QUEUED, stage, *sorted(passed_over)),
		as_dict=True,
	)
	return rows[0] if rows else None


def stage_state(integration: str, stage: int, given_up: set[str]) -> tuple[int, int, int]:
	"""(queued, free, free and given up) of a stage, as committed now; holds no lock after it."""
	frappe.db.commit()
	queued = frappe.db.count(QUEUED_RECORD, {"integration": integration, "status": QUEUED, "stage": stage})
	free = frappe.db.sql(
		f"""select name from {_TABLE} where integration=%s and status=%s and stage=%s
		for update skip locked""",
		(integration, QUEUED, stage),
		pluck=True,
	)
	frappe.db.rollback()
	return queued, len(free), len(given_up.intersection(free))


def free_records(integration: str, stage: int) -> list[str]:
	return frappe.db.sql(
		f"""select name from {_TABLE} where integration=%s and status=%s and stage=%s
		order by creation, name""",
		(integration, QUEUED, stage),
		pluck=True,
	)


def lock(name: str) -> dict | None:
	"""One queued record, locked; None when another worker wrote it meanwhile."""
	rows = frappe.db.sql(
		f"""select name, entity, external_id, record, record_version from {_TABLE}
		where name=%s and status=%s for update""",
		(name, QUEUED),
		as_dict=True,
	)
	return rows[0] if rows else None


def change(row) -> Change:
	return change_from_json(row.external_id, row.record, row.record_version)


def written(name: str, outcome: str, fixed: bool, notes: list[str]) -> None:
	frappe.db.set_value(
		QUEUED_RECORD,
		name,
		{"status": WRITTEN, "outcome": outcome, "fixed": int(fixed), "notes": "\n".join(notes)},
		update_modified=False,
	)


def tally(log: str, stats: RunStats) -> None:
	"""The run's records written since the last tally into its counts (their failures and fixed records
	are read back from their Kraal Failed Records by the caller), then let go of: exactly those, while
	its workers go on writing."""
	rows = frappe.db.sql(
		f"select name, entity, outcome, notes from {_TABLE} where sync_log=%s and status=%s",
		(log, WRITTEN),
		as_dict=True,
	)
	for row in rows:
		counts = stats.entity(row.entity)
		setattr(counts, row.outcome, getattr(counts, row.outcome) + 1)
		stats.notes += [note for note in (row.notes or "").splitlines() if note]
	if rows:
		frappe.db.delete(QUEUED_RECORD, {"name": ("in", [row.name for row in rows])})


def _not_in(names: set[str]) -> str:
	return f"and name not in ({', '.join(['%s'] * len(names))})" if names else ""
