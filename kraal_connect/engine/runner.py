"""Run one integration: lock, connector, engine, Sync Log, status. Enqueued by the scheduler and buttons."""

import frappe
from frappe.utils import now_datetime

from kraal_connect.engine.errors import AuthenticationError
from kraal_connect.engine.locks import integration_lock
from kraal_connect.engine.registry import connector_class
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.site_store import SiteStore
from kraal_connect.engine.stats import RunStats, redact
from kraal_connect.engine.sync import sync_streams
from kraal_connect.engine.sync_log import SyncLog, close_interrupted

RUNNABLE = ("Active", "Error")


def run_integration(integration: str, trigger: str = "Scheduler") -> str | None:
	"""Sync one integration now; returns its Sync Log, or None when it is off or already running."""
	with integration_lock(integration) as acquired:
		if not acquired:
			return None
		doc = frappe.get_doc("Kraal Integration", integration)
		if not doc.enabled or doc.status not in RUNNABLE:
			return None
		close_interrupted(integration)
		return _run(doc, trigger)


def _run(doc, trigger: str) -> str:
	secrets = doc.secrets()
	log = SyncLog(doc.name, trigger, secrets)
	doc.db_set("last_sync", now_datetime())
	frappe.db.commit()

	caller = ApiCaller()
	stats = RunStats()
	connector = connector_class(doc.vendor)(doc, caller)
	enabled = {row.entity for row in doc.entities if row.enabled}
	try:
		context = connector.prepare(stats)
		frappe.db.commit()
		streams = [s for s in connector.streams() if s.entity in enabled]
		sync_streams(streams, SiteStore(doc, log), caller, context, stats, on_page=_progress(doc, streams))
	except AuthenticationError as exc:
		frappe.db.rollback()
		outcome = ("Failed", "Needs Re-authentication", redact(str(exc), secrets))
	except Exception as exc:
		frappe.db.rollback()
		frappe.log_error(
			title=f"Kraal sync of {doc.name} failed", message=redact(frappe.get_traceback(), secrets)
		)
		outcome = ("Failed", "Error", redact(f"{type(exc).__name__}: {exc}", secrets))
	else:
		if stats.status == "Failed":
			outcome = ("Failed", "Error", stats.failures[-1].message)
		else:
			outcome = (stats.status, "Active", "")
	stats.api_calls = caller.calls
	_add_missing_mappings(doc, connector, stats)
	_finish(doc, log, stats, *outcome)
	return log.doc.name


def _finish(doc, log: SyncLog, stats: RunStats, log_status: str, status: str, reason: str) -> None:
	log.save(stats, log_status, message=reason or None)
	values = {"status": status, "status_reason": reason}
	if log_status in ("Success", "Partial"):
		values["last_success"] = now_datetime()
	doc.db_set(values)
	frappe.db.commit()


def _add_missing_mappings(doc, connector, stats: RunStats) -> None:
	"""An empty Kraal Account Mapping row for each key a record missed, for a person to fill in."""
	for failure in stats.failures:
		if not failure.mapping or failure.mapping[0] not in connector.mapping_targets:
			continue
		key_type, key = failure.mapping
		row = {"integration": doc.name, "key_type": key_type, "external_key": key}
		if not frappe.db.exists("Kraal Account Mapping", row):
			frappe.get_doc(
				{
					"doctype": "Kraal Account Mapping",
					**row,
					"target_doctype": connector.mapping_targets[key_type],
				}
			).insert(ignore_permissions=True)


def _progress(doc, streams):
	order = [s.entity for s in streams]

	def publish(entity: str, stats: RunStats) -> None:
		done = order.index(entity)
		counts = stats.counts[entity]
		frappe.publish_progress(
			percent=100 * (done + 0.5) / max(len(order), 1),
			title=f"Syncing {doc.name}",
			doctype="Kraal Integration",
			docname=doc.name,
			description=f"{entity}: {counts.fetched} fetched, {counts.created} created",
		)

	return publish
