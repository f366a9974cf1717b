"""Where an integration may send its credentials: the vendor's own hosts, over HTTPS.

Anyone who could point an integration at another host would have the server send that host the
client's tokens. A site that runs the emulators (tests, demos) allows other endpoints explicitly in
its site config (`kraal_allow_custom_endpoints`).
"""

from urllib.parse import urlsplit

from kraal_connect.engine.errors import SyncError


class EndpointNotAllowed(SyncError):
	pass


def check_endpoint(vendor: str, hosts: tuple[str, ...], url: str | None, allow_custom: bool = False) -> None:
	"""Raise EndpointNotAllowed unless url is empty (the vendor's default) or names one of the
	vendor's hosts ("*." allows any one label in front)."""
	if not url or allow_custom:
		return
	parts = urlsplit(url.strip())
	host = (parts.hostname or "").lower()
	if (
		parts.scheme != "https"
		or parts.username
		or parts.password
		or parts.port not in (None, 443)
		or not any(_matches(host, allowed) for allowed in hosts)
	):
		raise EndpointNotAllowed(
			f"The API Base URL must be one of {vendor}'s own addresses over https "
			f"({', '.join(hosts) or 'none'}); leave it empty to use the default"
		)


def _matches(host: str, allowed: str) -> bool:
	if allowed.startswith("*."):
		label, _, rest = host.partition(".")
		return bool(label) and rest == allowed[2:]
	return host == allowed
