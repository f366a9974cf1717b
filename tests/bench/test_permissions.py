"""Who may do what: every whitelisted method, called through Frappe's request handler as a Guest, an
Accounts User, an Accounts Manager, a Kraal Connect Manager and a System Manager; and what an
Accounts Manager sees of the credentials through the form's and the REST API's reads and writes."""

from types import SimpleNamespace

import frappe
import pytest
from frappe.handler import execute_cmd
from frappe.utils.background_jobs import get_queue

from tests.bench.plaid_helpers import connect_bank, purge_integration
from tests.bench.site_helpers import ensure_user

PLATYPUS = "item-platypus"
USERS = {
	"Accounts User": "kraal-perm-user@example.com",
	"Accounts Manager": "kraal-perm-manager@example.com",
	"Kraal Connect Manager": "kraal-perm-connector@example.com",
	"System Manager": "kraal-perm-admin@example.com",
}
ROLES = ("Guest", *USERS)
READ = {"Accounts User", "Accounts Manager", "Kraal Connect Manager", "System Manager"}
RUN = {"Accounts Manager", "Kraal Connect Manager", "System Manager"}
CREDENTIALS = {"Kraal Connect Manager", "System Manager"}

# method -> (arguments, the roles that get past its permission check). A method used on an
# integration of another vendor refuses with a ValidationError after the permission check, which is
# what is wanted here: permission first, then everything else.
TABLE = {
	"kraal_connect.api.recent_sync_logs": ({}, READ),
	"kraal_connect.api.open_failures": ({}, READ),
	"kraal_connect.api.sync_now": ({}, RUN),
	"kraal_connect.api.test_connection": ({}, RUN),
	"kraal_connect.api.disconnect": ({}, RUN),
	"kraal_connect.api.reconnect": ({}, RUN),
	"kraal_connect.api.resync_from_start": ({}, RUN),
	"kraal_connect.api.discover": ({}, RUN),
	"kraal_connect.api.retry_all_failures": ({}, RUN),
	"kraal_connect.api.retry_failure": ({"failed_record": None}, RUN),
	"kraal_connect.api.apply_source_version": ({"failed_record": None}, RUN),
	"kraal_connect.api.dismiss_failure": ({"failed_record": None, "reason": "checked by hand"}, RUN),
	"kraal_connect.connectors.qbo.reconciliation.reconcile": ({}, RUN),
	"kraal_connect.connectors.plaid.link.create_link_token": ({}, CREDENTIALS),
	"kraal_connect.connectors.plaid.link.exchange_public_token": (
		{"public_token": "public-forged"},
		CREDENTIALS,
	),
	"kraal_connect.connectors.qbo.oauth.authorization_url": ({}, CREDENTIALS),
	"kraal_connect.connectors.shopify.endpoints.register_webhooks": ({}, CREDENTIALS),
	"kraal_connect.connectors.shopify.endpoints.unregister_webhooks": ({}, CREDENTIALS),
	"kraal_connect.connectors.shopify.oauth.authorization_url": (
		{"shop": "kraal-perm.myshopify.com"},
		CREDENTIALS,
	),
	"kraal_connect.connectors.amazon.oauth.authorization_url": ({}, CREDENTIALS),
	"kraal_connect.connectors.amazon.oauth.participating_marketplaces": ({}, RUN),
	"kraal_connect.connectors.amazon.oauth.choose_marketplaces": ({"marketplace_ids": "[]"}, RUN),
}


@pytest.fixture(scope="module")
def users():
	for role, email in USERS.items():
		ensure_user(email, role, role)
	return USERS


@pytest.fixture
def bank(plaid_emulator, users):
	name = connect_bank(PLATYPUS, plaid_emulator.url)
	failure = frappe.get_doc(
		{
			"doctype": "Kraal Failed Record",
			"integration": name,
			"entity": "transaction",
			"external_id": "perm-1",
			"kind": "Conflict",
			"message": "held for the permission test",
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	yield name, failure.name
	queue = get_queue("long")
	for job in queue.jobs:
		if name in str(job.kwargs):
			job.delete()
	purge_integration(name)


def call_as(role: str, cmd: str, args: dict) -> str:
	"""'allowed' when the call gets past its permission checks, 'denied' when it does not."""
	frappe.set_user("Guest" if role == "Guest" else USERS[role])
	request, form_dict = getattr(frappe.local, "request", None), frappe.local.form_dict
	frappe.local.request = SimpleNamespace(method="POST")
	frappe.local.form_dict = frappe._dict(args)
	try:
		execute_cmd(cmd)
	except frappe.PermissionError:
		return "denied"
	except Exception:
		return "allowed"  # refused for another reason, past the permission check
	finally:
		frappe.db.rollback()
		frappe.set_user("Administrator")
		frappe.local.request, frappe.local.form_dict = request, form_dict
	return "allowed"


@pytest.mark.parametrize("cmd", sorted(TABLE))
def test_each_method_lets_exactly_its_roles_through(bank, cmd):
	integration, failed_record = bank
	args, allowed = TABLE[cmd]
	args = {"integration": integration, **args}
	if "failed_record" in args:
		args = {
			"failed_record": failed_record,
			**{k: v for k, v in args.items() if k not in ("integration", "failed_record")},
		}
	outcomes = {role: call_as(role, cmd, args) for role in ROLES}
	assert outcomes == {role: "allowed" if role in allowed else "denied" for role in ROLES}


def test_an_accounts_manager_neither_reads_nor_changes_credentials_or_the_endpoint(bank):
	integration, _ = bank
	hidden = ("client_id", "environment", "api_base_url")
	stored = frappe.db.get_value("Kraal Integration", integration, hidden, as_dict=True)
	frappe.set_user(USERS["Accounts Manager"])
	try:
		read = frappe.client.get("Kraal Integration", integration)  # what /api/resource and the form read
		assert {f: read.get(f) for f in hidden} == dict.fromkeys(hidden)
		assert read["company"]  # the ordinary fields stay readable

		doc = frappe.get_doc("Kraal Integration", integration)
		doc.api_base_url = "https://attacker.example"
		doc.client_secret = "stolen-by-replacement"
		doc.sync_frequency = "Hourly"
		doc.save()  # as the form's and the REST API's save do
		frappe.db.commit()
	finally:
		frappe.set_user("Administrator")
	after = frappe.get_doc("Kraal Integration", integration)
	assert (after.api_base_url, after.sync_frequency) == (stored.api_base_url, "Hourly")
	assert after.get_password("client_secret") != "stolen-by-replacement"


def test_logs_links_and_failed_records_are_written_by_the_engine_only(users):
	frappe.set_user(USERS["System Manager"])
	try:
		for doctype in ("Kraal Sync Log", "Kraal External Link", "Kraal Failed Record"):
			assert frappe.has_permission(doctype, "read")
			assert not frappe.has_permission(doctype, "write"), doctype
			assert not frappe.has_permission(doctype, "create"), doctype
	finally:
		frappe.set_user("Administrator")
