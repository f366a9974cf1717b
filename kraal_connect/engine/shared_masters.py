"""One rule for masters that several companies, integrations or people share: an Item both stores sell,
a Customer two companies bill, a Supplier the firm kept before the migration.

- A record whose master already exists (same name, SKU or code) is matched to it, or, when the
  integration asks for separate records, given a distinct name.
- A master the integration matched rather than created is not its to rewrite: only its own company's
  child rows (Item Defaults, Party Accounts) are merged into it.
- Child rows that belong to a company are merged per company, never replaced wholesale, and a child
  table whose rows already hold what the record maps to is left alone (ERPNext refuses to touch a
  template's attributes once it has stock, even to write the same values).

Pure: the site passes DocType facts in.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

# The integration's choice for a record whose master already exists.
MATCH_EXISTING = "Match by Name or SKU"
SEPARATE_RECORDS = "Create Separate Records"

# The field a master is known by when its name comes from the site's naming settings
# (Customer and Supplier "by name", Item by its code).
NAMING_FIELDS = {"Customer": "customer_name", "Supplier": "supplier_name", "Item": "item_code"}

# The fields a shared record is found by when its name says nothing (an Item Price has a hash).
NATURAL_KEYS = {
	**{doctype: (field,) for doctype, field in NAMING_FIELDS.items()},
	"Item Price": ("item_code", "price_list"),
}

# A Table field's child DocType -> whether its rows carry a company.
CompanyKeyed = Callable[[str], bool]


def naming_value(mapped: Mapping[str, Any]) -> str | None:
	field = NAMING_FIELDS.get(mapped.get("doctype", ""))
	if not field:
		return None
	return (mapped.get(field) or "").strip() or None


def natural_key(mapped: Mapping[str, Any]) -> dict | None:
	"""Filters finding the record's existing master, or None when it has no natural key or lacks one."""
	fields = NATURAL_KEYS.get(mapped.get("doctype", ""))
	if not fields:
		return None
	values = {field: str(mapped.get(field) or "").strip() for field in fields}
	return values if all(values.values()) else None


def with_distinct_name(mapped: dict, suffix: str) -> dict:
	"""The record as a separate master beside an existing one of the same name: "Acme (Store 2)"."""
	field = NAMING_FIELDS[mapped["doctype"]]
	value = f"{mapped[field]} ({suffix})"
	renamed = {**mapped, field: value}
	if mapped["doctype"] == "Item" and mapped.get("item_name") == mapped[field]:
		renamed["item_name"] = value
	return renamed


def owned_part(mapped: Mapping[str, Any], tables: Mapping[str, str], company_keyed: CompanyKeyed) -> dict:
	"""What a matched master takes from the record: only its company's child rows.

	tables maps the doctype's Table fields to their child DocTypes.
	"""
	part = {"doctype": mapped["doctype"]}
	for fieldname, rows in mapped.items():
		child = tables.get(fieldname)
		if child and company_keyed(child) and isinstance(rows, list):
			part[fieldname] = rows
	return part


def rows_in_scope(rows: Sequence[Mapping[str, Any]], new_rows: Sequence[Mapping[str, Any]]) -> list:
	"""The existing company rows the new ones speak for: those of the companies the new rows name."""
	companies = {row.get("company") for row in new_rows}
	return [row for row in rows if row.get("company") in companies]


def merged_rows(
	rows: Sequence[Mapping[str, Any]],
	new_rows: Sequence[Mapping[str, Any]],
	keyed_by_company: bool,
	same_row: Callable[[Mapping[str, Any], Mapping[str, Any]], bool],
) -> list | None:
	"""A child table after writing new_rows into it, or None when it already holds them.

	Each entry is the index of an existing row kept as it is, or a new row (a dict). Rows of other
	companies are kept, in their place; the named companies' rows are replaced by the new ones.
	"""
	scope = list(range(len(rows)))
	if keyed_by_company:
		companies = {row.get("company") for row in new_rows}
		scope = [i for i, row in enumerate(rows) if row.get("company") in companies]
	if len(scope) == len(new_rows) and all(
		same_row(rows[i], new) for i, new in zip(scope, new_rows, strict=True)
	):
		return None
	kept = [i for i in range(len(rows)) if i not in set(scope)]
	return [*kept, *new_rows]
