from collections.abc import Iterable

import requests


class SyncError(Exception):
	"""Base of the errors the engine understands."""


class TransientError(SyncError):
	"""The vendor could not answer now (rate limit, 5xx, timeout); the same call may work later."""

	def __init__(self, message: str, retry_after: float | None = None):
		super().__init__(message)
		self.retry_after = retry_after


class PageLost(TransientError):
	"""The database threw away the page's uncommitted writes (a deadlock rolls back the whole
	transaction, savepoints and all) or could not take a lock in time; the page is written again
	from its cursor."""


class PaginationRestart(SyncError):
	"""The vendor's data changed while the stream paged through it (Plaid's
	TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION): the vendor asks for the whole pagination again
	from the cursor it began with. Pages already written are skipped through their External Links."""


class AuthenticationError(SyncError):
	"""The stored credentials no longer work; a person has to reconnect the integration."""


class RecordError(SyncError):
	"""One record cannot be synced. The message names the record and the field."""


class DependencyMissing(RecordError):
	"""A record names another external record whose document is not written (yet): in a run written by
	several workers, the one writing it may not have committed; otherwise it failed or never came."""


class MissingMappingError(RecordError):
	"""A record needs Kraal Account Mapping rows that do not exist yet: the first key it met, and
	every other one it misses (also), so a person fills them all in one round."""

	def __init__(self, mapping_type: str, key: str, record: str, also: Iterable[tuple[str, str]] = ()):
		keys = tuple(dict.fromkeys(((mapping_type, key), *also)))
		if len(keys) == 1:
			message = f"{record}: no {mapping_type} mapping for '{key}'; add it under Kraal Account Mapping"
		else:
			named = ", ".join(f"{kind} '{value}'" for kind, value in keys)
			message = f"{record}: no mapping for {named}; add them under Kraal Account Mapping"
		super().__init__(message)
		self.mapping_type = mapping_type
		self.key = key
		# (key type, key) of every mapping the record waits for, the first one first.
		self.keys = keys


class ConflictError(RecordError):
	"""The source changed a document that may no longer change in ERPNext (paid, reconciled, in a
	closed period) or that a person changed too; holders name what holds it."""

	def __init__(self, message: str, holders: tuple[str, ...] = ()):
		super().__init__(message)
		self.holders = tuple(holders)


class WebhookRejected(SyncError):
	"""A webhook whose signature, age or body does not check out."""


def as_transient(exc: BaseException) -> TransientError | None:
	"""The transient form of an error, or None when retrying cannot help."""
	if isinstance(exc, TransientError):
		return exc
	if isinstance(exc, requests.Timeout | requests.ConnectionError):
		return TransientError(f"network: {type(exc).__name__}")
	return None


def retry_after_seconds(value: str | None) -> float | None:
	"""Parse a Retry-After header given in seconds; an HTTP date or garbage means 'use backoff'."""
	try:
		return max(0.0, float(value)) if value is not None else None
	except ValueError:
		return None


def caused_by(exc: BaseException | None, kinds) -> BaseException | None:
	"""The first error of these kinds in exc's chain of causes, however a mapper or ERPNext wrapped it."""
	seen = set()
	while exc is not None and id(exc) not in seen:
		if isinstance(exc, kinds):
			return exc
		seen.add(id(exc))
		exc = exc.__cause__ or exc.__context__
	return None
