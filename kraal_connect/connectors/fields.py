"""Reading the fields of vendor records, for every vendor's mappers.

A field that is missing or malformed raises a RecordError that names the record (its label) and the
field, so the Sync Log says exactly what to fix and only that record fails.
"""

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.missing_mappings import missing_mapping

CENT = Decimal("0.01")
EMPTY = (None, "", [], {})


def required(record: Mapping[str, Any], fieldname: str, label: str) -> Any:
	value = record.get(fieldname)
	if value in EMPTY:
		raise RecordError(f"{label}: field '{fieldname}' is missing")
	return value


def to_decimal(value: Any, label: str, fieldname: str) -> Decimal:
	"""A JSON number or numeric string as an exact Decimal (never through float)."""
	if value in EMPTY:
		raise RecordError(f"{label}: field '{fieldname}' is missing")
	if isinstance(value, bool):
		raise RecordError(f"{label}: field '{fieldname}' is not a number: {value!r}")
	try:
		parsed = Decimal(str(value))
	except InvalidOperation:
		raise RecordError(f"{label}: field '{fieldname}' is not a number: {value!r}") from None
	if not parsed.is_finite():
		raise RecordError(f"{label}: field '{fieldname}' is not a number: {value!r}")
	return parsed


def cents(value: Decimal) -> Decimal:
	return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Any, label: str, fieldname: str) -> Decimal:
	return cents(to_decimal(value, label, fieldname))


def as_float(amount: Decimal) -> float:
	"""ERPNext's Currency fields are floats; the cents are settled before the conversion."""
	return float(cents(amount))


def iso_date(record: Mapping[str, Any], fieldname: str, label: str) -> str:
	"""The date of a "2026-10-17" or "2026-10-17T08:31:02Z" field, as ERPNext stores dates."""
	raw = required(record, fieldname, label)
	try:
		return date.fromisoformat(str(raw)[:10]).isoformat()
	except ValueError:
		raise RecordError(f"{label}: field '{fieldname}' is not a date: {raw!r}") from None


def mapped(mapping: Mapping[str, str], mapping_type: str, key: str, label: str) -> str:
	"""What a Kraal Account Mapping row of `mapping_type` maps `key` to; an unmapped key holds the record
	until somebody fills the row in (with every other key the record misses: see missing_mappings)."""
	return mapping.get(key) or missing_mapping(mapping_type, key, label)
