"""The sync loop, free of frappe: streams in, a Store out. The site binds Store to its database."""

from collections.abc import Callable
from typing import Any, Protocol

from kraal_connect.engine.errors import (
	AuthenticationError,
	ConflictError,
	MissingMappingError,
	PageLost,
	RecordError,
	SyncError,
	as_transient,
)
from kraal_connect.engine.records import Change, Page, Stream, Target, as_targets
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.stats import RunStats


class Store(Protocol):
	def cursor(self, entity: str) -> str | None: ...

	def write(self, stream: Stream, change: Change, targets: list[Target]) -> str:
		"""Insert, update or skip a record's documents, all or nothing; returns the outcome."""

	def remove(self, stream: Stream, change: Change) -> str:
		"""Cancel or skip what a deleted record had written, all or nothing; returns the outcome."""

	def checkpoint(self, entity: str, cursor: str | None, stats: RunStats) -> None:
		"""Make the page's writes, the new cursor and the counts durable together."""

	def rollback(self) -> None:
		"""Drop what was written since the last checkpoint."""


PAGE_ATTEMPTS = 3


def apply_change(stream: Stream, change: Change, store: Store, context: Any, stats: RunStats) -> None:
	"""One record, isolated: whatever goes wrong with it is written down and the run goes on."""
	try:
		if change.deleted:
			outcome = store.remove(stream, change)
		else:
			targets = as_targets(stream.map(change.record, context))
			outcome = store.write(stream, change, targets) if targets else "skipped"
	except PageLost:
		raise
	except MissingMappingError as exc:
		stats.fail(stream.entity, change.external_id, str(exc), mapping=(exc.mapping_type, exc.key))
	except ConflictError as exc:
		stats.fail(stream.entity, change.external_id, str(exc), kind="Conflict")
	except RecordError as exc:
		stats.fail(stream.entity, change.external_id, str(exc))
	except Exception as exc:
		stats.fail(stream.entity, change.external_id, f"{type(exc).__name__}: {exc}")
	else:
		stats.record(stream.entity, outcome)


def read_pages(fetch: Callable[[str | None], Page], caller: Callable[..., Any]) -> list[Change]:
	"""Every record a fetch pages through from its start, written nowhere: the reference data a run
	needs to map its records (a chart of accounts, tax rates)."""
	changes, cursor = [], None
	while True:
		page = caller(fetch, cursor)
		changes += page.changes
		if not page.has_more:
			return changes
		cursor = _next_cursor(page, cursor, "a read")


def _next_cursor(page: Page, cursor: str | None, what: str) -> str | None:
	if page.next_cursor == cursor:
		raise SyncError(f"{what}: the vendor said there is more but gave the same cursor")
	return page.next_cursor


def sync_stream(
	stream: Stream,
	store: Store,
	caller: ApiCaller,
	context: Any,
	stats: RunStats,
	on_page: Callable[[str, RunStats], None] | None = None,
) -> None:
	cursor = store.cursor(stream.entity)
	while True:
		page = caller(stream.fetch, cursor)
		for attempt in range(1, PAGE_ATTEMPTS + 1):
			before = stats.snapshot()
			try:
				stats.entity(stream.entity).fetched += len(page.changes)
				for change in page.changes:
					apply_change(stream, change, store, context, stats)
				stats.api_calls = caller.calls
				store.checkpoint(stream.entity, page.next_cursor, stats)
				break
			except PageLost:
				store.rollback()
				stats.restore(before)
				if attempt == PAGE_ATTEMPTS:
					raise
		if on_page:
			on_page(stream.entity, stats)
		if not page.has_more:
			return
		cursor = _next_cursor(page, cursor, stream.entity)


def sync_streams(
	streams: list[Stream],
	store: Store,
	caller: ApiCaller,
	context: Any,
	stats: RunStats,
	on_page: Callable[[str, RunStats], None] | None = None,
) -> None:
	"""Each stream in turn; one that cannot go on is written down and the next one runs.

	An AuthenticationError is not caught: nothing else of this integration can work without a person.
	"""
	for stream in streams:
		try:
			sync_stream(stream, store, caller, context, stats, on_page)
		except AuthenticationError:
			raise
		except Exception as exc:
			if not (as_transient(exc) or isinstance(exc, SyncError)):
				raise
			stats.entity(stream.entity)
			stats.aborted_entities.append(stream.entity)
			stats.fail(stream.entity, "", f"stopped after retries: {exc}")
		finally:
			stats.api_calls = caller.calls
