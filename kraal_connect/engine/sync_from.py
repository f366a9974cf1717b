"""A run that finds nothing because of its Sync From date says so, instead of a silent "0 fetched"."""

from datetime import date

import frappe


def remarks(connector, stats) -> list[str]:
	"""A remark for each dated entity the run read and found empty while the integration never booked
	one: its Sync From (or the vendor's default start) is then the likely reason."""
	start = connector.sync_start()
	if not start:
		return []
	found = []
	for entity, records in connector.dated_entities.items():
		counts = stats.counts.get(entity)
		if counts is None or counts.fetched:
			continue  # not read in this run, or it found some
		booked = frappe.db.exists(
			"Kraal External Link", {"integration": connector.integration.name, "external_type": entity}
		)
		if not booked:
			found.append(nothing_since(records, start))
	return found


def nothing_since(records: str, start: date) -> str:
	return (
		f"No {records} found since {start.isoformat()} (Sync From); set Sync From earlier to read older "
		f"{records}"
	)
