"""Discover: before any transaction is written, list every key the account's records will need as
Kraal Account Mapping rows, all at once, titled with the vendor's names, a suggestion filled in where
one record of the integration's company obviously fits.

The connector reads the vendor (connectors/<vendor>/discovery.py); turning what it found into rows is
the same for every vendor and lives here.
"""

import frappe
from frappe import _

from kraal_connect.engine.registry import connector_class
from kraal_connect.engine.retry import ApiCaller
from kraal_connect.engine.suggestions import Candidate, Discovered, suggest, unique

MAPPING = "Kraal Account Mapping"

# The records a key may be suggested onto: DocType -> (its own-name field, its number field, filters
# besides the company). Others (Customer, Item, …) are not the company's own and get no suggestion.
SUGGESTIBLE = {
	"Account": ("account_name", "account_number", {"is_group": 0, "disabled": 0}),
	"Warehouse": ("warehouse_name", None, {"is_group": 0, "disabled": 0}),
	"Bank Account": ("account_name", None, {}),
	"Cost Center": ("cost_center_name", "cost_center_number", {"is_group": 0, "disabled": 0}),
}


def discover(integration) -> dict:
	"""Read what the account uses and add the mapping rows; returns what was added, for the form."""
	connector = connector_class(integration.vendor)(integration, ApiCaller())
	found = unique(connector.discover())
	result = add_rows(
		integration, connector.mapping_targets, found, connector.fills_itself, connector.mapping_root_types
	)
	result["api_calls"] = connector.caller.calls
	return result


def add_rows(
	integration,
	targets: dict[str, str],
	found: list[Discovered],
	fills_itself: frozenset[str] = frozenset(),
	root_types: dict[str, str] | None = None,
) -> dict:
	"""A row per key not listed yet, with its suggestion; a listed row still empty gets the vendor's
	name and the suggestion too. A row a person filled in is never changed. "empty" counts the rows a
	person must fill, "automatic" those the connector fills itself when left empty."""
	existing = {
		(row.key_type, row.external_key): row
		for row in frappe.get_all(
			MAPPING,
			filters={"integration": integration.name},
			fields=["name", "key_type", "external_key", "external_name", "target_name"],
		)
	}
	candidates: dict[tuple[str, str], list[Candidate]] = {}
	root_types = root_types or {}
	added, suggested, listed = [], 0, 0
	for item in found:
		doctype = targets.get(item.key_type)
		if not doctype:
			continue
		listed += 1
		# Only accounts of the kind the key books to compete (a gateway's money is an asset, its fees
		# an expense: "Shopify Payments Fees" is no candidate for the gateway shopify_payments).
		kind = (doctype, root_types.get(item.key_type, ""))
		if kind not in candidates:
			candidates[kind] = company_candidates(
				doctype, integration.company, {"root_type": kind[1]} if kind[1] else {}
			)
		row = existing.get((item.key_type, item.key))
		if row and row.target_name:
			continue
		target = suggest(item, candidates[kind])
		suggested += bool(target)
		if row:
			values = {"target_name": target} if target else {}
			if item.name and not row.external_name:
				values["external_name"] = item.name
			if values:
				frappe.get_doc(MAPPING, row.name).update(values).save(ignore_permissions=True)
			continue
		frappe.get_doc(
			{
				"doctype": MAPPING,
				"integration": integration.name,
				"key_type": item.key_type,
				"external_key": item.key,
				"external_name": (item.name or item.key)[:140],
				"target_doctype": doctype,
				"target_name": target,
			}
		).insert(ignore_permissions=True)
		added.append(f"{item.key_type}: {item.name or item.key}")
	empty_rows = frappe.get_all(
		MAPPING,
		filters={"integration": integration.name, "target_name": ("is", "not set")},
		pluck="key_type",
	)
	automatic = sum(key_type in fills_itself for key_type in empty_rows)
	empty = len(empty_rows) - automatic
	return {
		"listed": listed,
		"added": len(added),
		"suggested": suggested,
		"empty": empty,
		"automatic": automatic,
		"new": added,
	}


def company_candidates(doctype: str, company: str, narrower: dict | None = None) -> list[Candidate]:
	if doctype not in SUGGESTIBLE:
		return []
	title_field, number_field, filters = SUGGESTIBLE[doctype]
	fields = ["name", title_field] + ([number_field] if number_field else [])
	return [
		Candidate(
			row.name, row.get(title_field) or row.name, (row.get(number_field) or "") if number_field else ""
		)
		for row in frappe.get_all(
			doctype, filters={"company": company, **filters, **(narrower or {})}, fields=fields
		)
	]


def summary(result: dict) -> str:
	"""What Discover did, in the user's words."""
	if not result["listed"]:
		return _("Discover found nothing that needs a mapping.")
	message = _(
		"Discover found {0} keys the account uses: {1} new mapping rows, {2} filled in with a suggestion."
	).format(result["listed"], result["added"], result["suggested"])
	if result["empty"]:
		message += " " + _(
			"{0} rows still need an ERPNext record: fill them in before the first sync."
		).format(result["empty"])
	if result["automatic"]:
		message += " " + _(
			"{0} rows left empty are set up by the first sync itself (a new Bank Account or account); "
			"point them at an existing record where the firm keeps one."
		).format(result["automatic"])
	return message
