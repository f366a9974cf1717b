"""ERPNext -> vendor: documents people change wait under a key, and one job per channel pushes them.

Documents the engine itself wrote carry flags.kraal_inbound and are never sent back (no echo); what a
push writes at the vendor comes back with the version the push stored, and is skipped (no echo the
other way).
"""

import frappe

from kraal_connect.engine import pending, run_cache
from kraal_connect.engine.locks import integration_lock
from kraal_connect.engine.redaction import redact
from kraal_connect.engine.registry import connector_class
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.runner import RUNNABLE
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.sync_log import SyncLog


def document_changed(doc, method: str | None = None) -> None:
	"""doc_events hook: queue the document for every integration that sends its changes.

	What ERPNext writes along with a document the engine writes for an integration (its Stock Ledger
	Entries) came from that integration's vendor, and is not sent back to it; the integrations that send
	are read once a run, not once a stock row.
	"""
	if doc.flags.kraal_inbound or frappe.flags.in_install or frappe.flags.in_migrate:
		return
	writing_for = frappe.flags.kraal_writing_for
	for integration in _senders(doc.doctype):
		if integration.name == writing_for:
			continue
		connector = connector_class(integration.vendor)(
			frappe.get_cached_doc("Kraal Integration", integration.name)
		)
		waiting_under = connector.push_key(doc, method)
		if waiting_under:
			queue_push(integration.name, *waiting_under)


def _senders(doctype: str) -> list:
	"""The integrations that may send changes of this doctype; read once a run while a run writes."""
	if frappe.flags.kraal_writing_for:
		everyone = run_cache.remembered(SENDERS, None, _runnable_integrations)
	else:
		everyone = _runnable_integrations()
	return [i for i in everyone if doctype in connector_class(i.vendor).pushes]


def _runnable_integrations() -> list:
	return frappe.get_all(
		"Kraal Integration", filters={"enabled": 1, "status": ("in", RUNNABLE)}, fields=["name", "vendor"]
	)


SENDERS = "senders"
PUSH = "push"


def queue_push(integration: str, channel: str, key: str) -> None:
	"""Queued once the change is committed: a change rolled back never reaches the vendor, and the
	push job never reads the document before its change is visible."""

	def add() -> None:
		pending.add(PUSH, integration, channel, key)
		pending.enqueue("kraal_connect.engine.outbound.push_pending", PUSH, integration, channel)

	frappe.db.after_commit.add(add)


def push_pending(integration: str, channel: str) -> str | None:
	"""Push what waits on a channel; returns the Sync Log, or None when a sync holds the integration.

	Keys are taken off the queue only once pushed (or failed and logged), so a crash loses nothing; the
	15-minute cron picks up whatever still waits.
	"""
	with integration_lock(integration) as acquired:
		if not acquired:
			return None
		keys = pending.waiting(PUSH, integration, channel)
		if not keys:
			return None
		doc = frappe.get_doc("Kraal Integration", integration)
		if not doc.enabled or doc.status not in RUNNABLE:
			# Keys wait (re-authentication, disconnected); the cron sends them once it runs again.
			return None
		secrets = doc.secrets()
		log = SyncLog(integration, "ERPNext Change", secrets)
		caller = ApiCaller()
		stats = RunStats()
		try:
			connector_class(doc.vendor)(doc, caller).push(channel, keys, stats)
		except Exception as exc:
			frappe.db.rollback()
			frappe.log_error(
				title=f"Kraal push of {integration} failed", message=redact(frappe.get_traceback(), secrets)
			)
			stats.api_calls = caller.calls
			log.save(stats, "Failed", message=redact(f"{type(exc).__name__}: {exc}", secrets))
			frappe.db.commit()
			return log.doc.name
		pending.done(PUSH, integration, channel, keys)
		stats.api_calls = caller.calls
		log.save(stats, stats.status)
		frappe.db.commit()
		return log.doc.name


def enqueue_waiting_pushes() -> None:
	"""Cron: pushes whose job was lost (worker restarted, integration busy) go out again."""
	for integration in frappe.get_all(
		"Kraal Integration", filters={"enabled": 1, "status": ("in", RUNNABLE)}, fields=["name", "vendor"]
	):
		for channel in connector_class(integration.vendor).push_channels:
			if pending.waiting(PUSH, integration.name, channel):
				pending.enqueue("kraal_connect.engine.outbound.push_pending", PUSH, integration.name, channel)
