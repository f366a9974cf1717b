"""Run one integration: lock, connector, engine, Sync Log, status. Enqueued by the scheduler, buttons
and webhooks."""

from collections.abc import Callable

import frappe
from frappe.utils import now_datetime

from kraal_connect.engine import pending
from kraal_connect.engine.errors import AuthenticationError
from kraal_connect.engine.locks import integration_lock
from kraal_connect.engine.registry import connector_class
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.site_store import SiteStore
from kraal_connect.engine.stats import RunStats, redact
from kraal_connect.engine.sync import apply_change, sync_streams
from kraal_connect.engine.sync_log import SyncLog, close_interrupted

RUNNABLE = ("Active", "Error")
WEBHOOK = "webhook"
# A webhook's records wait this long for a running sync of the same integration to finish.
WEBHOOK_LOCK_WAIT_SECONDS = 120


def run_integration(integration: str, trigger: str = "Scheduler") -> str | None:
	"""Sync one integration now; returns its Sync Log, or None when it is off or already running."""
	with integration_lock(integration) as acquired:
		if not acquired:
			return None
		doc = frappe.get_doc("Kraal Integration", integration)
		if not doc.enabled or doc.status not in RUNNABLE:
			return None
		close_interrupted(integration)
		return _run(doc, trigger, _sync_enabled_streams)


def run_webhook_records(integration: str, channel: str) -> str | None:
	"""Sync the records webhooks named (channel: the entity), each fetched fresh from the vendor.

	They go through the same writer and External Links as polling, so a record that arrives both
	ways is written once.
	"""
	with integration_lock(integration, wait=WEBHOOK_LOCK_WAIT_SECONDS) as acquired:
		keys = pending.waiting(WEBHOOK, integration, channel)
		if not acquired or not keys:
			return None
		doc = frappe.get_doc("Kraal Integration", integration)
		if not doc.enabled or doc.status not in RUNNABLE:
			return None

		def sync_named_records(connector, context, store, caller, stats):
			stream = next(s for s in connector.streams() if s.entity == channel)
			for external_id in keys:
				change = caller(connector.fetch_one, channel, external_id)
				if change is not None:
					apply_change(stream, change, store, context, stats)
			store.save(stats)
			pending.done(WEBHOOK, integration, channel, keys)

		return _run(doc, "Webhook", sync_named_records)


def queue_webhook_record(integration: str, entity: str, external_id: str) -> None:
	pending.add(WEBHOOK, integration, entity, external_id)
	pending.enqueue("kraal_connect.engine.runner.run_webhook_records", WEBHOOK, integration, entity)


def _sync_enabled_streams(connector, context, store, caller, stats) -> None:
	enabled = {row.entity for row in connector.integration.entities if row.enabled}
	streams = [s for s in connector.streams() if s.entity in enabled]
	sync_streams(streams, store, caller, context, stats, on_page=_progress(connector.integration, streams))


def _run(doc, trigger: str, work: Callable) -> str:
	secrets = doc.secrets()
	log = SyncLog(doc.name, trigger, secrets)
	doc.db_set("last_sync", now_datetime())
	frappe.db.commit()

	caller = ApiCaller()
	stats = RunStats()
	connector = connector_class(doc.vendor)(doc, caller)
	try:
		context = connector.prepare(stats)
		frappe.db.commit()
		work(connector, context, SiteStore(doc, log), caller, stats)
	except AuthenticationError as exc:
		frappe.db.rollback()
		log.reload()
		outcome = ("Failed", "Needs Re-authentication", redact(str(exc), secrets))
	except Exception as exc:
		frappe.db.rollback()
		log.reload()
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
