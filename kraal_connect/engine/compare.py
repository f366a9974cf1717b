"""Whether a written document already holds what a record maps to, compared by value per field type.

A vendor bumps its timestamps (Shopify's updatedAt, QuickBooks' SyncToken) for changes that book
nothing new; such a record must write nothing. So a loaded document (a Time is a timedelta, a Date a
date, a Check an int) is compared with the mapped dict (strings, floats, bools) by what the values
mean, not how they are typed. Pure: the site passes its DocType meta in as `schema`.
"""

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from kraal_connect.engine.shared_masters import rows_in_scope

# doctype -> {fieldname: (fieldtype, options)}; options name a Table field's child DocType.
Schema = Callable[[str], Mapping[str, tuple[str, str]]]

NUMBER_TYPES = frozenset({"Currency", "Float", "Percent"})
INTEGER_TYPES = frozenset({"Int", "Check"})
TABLE_TYPES = frozenset({"Table", "Table MultiSelect"})
# Amounts are stored at most at 9 decimals; mapped values may carry float noise below that.
NUMBER_PLACES = 6
# Keys of a mapped dict that are not values to compare.
NOT_VALUES = frozenset({"doctype", "name", "docstatus"})


def differences(
	doctype: str, current: Mapping[str, Any], mapped: Mapping[str, Any], schema: Schema
) -> list[str]:
	"""The fields (child rows as `items[2].rate`) whose mapped value differs from the document's."""
	fields = schema(doctype)
	found = []
	for fieldname, new in mapped.items():
		if fieldname in NOT_VALUES:
			continue
		fieldtype, options = fields.get(fieldname, ("", ""))
		old = current.get(fieldname)
		if fieldtype in TABLE_TYPES or isinstance(new, list):
			found += _table_differences(fieldname, options, old or [], new or [], schema)
		elif not same_value(fieldtype, old, new):
			found.append(fieldname)
	return found


def _table_differences(fieldname, child_doctype, rows, new_rows, schema: Schema) -> list[str]:
	if "company" in schema(child_doctype):
		# Rows of other companies (another company's Item Defaults) are not the record's to compare.
		rows = rows_in_scope(rows, new_rows)
	if len(rows) != len(new_rows):
		return [f"{fieldname} ({len(rows)} rows, now {len(new_rows)})"]
	found = []
	for idx, (row, new_row) in enumerate(zip(rows, new_rows, strict=True), start=1):
		found += [f"{fieldname}[{idx}].{f}" for f in differences(child_doctype, row, new_row, schema)]
	return found


def same_value(fieldtype: str, old: Any, new: Any) -> bool:
	if fieldtype in NUMBER_TYPES or (not fieldtype and _is_number(new)):
		return round(_number(old), NUMBER_PLACES) == round(_number(new), NUMBER_PLACES)
	if fieldtype in INTEGER_TYPES:
		return int(_number(old)) == int(_number(new))
	if fieldtype == "Date" or (not fieldtype and isinstance(old, date) and not isinstance(old, datetime)):
		return as_date(old) == as_date(new)
	if fieldtype == "Datetime" or (not fieldtype and isinstance(old, datetime)):
		return as_datetime(old) == as_datetime(new)
	if fieldtype == "Time" or (not fieldtype and isinstance(old, timedelta | time)):
		return as_seconds(old) == as_seconds(new)
	return _text(old) == _text(new)


def _is_number(value: Any) -> bool:
	return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> float:
	if value in (None, ""):
		return 0.0
	return float(value)


def _text(value: Any) -> str:
	return "" if value is None else str(value)


def as_date(value: Any) -> date | None:
	if not value:
		return None
	if isinstance(value, datetime):
		return value.date()
	if isinstance(value, date):
		return value
	return as_datetime(value).date()


def as_datetime(value: Any) -> datetime | None:
	if not value:
		return None
	if isinstance(value, datetime):
		return value.replace(tzinfo=None)
	if isinstance(value, date):
		return datetime(value.year, value.month, value.day)
	text = str(value).strip().replace("T", " ").removesuffix("Z")
	if len(text) == 10:
		text += " 00:00:00"
	return datetime.fromisoformat(text).replace(tzinfo=None)


def as_seconds(value: Any) -> float | None:
	"""A time of day in seconds: a Time field loads as a timedelta and is mapped as "HH:MM:SS"."""
	if value in (None, ""):
		return None
	if isinstance(value, timedelta):
		seconds = value.total_seconds()
	elif isinstance(value, time):
		seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
	else:
		hours, minutes, *rest = str(value).split(":")
		seconds = int(hours) * 3600 + int(minutes) * 60 + (float(rest[0]) if rest else 0.0)
	return round(seconds, 6)
