"""The engine's Store on a site: documents through the writer, cursors on the integration, failed
records kept in the same transaction as the page that failed them."""

import frappe
from frappe.utils import now_datetime

from kraal_connect.engine import failed_records, run_cache, writer
from kraal_connect.engine.errors import PageLost
from kraal_connect.engine.records import Change, Stream, Target, external_type
from kraal_connect.engine.redaction import redact
from kraal_connect.engine.stats import RunStats, combined_outcome
from kraal_connect.engine.sync_log import SyncLog


class SiteStore:
	def __init__(self, integration, log: SyncLog):
		self.integration = integration
		self.log = log
		# How much of the run's failures and written records is committed already.
		self._kept = self._settled = 0

	def cursor(self, entity: str) -> str | None:
		return self.integration.entity_row(entity).cursor or None

	def isolated(self):
		return writer.isolated()

	def write(self, stream: Stream, change: Change, targets: list[Target]) -> str:
		return combined_outcome([self._write_target(stream, change, target) for target in targets])

	def _write_target(self, stream: Stream, change: Change, target: Target) -> str:
		kind, external_id = target.link or (external_type(stream.entity, target.key), change.external_id)
		if target.create_only:
			return writer.ensure(self.integration.name, kind, external_id, change.fingerprint, target.doc)
		return writer.upsert(
			self.integration.name,
			kind,
			external_id,
			change.fingerprint,
			target.doc,
			self.integration.get("conflict_rule"),
		)

	def remove(self, stream: Stream, change: Change) -> str:
		return writer.remove(self.integration.name, stream.entity, change.external_id)

	def checkpoint(self, entity: str, cursor: str | None, stats: RunStats) -> None:
		try:
			row = self.integration.entity_row(entity)
			row.cursor, row.last_synced = cursor, now_datetime()
			row.db_update()
			self.save(stats)
		except writer.DATABASE_BUSY as exc:
			raise PageLost(f"database busy: {exc}") from exc

	def save(self, stats: RunStats) -> None:
		"""Commit what was written with the failed records and the counts that tell of it."""
		name = self.log.doc.name
		failed_records.keep(
			self.integration.name,
			stats.failures[self._kept :],
			name,
			lambda text: redact(text, self.log.secrets),
		)
		stats.fixed += failed_records.settle(self.integration.name, stats.written[self._settled :], name)
		self.log.save(stats)
		frappe.db.commit()
		self._kept, self._settled = len(stats.failures), len(stats.written)

	def rollback(self) -> None:
		frappe.db.rollback()
		run_cache.forget()
		self.log.reload()
		self.integration.reload()
