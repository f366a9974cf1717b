"""Each form a secret travels in is masked: itself, URL-encoded, base64 and cut short."""

import base64
import json
from urllib.parse import quote, quote_plus, urlencode

import pytest

from kraal_connect.engine.redaction import redact

SECRET = "shpat_0f3c9a1b2d4e/5f6a+7b8c9d0e1f=="
CLIENT = "kraal-client-id"

PLANTED = {
	"as is": f"refused token {SECRET}",
	"url-encoded": f"GET /x?token={quote(SECRET, safe='')}",
	"form-encoded": urlencode({"refresh_token": SECRET}),
	"quote_plus": f"body={quote_plus(SECRET)}",
	"basic auth": "Authorization: Basic " + base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode(),
	"base64 of a JSON body": base64.b64encode(json.dumps({"access_token": SECRET}).encode()).decode(),
	"urlsafe base64": base64.urlsafe_b64encode(f"x{SECRET}".encode()).decode(),
	"cut short": f"key starts {SECRET[:10]}...",
	"tail only": f"...{SECRET[-9:]} expired",
	"traceback repr": repr({"headers": {"X-Shopify-Access-Token": SECRET}}),
}


@pytest.mark.parametrize("where", sorted(PLANTED))
def test_no_form_of_a_secret_survives(where):
	masked = redact(PLANTED[where], [SECRET, ""])
	assert "*****" in masked
	for form in leaked_forms(SECRET):
		assert form not in masked, f"{where}: {masked}"


def leaked_forms(secret):
	"""Every 8-character piece of the secret and of its encodings."""
	forms = [secret, quote(secret, safe=""), quote_plus(secret), base64.b64encode(secret.encode()).decode()]
	return {f[i : i + 8] for f in forms for i in range(len(f) - 7)} - {""}


def test_ordinary_text_and_short_values_are_left_alone():
	assert redact("Sales Invoice SINV-0001 is paid", [SECRET]) == "Sales Invoice SINV-0001 is paid"
	# A four-character "secret" would mask half the log; it is not treated as one.
	assert redact("user abcd logged in", ["abcd"]) == "user abcd logged in"
	assert redact("", [SECRET]) == ""
