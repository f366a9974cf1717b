"""Every mapping a record misses, named in one error.

A mapper looks its mappings up one after the other; stopping at the first missing one would make a
person fill one key per run. While the engine maps a record (collect()), a lookup that finds nothing
notes its key and hands the mapper a stand-in, so the mapper goes on and meets the others; at the end
the record fails with one MissingMappingError naming them all. Outside collect() (a mapper called on
its own, as the standalone tests do) the first missing key raises at once, as before.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from kraal_connect.engine.errors import MissingMappingError, PageLost, RecordError, SyncError, caused_by

# (key type, key, record label) of each missing key the record being mapped met, in order; None
# outside collect().
_missing: ContextVar[list[tuple[str, str, str]] | None] = ContextVar("kraal_missing_mappings", default=None)


def missing_mapping(mapping_type: str, key: str, label: str) -> str:
	"""What a mapper returns for a key no Kraal Account Mapping row maps: inside collect() a stand-in
	(the record fails anyway once the mapper is done), else a MissingMappingError at once."""
	found = _missing.get()
	if found is None:
		raise MissingMappingError(mapping_type, key, label)
	found.append((mapping_type, key, label))
	return f"(unmapped {mapping_type} '{key}')"


@contextmanager
def collect() -> Iterator[None]:
	"""Map one record, then fail it naming every key it missed.

	A mapper that went on with a stand-in may fail on it further down (ERPNext refusing a link to
	no such account, say): the missing keys are the cause, so they are what the record fails with.
	Errors that are not the record's (the database lost the page, the vendor is unreachable) pass
	through unchanged.
	"""
	found: list[tuple[str, str, str]] = []
	token = _missing.set(found)
	try:
		try:
			yield
		except Exception as exc:
			if not found or _not_the_records(exc):
				raise
			raise _error(found, exc) from exc
		if found:
			raise _error(found, None)
	finally:
		_missing.reset(token)


def _not_the_records(exc: BaseException) -> bool:
	return (isinstance(exc, SyncError) and not isinstance(exc, RecordError)) or bool(caused_by(exc, PageLost))


def _error(found: list[tuple[str, str, str]], exc: BaseException | None) -> MissingMappingError:
	keys = [(kind, key) for kind, key, _ in found]
	if isinstance(exc, MissingMappingError):  # raised directly by a mapper, not through missing_mapping
		keys += list(exc.keys)
	(mapping_type, key), label = keys[0], found[0][2]
	return MissingMappingError(mapping_type, key, label, also=keys[1:])
