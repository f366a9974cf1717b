"""Where a synced document came from, in words a person reads. Pure: no frappe."""

from collections.abc import Mapping


def record_type_label(vendor: str, external_type: str, labels: Mapping[str, str] | None = None) -> str:
	"""An External Link's type in words: "order:payment:123" -> "Shopify Order · Payment".

	An external type is "<entity>[:<key>…]" (engine.records.external_type); parts holding a digit
	are ids of the record's pieces (a payment, a variant), which the External ID and the vendor's
	link already name, so they are left out. labels names what a plain capitalisation would not
	("fba_inventory" -> "FBA inventory").
	"""
	labels = labels or {}
	words = [
		labels.get(part) or part.replace("_", " ").capitalize()
		for part in external_type.split(":")
		if part and not any(char.isdigit() for char in part)
	]
	return " · ".join([f"{vendor} {words[0]}" if words else vendor, *words[1:]])
