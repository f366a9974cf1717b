import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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

	@property
	def fingerprint(self) -> str:
		return self.version or content_hash(self.record)


@dataclass(frozen=True)
class Page:
	changes: Sequence[Change]
	next_cursor: str | None
	has_more: bool = False


@dataclass(frozen=True)
class Stream:
	"""What a connector declares for one entity; the engine does the rest."""

	entity: str
	# One page of changes after the cursor (None: from the beginning).
	fetch: Callable[[str | None], Page]
	# Pure: vendor record + context -> ERPNext document dict, or None when it is not booked.
	map: Callable[[Mapping[str, Any], Any], dict | None]
	# Why an already written document may no longer change (e.g. reconciled), or None.
	lock_reason: Callable[[Any], str | None] = field(default=lambda doc: None)
