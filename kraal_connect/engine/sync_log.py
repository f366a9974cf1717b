import frappe
from frappe.utils import now_datetime, time_diff_in_seconds

from kraal_connect.engine.redaction import redact
from kraal_connect.engine.stats import RunStats

# A run with more failed records than this keeps the first ones; the counts still hold them all.
MAX_FAILURE_ROWS = 1000


class SyncLog:
	"""The Kraal Sync Log of one run, saved at every checkpoint so a killed run still tells its story."""

	def __init__(self, integration: str, trigger: str, secrets: list[str]):
		self.secrets = secrets
		self.doc = frappe.get_doc(
			{
				"doctype": "Kraal Sync Log",
				"integration": integration,
				"trigger": trigger,
				"status": "Running",
				"started": now_datetime(),
			}
		)
		self.doc.insert(ignore_permissions=True)

	@classmethod
	def existing(cls, name: str, secrets: list[str]) -> "SyncLog":
		"""A run's log as its helper workers see it: to name in what they write, never saved by them."""
		log = cls.__new__(cls)
		log.secrets, log.doc = secrets, frappe.get_doc("Kraal Sync Log", name)
		return log

	def reload(self) -> None:
		"""After a rollback: the log as last committed, so the next save does not clash with it."""
		self.doc.reload()

	def save(self, stats: RunStats, status: str = "Running", message: str | None = None) -> None:
		doc = self.doc
		doc.status = status
		doc.api_calls = stats.api_calls
		summary = stats.summary()
		if message:
			summary = f"{message}. {summary}"
		if len(stats.failures) > MAX_FAILURE_ROWS:
			summary += f". Only the first {MAX_FAILURE_ROWS} of {len(stats.failures)} failures are listed"
		doc.summary = redact(summary, self.secrets)
		doc.set("entities", [{"entity": name, **vars(counts)} for name, counts in stats.counts.items()])
		for failure in stats.failures[len(doc.failures) : MAX_FAILURE_ROWS]:
			doc.append(
				"failures",
				{
					"entity": failure.entity,
					"external_id": failure.external_id,
					"kind": failure.kind,
					"message": redact(failure.message, self.secrets),
				},
			)
		for entity, external_id, failed_record, first_seen in stats.fixed[len(doc.fixed) : MAX_FAILURE_ROWS]:
			doc.append(
				"fixed",
				{
					"entity": entity,
					"external_id": external_id,
					"failed_record": failed_record,
					"first_seen": first_seen,
				},
			)
		if status != "Running":
			doc.finished = now_datetime()
			doc.duration = time_diff_in_seconds(doc.finished, doc.started)
		doc.save(ignore_permissions=True)


def close_interrupted(integration: str) -> None:
	"""Logs left Running by a run that died (worker killed, machine restarted) are marked Failed."""
	for name in frappe.get_all(
		"Kraal Sync Log", filters={"integration": integration, "status": "Running"}, pluck="name"
	):
		frappe.db.set_value(
			"Kraal Sync Log",
			name,
			{
				"status": "Failed",
				"summary": "The run was interrupted; the next run resumed from its last saved page",
			},
		)
