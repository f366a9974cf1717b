"""What the vendors' authorization callbacks (QuickBooks, Shopify, Amazon) share on the site: the
integration a callback's state was issued for, the refusal page, secrets into Password fields, and the
way back to the form."""

from urllib.parse import quote

import frappe
from frappe import _
from frappe.utils.password import remove_encrypted_password, set_encrypted_password

from kraal_connect.engine.oauth_flow import take_state
from kraal_connect.engine.oauth_state import OTHER_USER, Flow, StateRefused


def integration_for_state(vendor: str, state: str | None, label: str):
	"""The integration a callback's state was issued for, the state used up whatever follows; None
	once the refusal page is the answer (unknown, used, expired or another user's state, or an
	integration the user may no longer connect). label: the vendor as the user reads it."""
	try:
		flow = take_state(vendor, state)
	except StateRefused as exc:
		refuse(label, state_refusal(label, exc.reason))
		return None
	doc = integration_of(flow, vendor)
	if doc is None:
		refuse(
			label,
			_("This {0} connection was started for an integration you can no longer connect.").format(label),
		)
	return doc


def integration_of(flow: Flow, vendor: str):
	"""The integration the flow was started for, while it is of this vendor and the user at the callback
	may still change its credentials; None otherwise."""
	if not frappe.db.exists("Kraal Integration", flow.integration):
		return None
	doc = frappe.get_doc("Kraal Integration", flow.integration)
	if doc.vendor != vendor or not doc.has_permission("write"):
		return None
	if not doc.has_permlevel_access_to("access_token", permission_type="write"):
		return None
	return doc


def state_refusal(vendor: str, reason: str) -> str:
	if reason == OTHER_USER:
		return _(
			"This {0} connection was started by another user; connect again from the integration."
		).format(vendor)
	return _(
		"This {0} connection was not started from ERPNext, was already used, or has expired; connect again "
		"from the integration."
	).format(vendor)


def refuse(vendor: str, message: str) -> None:
	"""The callback's answer when it connects nothing: a page saying why, HTTP 400."""
	frappe.respond_as_web_page(_(vendor), message, http_status_code=400, indicator_color="red")


def store_passwords(doc, values: dict[str, str]) -> None:
	"""Secrets into the Password fields, in the current transaction: the secret in the password store, a
	mask in the column (an empty column would make the next save of the form drop the secret)."""
	for fieldname, value in values.items():
		set_encrypted_password(doc.doctype, doc.name, value, fieldname)
	doc.db_set({f: "*" * len(v) for f, v in values.items()}, update_modified=False)


def remove_passwords(doc, fieldnames: tuple[str, ...]) -> None:
	for fieldname in fieldnames:
		remove_encrypted_password(doc.doctype, doc.name, fieldname)
	doc.db_set(dict.fromkeys(fieldnames, ""), update_modified=False)


def back_to_form(doc) -> None:
	frappe.local.response["type"] = "redirect"
	frappe.local.response["location"] = f"/app/kraal-integration/{quote(doc.name)}"
