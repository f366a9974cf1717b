import frappe
from frappe.utils import today

from kraal_connect.engine.runner import run_integration
from kraal_connect.kraal_connect.report.integration_audit.integration_audit import execute
from tests.bench.conftest import COMPANY
from tests.bench.plaid_helpers import bank_accounts_of, connect_bank, purge_integration


def test_the_audit_separates_what_integrations_wrote_from_what_people_wrote(plaid_emulator):
	integration = connect_bank("item-tattersall", plaid_emulator.url)
	try:
		run_integration(integration, "Manual")
		by_hand = frappe.get_doc(
			{
				"doctype": "Bank Transaction",
				"date": today(),
				"bank_account": bank_accounts_of(integration)[0],
				"company": COMPANY,
				"deposit": 10,
				"currency": "USD",
				"description": "typed in by a clerk",
			}
		).insert()
		filters = {
			"company": COMPANY,
			"from_date": today(),
			"to_date": today(),
			"document_type": "Bank Transaction",
		}

		_, rows, _, _, summary = execute(filters)
		sources = {row["document"]: (row["source"], row["integration"]) for row in rows}
		assert sources[by_hand.name] == ("Person", None)
		assert sum(1 for s in sources.values() if s == ("Integration", integration)) == 12
		assert [s["value"] for s in summary] == [12, 1]

		_, people_only, *_ = execute({**filters, "source": "People"})
		assert [r["document"] for r in people_only] == [by_hand.name]
	finally:
		purge_integration(integration)
