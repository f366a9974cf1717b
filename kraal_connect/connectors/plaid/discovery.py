"""What a Plaid item needs mapped: its accounts, each as Plaid names it (name and last digits)."""

from collections.abc import Iterable, Mapping
from typing import Any

from kraal_connect.connectors.plaid.mapping import PLAID_ACCOUNT, account_label
from kraal_connect.engine.suggestions import Discovered


def account_keys(accounts: Iterable[Mapping[str, Any]]) -> list[Discovered]:
	return [
		Discovered(PLAID_ACCOUNT, a["account_id"], account_label(a)) for a in accounts if a.get("account_id")
	]
