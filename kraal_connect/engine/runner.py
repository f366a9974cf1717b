"""Run one integration: lock, connector, engine, Sync Log, status. Enqueued by the scheduler, buttons
and webhooks."""

from collections.abc import Callable

import frappe
from frappe import _
from frappe.utils import now_datetime

from kraal_connect.engine import deposits, failed_records, health, parallel, pending, run_cache, sync_from
from kraal_connect.engine.errors import AuthenticationError, PageLost
from kraal_connect.engine.locks import integration_lock
from kraal_connect.engine.redaction import redact
from kraal_connect.engine.registry import connector_class
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.site_store import SiteStore
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.sync import apply_change, failure_message, sync_streams
from kraal_connect.engine.sync_log import SyncLog, close_interrupted

RUNNABLE = health.RUNNABLE
WEBHOOK = "webhook"
# Published to the integration's form when a run ends (kraal_integration.js reloads on it).
FINISHED_EVENT = "kraal_sync_finished"
# A webhook's records, and failed records a person asks to try again, wait this long for a running
# sync of the same integration to finish.
WEBHOOK_LOCK_WAIT_SECONDS = 120
# Failed records tried again between two commits.
RETRY_BATCH = 100


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


def retry_failures(
	integration: str,
	failures: list[str] | None = None,
	mapping: tuple[str, str] | None = None,
	apply_source: bool = False,
) -> str | None:
	"""Try open failed records again now: the named ones, those that waited for a mapping, or all.

	apply_source: write the source's version over what holds the document (a person's choice on a
	conflict); ERPNext's own validations still decide whether it can be done.
	"""
	with integration_lock(integration, wait=WEBHOOK_LOCK_WAIT_SECONDS) as acquired:
		if not acquired:
			return None
		doc = frappe.get_doc("Kraal Integration", integration)
		if not doc.enabled or doc.status not in RUNNABLE:
			return None
		if not failed_records.open_failures(integration, failures, mapping):
			return None  # booked or dismissed since it was asked for

		def retry(connector, context, store, caller, stats):
			streams = connector.enabled_streams()
			retry_open_failures(connector, context, store, caller, stats, streams, failures, mapping)

		frappe.flags.kraal_apply_source = apply_source
		try:
			return _run(doc, "Retry", retry)
		finally:
			frappe.flags.kraal_apply_source = False


def enqueue_retry(integration: str, **kwargs) -> None:
	frappe.enqueue(
		"kraal_connect.engine.runner.retry_failures",
		queue="long",
		enqueue_after_commit=True,
		integration=integration,
		**kwargs,
	)


def retry_open_failures(connector, context, store, caller, stats, streams, names=None, mapping=None) -> None:
	"""Each open failed record of these streams' entities, masters first, read fresh from the vendor
	where it can return one record, else as it was received; a booked one is fixed by this run."""
	streams = {s.entity: s for s in streams}
	order = [e for e in connector.entities if e in streams]
	rows = [
		row
		for row in failed_records.open_failures(connector.integration.name, names, mapping)
		# Not twice in one run: a record the stream brought and failed just now waits for the next.
		if row.entity in streams and row.last_log != store.log.doc.name
	]
	rows.sort(key=lambda row: order.index(row.entity))
	for start in range(0, len(rows), RETRY_BATCH):
		before = stats.snapshot()
		try:
			for row in rows[start : start + RETRY_BATCH]:
				_retry_one(connector, context, store, caller, stats, streams[row.entity], row)
			store.save(stats)
		except PageLost:
			# The database lost the batch's work: what is left stays open for the next run.
			store.rollback()
			stats.restore(before)
			return


def _retry_one(connector, context, store, caller, stats, stream, row) -> None:
	stats.entity(row.entity).fetched += 1
	stored = failed_records.stored_change(row)
	if row.entity not in connector.fetches_one:
		change = stored
	else:
		try:
			change = caller(connector.fetch_one, row.entity, row.external_id)
		except AuthenticationError:
			raise
		except Exception as exc:
			stats.fail(row.entity, row.external_id, failure_message(exc), change=stored)
			return
	if change is None:
		failed_records.mark_gone(row.name, store.log.doc.name)
		stats.record(row.entity, "skipped")
		return
	apply_change(stream, change, store, context, stats)


def queue_webhook_record(integration: str, entity: str, external_id: str) -> None:
	pending.add(WEBHOOK, integration, entity, external_id)
	pending.enqueue("kraal_connect.engine.runner.run_webhook_records", WEBHOOK, integration, entity)


def enqueue_waiting_webhook_records() -> None:
	"""Cron: records webhooks named whose job was lost or failed (worker restarted, a run that died)
	are fetched again."""
	for integration in frappe.get_all(
		"Kraal Integration", filters={"enabled": 1, "status": ("in", RUNNABLE)}, fields=["name", "vendor"]
	):
		for entity in connector_class(integration.vendor).entities:
			if pending.waiting(WEBHOOK, integration.name, entity):
				pending.enqueue(
					"kraal_connect.engine.runner.run_webhook_records", WEBHOOK, integration.name, entity
				)


def _sync_enabled_streams(connector, context, store, caller, stats) -> None:
	"""Open failed records first, read fresh, so a record fixed at its cause books whatever the
	cursor says; then each stream from its cursor; then the open failed records the vendor cannot
	return one by one, from the record as received, after the stream, which may have brought a
	newer version of them (Plaid reports a corrected transaction as modified)."""
	streams = connector.enabled_streams()
	fetched = [s for s in streams if s.entity in connector.fetches_one]
	retry_open_failures(connector, context, store, caller, stats, fetched)
	on_page, on_written = _progress(connector.integration, streams), _written(connector.integration)
	if parallel.writes_in_parallel(connector):
		parallel.sync_streams_in_parallel(
			connector, context, store, caller, stats, streams, on_page, on_written
		)
	else:
		parallel.write_left_queued(connector, context, store, stats, streams, on_written)
		sync_streams(streams, store, caller, context, stats, on_page=on_page)
	retry_open_failures(connector, context, store, caller, stats, [s for s in streams if s not in fetched])
	stats.remarks += sync_from.remarks(connector, stats)


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
		with run_cache.scope():
			work(connector, context, SiteStore(doc, log), caller, stats)
		# A bank feed's new transactions, or new payouts and settlements: match the deposits.
		deposits.after_run(connector, stats)
	except AuthenticationError as exc:
		frappe.db.rollback()
		log.reload()
		outcome = ("Failed", "Needs Re-authentication", str(exc))
	except Exception as exc:
		frappe.db.rollback()
		log.reload()
		frappe.log_error(
			title=f"Kraal sync of {doc.name} failed", message=redact(frappe.get_traceback(), secrets)
		)
		outcome = ("Failed", "Error", f"{type(exc).__name__}: {exc}")
	else:
		if stats.status == "Failed":
			outcome = ("Failed", "Error", stats.failures[-1].message)
		else:
			outcome = (stats.status, "Active", "")
	stats.api_calls = caller.calls
	_add_missing_mappings(doc, connector, stats)
	log_status, status, reason = outcome
	_finish(doc, log, stats, log_status, status, redact(reason, secrets))
	return log.doc.name


def _finish(doc, log: SyncLog, stats: RunStats, log_status: str, status: str, reason: str) -> None:
	log.save(stats, log_status, message=reason or None)
	open_rows = failed_records.count_open_by_kind(doc.name)
	after = health.after_run(log_status, status, open_rows.get("Error", 0), open_rows.get("Conflict", 0))
	values = {"status": after.status, "status_reason": reason}
	if after.status == health.NEEDS_ATTENTION:
		values["status_reason"] = _attention_headline(after, stats)
	if after.clean:
		values["last_success"] = now_datetime()
	# Writing the status tells people of a new incident (the controller's on_change, engine/alerts).
	doc.db_set(values)
	# The form that started the run closes its progress and shows the new status and logs.
	frappe.publish_realtime(
		FINISHED_EVENT,
		{"integration": doc.name, "log": log.doc.name, "status": after.status, "progress": _title(doc)},
		doctype=doc.doctype,
		docname=doc.name,
		after_commit=True,
	)
	frappe.db.commit()


def _attention_headline(after: health.AfterRun, stats: RunStats) -> str:
	if not (after.open_errors or after.open_conflicts):
		# Nothing kept to try again (an entity that stopped after retries): its failure says why.
		last = stats.failures[-1].message if stats.failures else ""
		return _("The last sync did not finish: {0}").format(last) if last else ""
	parts = []
	if after.open_errors:
		parts.append(_("{0} failed record(s) wait to be booked").format(after.open_errors))
	if after.open_conflicts:
		parts.append(_("{0} conflict(s) wait for review").format(after.open_conflicts))
	return _("{0}: see Failed Records and Conflicts").format("; ".join(parts))


def _add_missing_mappings(doc, connector, stats: RunStats) -> None:
	"""An empty Kraal Account Mapping row for each key a record missed, for a person to fill in."""
	missed = {key for failure in stats.failures for key in failure.mappings}
	for key_type, key in sorted(missed):
		if key_type not in connector.mapping_targets:
			continue
		row = {"integration": doc.name, "key_type": key_type, "external_key": key}
		if not frappe.db.exists("Kraal Account Mapping", row):
			frappe.get_doc(
				{
					"doctype": "Kraal Account Mapping",
					**row,
					"target_doctype": connector.mapping_targets[key_type],
				}
			).insert(ignore_permissions=True)


def _title(doc) -> str:
	return _("Syncing {0}").format(doc.name)


def _progress(doc, streams):
	order = [s.entity for s in streams]

	def publish(entity: str, stats: RunStats) -> None:
		done = order.index(entity)
		counts = stats.counts[entity]
		frappe.publish_progress(
			percent=100 * (done + 0.5) / max(len(order), 1),
			title=_title(doc),
			doctype="Kraal Integration",
			docname=doc.name,
			description=f"{entity}: {counts.fetched} fetched, {counts.created} created",
		)

	return publish


def _written(doc):
	"""Progress of a run whose workers write what it queued."""

	def publish(done: int, total: int) -> None:
		frappe.publish_progress(
			percent=100 * done / max(total, 1),
			title=_title(doc),
			doctype="Kraal Integration",
			docname=doc.name,
			description=_("{0} of {1} records written").format(done, total),
		)

	return publish
