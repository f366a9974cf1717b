"""QuickBooks Online test helpers: the dataset's records, and a mapping context that names ERPNext
records after them."""

import json
from pathlib import Path

from emulators.qbo import QboEmulator
from kraal_connect.connectors.qbo.mapping import QboContext, standard_account_groups

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "qbo"
REALM = "9130357766900001"
REDIRECT_URI = "https://erp.example/api/method/kraal_connect.connectors.qbo.oauth.callback"
ABBR = "PPS"


def records(entity: str) -> list[dict]:
	body = json.loads((FIXTURES / "realms" / REALM / f"{entity}.json").read_text())
	return body["QueryResponse"][entity]


def record(entity: str, qbo_id: str) -> dict:
	return next(r for r in records(entity) if r["Id"] == qbo_id)


def erpnext_account(qbo_account: dict) -> str:
	"""The name ERPNext gives the account the mapper creates for a QBO account."""
	return f"{qbo_account['AcctNum']} - {qbo_account['Name']} - {ABBR}"


def context(**overrides) -> QboContext:
	accounts = {a["Id"]: a for a in records("Account")}
	values = {
		"company": "Platypus Plumbing Supply",
		"company_currency": "USD",
		"qbo_accounts": accounts,
		"account_groups": standard_account_groups(ABBR),
		"accounts": {qbo_id: erpnext_account(a) for qbo_id, a in accounts.items()},
		"tax_rates": {r["Id"]: r for r in records("TaxRate")},
		"tax_rate_accounts": {"1": "2200 - Board of Equalization Payable - PPS"},
		"stock_item_ids": frozenset(i["Id"] for i in records("Item") if i["Type"] == "Inventory"),
		"warehouse": "Stores - PPS",
		"countries": {"usa": "United States", "us": "United States", "de": "Germany"},
		"default_country": "United States",
	}
	values.update(overrides)
	return QboContext(**values)


def paths(emulator: QboEmulator) -> list[str]:
	return [r["path"] for r in emulator.requests]
