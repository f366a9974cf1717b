"""A Store kept in dicts, to drive the engine without a site. Its decisions are the site writer's:
both call engine.decisions.decide."""

import copy
from contextlib import contextmanager

from kraal_connect.engine import decisions
from kraal_connect.engine.compare import differences
from kraal_connect.engine.decisions import Written, decide
from kraal_connect.engine.errors import ConflictError
from kraal_connect.engine.records import Change, Stream, Target, external_type
from kraal_connect.engine.stats import RunStats, combined_outcome


def no_schema(doctype: str) -> dict:
	"""Field types are told from the values themselves."""
	return {}


class MemoryStore:
	def __init__(self):
		self.cursors: dict[str, str | None] = {}
		self.docs: dict[tuple[str, str], dict] = {}
		self.versions: dict[tuple[str, str], str] = {}
		# What holds a document (a payment, a closed period), as the site's lock facts would say.
		self.holds: dict[tuple[str, str], list[str]] = {}
		self.checkpoints: list[tuple[str, str | None]] = []
		self.inserts = 0
		self.writes = 0
		self._committed = ({}, {}, 0)

	def cursor(self, entity):
		return self.cursors.get(entity)

	@contextmanager
	def isolated(self):
		saved = copy.deepcopy((self.docs, self.versions, self.inserts))
		try:
			yield
		except BaseException:
			self.docs, self.versions, self.inserts = saved
			raise

	def write(self, stream: Stream, change: Change, targets: list[Target]) -> str:
		return combined_outcome([self._write(stream, change, t) for t in targets])

	def _write(self, stream: Stream, change: Change, target: Target) -> str:
		key = target.link or (external_type(stream.entity, target.key), change.external_id)
		if target.create_only and key in self.docs:
			return "skipped"
		written = None
		if key in self.docs:
			doc = self.docs[key]
			written = Written(
				self.versions[key],
				doc.get("docstatus", 0),
				tuple(differences("", doc, target.doc, no_schema)),
			)
		decision = decide(
			change.fingerprint,
			written,
			cancel=target.doc.get("docstatus") == 2,
			lock_reasons=lambda: self.holds.get(key, []),
		)
		if decision.action in (decisions.CONFLICT, decisions.LOCKED):
			raise ConflictError(decision.reason, decision.holders)
		if decision.action == decisions.SKIP:
			return "skipped"
		if decision.action == decisions.INSERT:
			self.inserts += 1
		if decision.action == decisions.CANCEL:
			self.docs[key]["docstatus"] = 2
		elif decision.action != decisions.RELINK:
			self.docs[key] = dict(target.doc)
			self.writes += 1
		self.versions[key] = change.fingerprint
		return decisions.OUTCOME[decision.action]

	def remove(self, stream: Stream, change: Change) -> str:
		written = [
			key
			for key, doc in self.docs.items()
			if key[1] == change.external_id
			and (key[0] == stream.entity or key[0].startswith(f"{stream.entity}:"))
			and doc.get("docstatus") != 2
		]
		for key in written:
			decision = decide(
				decisions.DELETED,
				Written(self.versions[key], self.docs[key].get("docstatus", 0)),
				cancel=True,
				lock_reasons=lambda key=key: self.holds.get(key, []),
			)
			if decision.action == decisions.LOCKED:
				raise ConflictError(decision.reason, decision.holders)
			self.docs[key]["docstatus"] = 2
		return "cancelled" if written else "skipped"

	def checkpoint(self, entity, cursor, stats: RunStats):
		self.cursors[entity] = cursor
		self.checkpoints.append((entity, cursor))
		self._committed = copy.deepcopy((self.docs, self.versions, self.inserts))

	def rollback(self):
		self.docs, self.versions, self.inserts = copy.deepcopy(self._committed)

	def live(self, entity: str) -> dict[str, dict]:
		return {eid: d for (ent, eid), d in self.docs.items() if ent == entity and d.get("docstatus") != 2}
