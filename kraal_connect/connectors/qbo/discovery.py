"""What a QuickBooks company needs mapped, read before the migration books anything: every account
(its postings' ledger) and every tax rate (the account its tax goes to), titled as QuickBooks names
them. A row left empty is made by the migration itself (accounts) or goes to QuickBooks' sales-tax
payable account (tax rates); a suggestion points it at the company's own account of that name or number.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from kraal_connect.connectors.qbo.mapping import QBO_ACCOUNT
from kraal_connect.engine.suggestions import Discovered


def account_keys(accounts: Iterable[Mapping[str, Any]]) -> list[Discovered]:
	return [
		Discovered(
			QBO_ACCOUNT,
			str(a["Id"]),
			a.get("FullyQualifiedName") or a.get("Name") or str(a["Id"]),
			str(a.get("AcctNum") or ""),
		)
		for a in accounts
		if a.get("Id")
	]


def tax_rate_keys(rates: Iterable[Mapping[str, Any]], key_type: str) -> list[Discovered]:
	return [Discovered(key_type, str(r["Id"]), r.get("Name") or str(r["Id"])) for r in rates if r.get("Id")]
