"""The engine's Store on a site: documents through the writer, cursors on the integration."""

import frappe
from frappe.utils import now_datetime

from kraal_connect.engine import writer
from kraal_connect.engine.errors import PageLost
from kraal_connect.engine.records import Change, Stream, Target, external_type
from kraal_connect.engine.stats import RunStats, combined_outcome
from kraal_connect.engine.sync_log import SyncLog


class SiteStore:
	def __init__(self, integration, log: SyncLog):
		self.integration = integration
		self.log = log

	def cursor(self, entity: str) -> str | None:
		return self.integration.entity_row(entity).cursor or None

	def write(self, stream: Stream, change: Change, targets: list[Target]) -> str:
		with writer.isolated():
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
			stream.lock_reason,
			self.integration.get("conflict_rule"),
		)

	def remove(self, stream: Stream, change: Change) -> str:
		with writer.isolated():
			return writer.remove(self.integration.name, stream.entity, change.external_id, stream.lock_reason)

	def checkpoint(self, entity: str, cursor: str | None, stats: RunStats) -> None:
		try:
			row = self.integration.entity_row(entity)
			row.cursor, row.last_synced = cursor, now_datetime()
			row.db_update()
			self.save(stats)
		except writer.DATABASE_BUSY as exc:
			raise PageLost(f"database busy: {exc}") from exc

	def save(self, stats: RunStats) -> None:
		"""Commit what was written with the counts that tell of it."""
		self.log.save(stats)
		frappe.db.commit()

	def rollback(self) -> None:
		frappe.db.rollback()
		self.log.reload()
		self.integration.reload()
