"""Secrets never reach a log, a status, an error or the browser, in any form they travel in.

A token shows up in text as itself, URL-encoded (in a query string or a form body), base64-encoded
(inside an Authorization: Basic header, or a JSON blob encoded whole) or cut short (an error that
quotes the first characters of a key). Each form is masked.
"""

import base64
import re
from functools import lru_cache
from urllib.parse import quote, quote_plus

MASK = "*****"
# Shorter secrets are not masked: four characters are found everywhere in ordinary text.
SHORTEST_SECRET = 8
# A run of this many characters of a secret is a piece of it.
SHORTEST_PIECE = 8


def redact(text: str, secrets: list[str]) -> str:
	if not text:
		return text
	pattern = _pattern(tuple(s for s in secrets if s and len(s) >= SHORTEST_SECRET))
	return pattern.sub(MASK, text) if pattern else text


@lru_cache(maxsize=64)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern | None:
	forms: set[str] = set()
	for secret in secrets:
		forms |= _forms(secret)
	if not forms:
		return None
	# Longest first, so a whole secret is masked as one before any of its pieces.
	return re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))


def _forms(secret: str) -> set[str]:
	forms = {secret, quote(secret, safe=""), quote_plus(secret)}
	forms |= _base64_forms(secret.encode())
	piece = min(SHORTEST_PIECE, len(secret))
	forms |= {secret[i : i + piece] for i in range(len(secret) - piece + 1)}
	return {f for f in forms if len(f) >= SHORTEST_PIECE}


def _base64_forms(raw: bytes) -> set[str]:
	"""The characters that encode the secret inside any base64 text, whatever precedes it: base64
	works in 3-byte groups, so a secret lands at one of three offsets; the edge characters mixed with
	its neighbours' bits are left out."""
	forms = set()
	for offset in range(3):
		encoded = base64.b64encode(b"\0" * offset + raw).decode()
		start = (offset * 4 + 2) // 3 + (1 if offset else 0)
		end = ((offset + len(raw)) * 4) // 3
		middle = encoded[start:end]
		forms |= {middle, middle.replace("+", "-").replace("/", "_")}
	return forms
