import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def content_hash(record: Mapping[str, Any] | None) -> str:
	canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
	return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Change:
	"""One record as the vendor reports it: new or changed (record set) or gone (deleted)."""

	external_id: str
	record: Mapping[str, Any] | None = None
	deleted: bool = False
	# The vendor's own version (SyncToken, updated_at); without one, the record's content hash.
	version: str | None = None
	# The vendor's listing showed the record at the version the site already booked, so the stream did
	# not read the rest of it (Amazon's order items): nothing to map, nothing to write.
	unchanged: bool = False

	@property
	def fingerprint(self) -> str:
		return self.version or content_hash(self.record)


@dataclass(frozen=True)
class Page:
	changes: Sequence[Change]
	next_cursor: str | None
	has_more: bool = False


@dataclass(frozen=True)
class Ref:
	"""The name of the document written for another external record, filled in by the writer.

	Mappers cannot look names up; they refer to what they need (the customer of an invoice, the
	invoice a payment settles) by the external record it came from.
	"""

	external_type: str
	external_id: str


@dataclass(frozen=True)
class Target:
	"""One of several documents a record maps to (an order's Sales Order, Sales Invoice, payment …).

	key tells it apart from the record's other documents: its external type is "<entity>:<key>",
	or the entity alone for an empty key. Targets are written in order, in one savepoint.
	"""

	key: str
	doc: dict
	# Link it under another record instead (e.g. the Item of an order line under its catalog SKU)…
	link: tuple[str, str] | None = None
	# …and only create it when missing: that record's own stream keeps it up to date.
	create_only: bool = False
	# Values of the record ERPNext would refuse, kept elsewhere in the document: said in the Sync Log.
	notes: tuple[str, ...] = ()


def change_as_json(change: Change) -> str:
	"""A record as received, kept to be written later (queued, or failed and tried again)."""
	return json.dumps({"record": change.record, "deleted": change.deleted}, default=str, sort_keys=True)


def change_from_json(external_id: str, text: str, version: str | None) -> Change:
	data = json.loads(text)
	return Change(external_id, data.get("record"), bool(data.get("deleted")), version or None)


Mapped = dict | list[Target] | None


def as_targets(mapped: Mapped) -> list[Target]:
	if mapped is None:
		return []
	if isinstance(mapped, dict):
		return [Target("", mapped)]
	return list(mapped)


def external_type(entity: str, key: str) -> str:
	return f"{entity}:{key}" if key else entity


@dataclass(frozen=True)
class Stream:
	"""What a connector declares for one entity; the engine does the rest."""

	entity: str
	# One page of changes after the cursor (None: from the beginning).
	fetch: Callable[[str | None], Page]
	# Pure: vendor record + context -> an ERPNext document dict, a list of Targets, or None when
	# nothing is booked for it.
	map: Callable[[Mapping[str, Any], Any], Mapped]
	# The vendor's cursor may only be resumed from where a pagination loop began (Plaid's
	# /transactions/sync): the pages' documents are committed page by page, but the stored cursor
	# moves only once the loop is read through, and pages read again are skipped through the links.
	cursor_per_loop: bool = False
