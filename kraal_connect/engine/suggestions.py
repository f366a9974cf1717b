"""What Discover found in a vendor account, and the ERPNext record that obviously fits each key.

Pure: the site hands in the company's records as Candidates. A suggestion is made only where one
record fits and no other does as well, so a person reviews a few filled-in rows instead of guessing
at ambiguous ones; everything else stays empty for them to choose.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Discovered:
	"""A key a record of the account uses, as its Kraal Account Mapping row names it."""

	key_type: str
	key: str
	# The vendor's own name for it (a location's name, a fee's description), the row's title.
	name: str = ""
	# The vendor's own number for it, where it keeps one (a QuickBooks account number).
	number: str = ""
	# Other names the vendor gives it ("paypal", the gateway's code, beside "PayPal Express Checkout").
	# The key itself is never taken for a name: most keys are ids ("4", "gid://shopify/Location/1").
	aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
	"""An ERPNext record a key may map to."""

	name: str  # what the mapping row's target holds ("Main Warehouse - KSC")
	title: str  # its own name, without the company's abbreviation ("Main Warehouse")
	number: str = ""


def words(text: str) -> tuple[str, ...]:
	"""The words of a name, lower case, a plural as its singular: "Shopify Payments Clearing" and
	"shopify_payments" share (shopify, payment)."""
	return tuple(_singular(w) for w in re.split(r"[^0-9a-z]+", (text or "").lower()) if w)


def _singular(word: str) -> str:
	return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def suggest(found: Discovered, candidates: Sequence[Candidate]) -> str | None:
	"""The one candidate that fits the key, in order of certainty: the same number; the same name
	(the vendor's name or an alias); a name holding every word of the vendor's. None when no candidate
	fits or more than one fits equally well."""
	if found.number:
		same_number = [c for c in candidates if c.number and c.number.strip() == found.number.strip()]
		if same_number:
			return _only(same_number)
	names = [w for w in dict.fromkeys(map(words, (found.name, *found.aliases))) if w]
	same_name = [c for c in candidates if words(c.title) in names or words(c.name) in names]
	if same_name:
		return _only(same_name)
	for vendor_words in names:
		named_like = [c for c in candidates if set(vendor_words) <= set(words(c.title))]
		if named_like:
			return _only(named_like)
	return None


def _only(fitting: Iterable[Candidate]) -> str | None:
	names = {c.name for c in fitting}
	return names.pop() if len(names) == 1 else None


def unique(found: Iterable[Discovered]) -> list[Discovered]:
	"""Each key once, the first name met for it kept, in the order met."""
	seen: dict[tuple[str, str], Discovered] = {}
	for item in found:
		if item.key:
			seen.setdefault((item.key_type, item.key), item)
	return list(seen.values())
