"""A Store kept in dicts, to drive the engine without a site. It mirrors the writer's decisions."""

import copy

from kraal_connect.engine.errors import ConflictError
from kraal_connect.engine.records import Change, Stream, Target, external_type
from kraal_connect.engine.stats import RunStats, combined_outcome


class MemoryStore:
	def __init__(self):
		self.cursors: dict[str, str | None] = {}
		self.docs: dict[tuple[str, str], dict] = {}
		self.versions: dict[tuple[str, str], str] = {}
		self.checkpoints: list[tuple[str, str | None]] = []
		self.inserts = 0
		self._committed = ({}, {}, 0)

	def cursor(self, entity):
		return self.cursors.get(entity)

	def write(self, stream: Stream, change: Change, targets: list[Target]) -> str:
		return combined_outcome([self._write(stream, change, t) for t in targets])

	def _write(self, stream: Stream, change: Change, target: Target) -> str:
		doc = target.doc
		key = target.link or (external_type(stream.entity, target.key), change.external_id)
		if target.create_only and key in self.docs:
			return "skipped"
		if key not in self.docs:
			self.docs[key] = dict(doc)
			self.versions[key] = change.fingerprint
			self.inserts += 1
			return "created"
		if self.versions[key] == change.fingerprint:
			return "skipped"
		reason = stream.lock_reason(self.docs[key])
		if reason:
			raise ConflictError(reason)
		self.docs[key] = dict(doc)
		self.versions[key] = change.fingerprint
		return "updated"

	def remove(self, stream: Stream, change: Change) -> str:
		written = [
			doc
			for (kind, eid), doc in self.docs.items()
			if eid == change.external_id
			and (kind == stream.entity or kind.startswith(f"{stream.entity}:"))
			and doc.get("docstatus") != 2
		]
		for doc in written:
			doc["docstatus"] = 2
		return "cancelled" if written else "skipped"

	def checkpoint(self, entity, cursor, stats: RunStats):
		self.cursors[entity] = cursor
		self.checkpoints.append((entity, cursor))
		self._committed = copy.deepcopy((self.docs, self.versions, self.inserts))

	def rollback(self):
		self.docs, self.versions, self.inserts = copy.deepcopy(self._committed)

	def live(self, entity: str) -> dict[str, dict]:
		return {eid: d for (ent, eid), d in self.docs.items() if ent == entity and d.get("docstatus") != 2}
