"""The sync loop, free of frappe: streams in, a Store out. The site binds Store to its database."""

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from kraal_connect.engine import missing_mappings
from kraal_connect.engine.errors import (
	AuthenticationError,
	ConflictError,
	MissingMappingError,
	PageLost,
	PaginationRestart,
	SyncError,
	as_transient,
	caused_by,
)
from kraal_connect.engine.records import Change, Page, Stream, Target, as_targets
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.stats import RunStats


class Store(Protocol):
	def cursor(self, entity: str) -> str | None: ...

	def isolated(self) -> AbstractContextManager:
		"""All of one record's work (its mapping's look-ups and writes, then its documents) as one
		unit: undone on any error, the other records' work kept. A database that lost the page's
		work (deadlock, lock wait) raises PageLost from it."""

	def write(self, stream: Stream, change: Change, targets: list[Target]) -> str:
		"""Insert, update or skip a record's documents; returns the outcome."""

	def remove(self, stream: Stream, change: Change) -> str:
		"""Cancel or skip what a deleted record had written; returns the outcome."""

	def checkpoint(self, entity: str, cursor: str | None, stats: RunStats) -> None:
		"""Make the page's writes, its failed records, the new cursor and the counts durable together."""

	def rollback(self) -> None:
		"""Drop what was written since the last checkpoint."""


PAGE_ATTEMPTS = 3
# How often one run pages again from the start after the vendor's data changed under it.
PAGINATION_RESTARTS = 3


def apply_change(stream: Stream, change: Change, store: Store, context: Any, stats: RunStats) -> None:
	"""One record, isolated: whatever goes wrong with it is written down with the record, to be tried
	again by the next runs, and the run goes on."""
	if already_handled(stream, change, stats):
		return
	targets: list[Target] = []
	try:
		with store.isolated():
			if change.deleted:
				outcome = store.remove(stream, change)
			else:
				with missing_mappings.collect():
					targets = as_targets(stream.map(change.record, context))
				outcome = store.write(stream, change, targets) if targets else "skipped"
	except Exception as exc:
		if isinstance(exc, PageLost):
			raise
		if caused_by(exc, PageLost):
			raise PageLost(str(exc)) from exc
		stats.fail(
			stream.entity, change.external_id, failure_message(exc), change=change, **_failure_kind(exc)
		)
	else:
		stats.record(stream.entity, outcome, change.external_id)
		if outcome != "skipped":
			stats.notes += [note for target in targets for note in target.notes]


def already_handled(stream: Stream, change: Change, stats: RunStats) -> bool:
	"""A record read again at a version this run handled, or one the vendor says is unchanged, is
	counted as skipped and written no more."""
	handled = (stream.entity, change.external_id, change.fingerprint)
	if handled in stats.handled or change.unchanged:
		stats.record(stream.entity, "skipped")
		return True
	stats.handled[handled] = None
	return False


def _failure_kind(exc: Exception) -> dict:
	if isinstance(exc, MissingMappingError):
		return {"mappings": exc.keys}
	if isinstance(exc, ConflictError):
		return {"kind": "Conflict"}
	return {}


def failure_message(exc: Exception) -> str:
	"""What went wrong in the user's words: the engine's own errors and ERPNext's validation messages
	say it already; anything else is named by its type, for whoever looks into it."""
	message = _TAGS.sub("", str(exc)).strip()
	if isinstance(exc, SyncError) or _is_validation(exc) or not message:
		return message or type(exc).__name__
	return f"{type(exc).__name__}: {message}"


def _is_validation(exc: Exception) -> bool:
	"""frappe.ValidationError and its kinds carry a message written for the user (frappe.throw); the
	engine does not import frappe, so it knows them by name."""
	return any(cls.__name__ == "ValidationError" for cls in type(exc).__mro__)


_TAGS = re.compile(r"<[^>]+>")


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
	apply: Callable[[Stream, Change, Store, Any, RunStats], None] = apply_change,
) -> None:
	"""A stream's pages from its cursor, each record applied (written, or queued for the workers of a
	long run) and the page checkpointed with its cursor."""
	start = cursor = store.cursor(stream.entity)
	restarts = 0
	while True:
		try:
			page = caller(stream.fetch, cursor)
		except PaginationRestart:
			restarts += 1
			if restarts > PAGINATION_RESTARTS:
				raise
			cursor = start
			continue
		for attempt in range(1, PAGE_ATTEMPTS + 1):
			before = stats.snapshot()
			try:
				stats.entity(stream.entity).fetched += len(page.changes)
				for change in page.changes:
					apply(stream, change, store, context, stats)
				stats.api_calls = caller.calls
				looping = stream.cursor_per_loop and page.has_more
				store.checkpoint(stream.entity, start if looping else page.next_cursor, stats)
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
	apply: Callable[[Stream, Change, Store, Any, RunStats], None] = apply_change,
) -> None:
	"""Each stream in turn; one that cannot go on is written down and the next one runs.

	An AuthenticationError is not caught: nothing else of this integration can work without a person.
	"""
	for stream in streams:
		try:
			sync_stream(stream, store, caller, context, stats, on_page, apply)
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
