"""A Store kept in dicts, to drive the engine without a site. It mirrors the writer's decisions."""

from kraal_connect.engine.errors import ConflictError
from kraal_connect.engine.records import Change, Stream
from kraal_connect.engine.stats import RunStats


class MemoryStore:
	def __init__(self):
		self.cursors: dict[str, str | None] = {}
		self.docs: dict[tuple[str, str], dict] = {}
		self.versions: dict[tuple[str, str], str] = {}
		self.checkpoints: list[tuple[str, str | None]] = []
		self.inserts = 0

	def cursor(self, entity):
		return self.cursors.get(entity)

	def write(self, stream: Stream, change: Change, doc: dict) -> str:
		key = (stream.entity, change.external_id)
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
		key = (stream.entity, change.external_id)
		doc = self.docs.get(key)
		if doc is None or doc.get("docstatus") == 2:
			return "skipped"
		doc["docstatus"] = 2
		return "cancelled"

	def checkpoint(self, entity, cursor, stats: RunStats):
		self.cursors[entity] = cursor
		self.checkpoints.append((entity, cursor))

	def live(self, entity: str) -> dict[str, dict]:
		return {eid: d for (ent, eid), d in self.docs.items() if ent == entity and d.get("docstatus") != 2}
