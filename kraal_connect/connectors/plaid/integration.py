"""Plaid on a site: credentials from the Kraal Integration, Plaid accounts as ERPNext Bank Accounts."""

import frappe
from frappe import _

from kraal_connect.connectors.plaid import discovery, mapping
from kraal_connect.connectors.plaid.client import PlaidApi
from kraal_connect.connectors.plaid.streams import TRANSACTIONS, transactions_stream
from kraal_connect.engine import writer
from kraal_connect.engine.connector import Connector
from kraal_connect.engine.errors import AuthenticationError, RecordError
from kraal_connect.engine.records import content_hash
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.suggestions import Discovered

ACCOUNTS = "account"


class PlaidConnector(Connector):
	vendor = "Plaid"
	entities = (TRANSACTIONS,)
	# Its bank transactions are matched to payouts and settlements after each run (engine/deposits).
	bank_feed = True
	# The only hosts its API Base URL may name (engine/endpoints.py).
	api_hosts = ("sandbox.plaid.com", "development.plaid.com", "production.plaid.com")
	mapping_targets = {mapping.PLAID_ACCOUNT: "Bank Account"}
	fills_itself = frozenset({mapping.PLAID_ACCOUNT})
	record_types = {"transaction": "Bank transaction", "account": "Bank account", "ledger": "Ledger account"}

	@classmethod
	def source_detail(cls, integration, external_type: str, external_id: str) -> str:
		"""Plaid has no admin a person opens: the bank, and for an account its name and last digits."""
		account = external_type.startswith(ACCOUNTS) and frappe.db.get_value(
			"Kraal Account Mapping",
			{"integration": integration.name, "key_type": mapping.PLAID_ACCOUNT, "external_key": external_id},
			"external_name",
		)
		return " · ".join(part for part in (integration.bank, account) if part)

	@property
	def api(self) -> PlaidApi:
		doc = self.integration
		return PlaidApi(
			doc.client_id,
			doc.get_password("client_secret", raise_exception=False) or "",
			doc.environment or "sandbox",
			base_url=doc.api_base_url or None,
		)

	@property
	def access_token(self) -> str:
		token = self.integration.get_password("access_token", raise_exception=False)
		if not token:
			raise AuthenticationError("No bank is linked yet: use Link Bank Account on the integration")
		return token

	def streams(self):
		return [transactions_stream(self.api, self.access_token)]

	def prepare(self, stats: RunStats) -> mapping.PlaidContext:
		accounts = self.caller(self.api.get_accounts, self.access_token)
		company = self.integration.company
		# Only the accounts chosen in Link sync; the others get no Bank Account and their
		# transactions are passed over.
		chosen = mapping.chosen_account_ids(self.integration.plaid_accounts)
		left_out = frozenset(a["account_id"] for a in accounts if chosen and a["account_id"] not in chosen)
		bank_accounts = {}
		for account in filter(mapping.is_supported_account, accounts):
			if account["account_id"] in left_out:
				continue
			try:
				with writer.isolated():
					bank_accounts[account["account_id"]] = ensure_bank_account(self.integration, account)
			except Exception as exc:
				stats.fail(ACCOUNTS, account["account_id"], str(exc))
		# Accounts a person mapped by hand (one Plaid does not list as checking, savings or card).
		for key, target in frappe.get_all(
			"Kraal Account Mapping",
			filters={
				"integration": self.integration.name,
				"key_type": mapping.PLAID_ACCOUNT,
				"target_name": ("is", "set"),
			},
			fields=["external_key", "target_name"],
			as_list=True,
		):
			if key not in left_out:
				bank_accounts.setdefault(key, target)
		return mapping.PlaidContext(
			company=company,
			company_currency=frappe.get_cached_value("Company", company, "default_currency"),
			bank_accounts=bank_accounts,
			left_out=left_out,
		)

	def discover(self) -> list[Discovered]:
		"""The accounts chosen in Link (all of them when none was chosen), each as Plaid names it."""
		chosen = mapping.chosen_account_ids(self.integration.get("plaid_accounts"))
		accounts = self.caller(self.api.get_accounts, self.access_token)
		return discovery.account_keys(a for a in accounts if not chosen or a["account_id"] in chosen)

	def test_connection(self) -> str:
		item = self.caller(self.api.get_item, self.access_token)["item"]
		institution = self.caller(self.api.get_institution_name, item["institution_id"])
		accounts = self.caller(self.api.get_accounts, self.access_token)
		return _("Connected to {0}: {1} accounts").format(institution, len(accounts))


def ensure_bank_account(integration, account: dict) -> str:
	"""The Bank Account a Plaid account books into: the one mapped, an existing match, or a new one."""
	mapping_name = frappe.db.get_value(
		"Kraal Account Mapping",
		{
			"integration": integration.name,
			"key_type": mapping.PLAID_ACCOUNT,
			"external_key": account["account_id"],
		},
	)
	row = (
		frappe.get_doc("Kraal Account Mapping", mapping_name)
		if mapping_name
		else frappe.get_doc(
			{
				"doctype": "Kraal Account Mapping",
				"integration": integration.name,
				"key_type": mapping.PLAID_ACCOUNT,
				"external_key": account["account_id"],
				"external_name": mapping.account_label(account),
				"target_doctype": "Bank Account",
			}
		)
	)
	if not row.target_name:
		row.target_name = _matching_bank_account(integration, account) or _create_bank_account(
			integration, account
		)
		row.save(ignore_permissions=True)
	return row.target_name


def _matching_bank_account(integration, account: dict) -> str | None:
	"""A Bank Account the firm already keeps for this bank with the same last digits."""
	if not account.get("mask"):
		return None
	already_mapped = frappe.get_all(
		"Kraal Account Mapping", filters={"target_doctype": "Bank Account"}, pluck="target_name"
	)
	return frappe.db.get_value(
		"Bank Account",
		{
			"bank": integration.bank,
			"company": integration.company,
			"mask": account["mask"],
			"is_company_account": 1,
			"name": ("not in", already_mapped or [""]),
		},
	)


def _create_bank_account(integration, account: dict) -> str:
	company = integration.company
	for doctype, value in (
		("Bank Account Type", account.get("type")),
		("Bank Account Subtype", account.get("subtype")),
	):
		if value and not frappe.db.exists(doctype, value):
			fieldname = frappe.scrub(doctype.removeprefix("Bank "))
			frappe.get_doc({"doctype": doctype, fieldname: value}).insert(ignore_permissions=True)
	ledger_name = _ledger_for(integration, account)
	bank_account = mapping.bank_account(account, integration.bank, company, ledger_name)
	# ERPNext names a Bank Account "<account name> - <bank>": the same bank account linked into a
	# second company (or by a second integration) takes the company's abbreviation, then the
	# integration's name, so it never collides with the first.
	bank_account["account_name"] = mapping.free_account_name(
		bank_account["account_name"],
		(frappe.get_cached_value("Company", company, "abbr"), integration.name),
		lambda name: bool(frappe.db.exists("Bank Account", f"{name} - {integration.bank}")),
	)
	writer.upsert(integration.name, ACCOUNTS, account["account_id"], content_hash(bank_account), bank_account)
	return writer.linked_name(integration.name, ACCOUNTS, account["account_id"])


def _ledger_for(integration, account: dict) -> str:
	"""A new ledger account for the Bank Account, or one of that name nobody's Bank Account uses yet."""
	company = integration.company
	ledger = mapping.gl_account(
		account,
		company,
		_parent_ledger(company, account),
		frappe.get_cached_value("Company", company, "default_currency"),
	)
	existing = frappe.db.get_value("Account", {"account_name": ledger["account_name"], "company": company})
	if not existing:
		writer.upsert(integration.name, "account:ledger", account["account_id"], content_hash(ledger), ledger)
		return writer.linked_name(integration.name, "account:ledger", account["account_id"])
	holder = frappe.db.get_value("Bank Account", {"account": existing})
	if holder:
		raise RecordError(
			f"Plaid account {account['account_id']}: ledger account {existing} already belongs to Bank "
			f"Account {holder}; map the Plaid account to a Bank Account under Kraal Account Mapping"
		)
	return existing


def _parent_ledger(company: str, account: dict) -> str:
	"""Cash accounts go under the company's Bank group, credit cards under its current liabilities."""
	if account.get("type") == "credit":
		filters = {"company": company, "root_type": "Liability", "is_group": 1, "account_type": ""}
		parents = frappe.get_all("Account", filters=filters, order_by="lft", pluck="name", limit=2)
		parent = parents[1] if len(parents) > 1 else (parents[0] if parents else None)
	else:
		parent = frappe.db.get_value("Account", {"company": company, "account_type": "Bank", "is_group": 1})
	if not parent:
		raise RecordError(
			f"Plaid account {account['account_id']}: company {company} has no ledger group to hold it; "
			"map it to a Bank Account under Kraal Account Mapping"
		)
	return parent
