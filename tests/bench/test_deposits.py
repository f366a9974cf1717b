"""Shopify payouts and Amazon settlements followed into the bank, on a real site: one company sells on
the fixture Shopify store and the fixture Amazon seller account and banks at Kookaburra (Plaid). Each
payout's Journal Entry equals the payout; the bank's deposits reconcile to their payouts and settlements
by themselves after a Plaid run and after a payout or settlement run; the deposit that fits two payouts
of the same amount is left as a suggestion; what the bank has not shown yet is listed."""

import json
import shutil
from decimal import Decimal
from pathlib import Path

import frappe
import pytest

from emulators.amazon import AmazonEmulator
from emulators.plaid import PlaidEmulator
from kraal_connect.connectors.amazon import mapping as amazon_mapping
from kraal_connect.connectors.plaid import mapping as plaid_mapping
from kraal_connect.connectors.shopify import mapping as shopify_mapping
from kraal_connect.engine import deposits, discovery
from kraal_connect.engine.runner import run_integration
from tests.bench import amazon_helpers, plaid_helpers, shopify_helpers
from tests.bench.site_helpers import counts, ensure_user, latest_log

COMPANY, ABBR = amazon_helpers.COMPANY, amazon_helpers.ABBR
BANK_LEDGER = f"Kookaburra Checking - {ABBR}"
BANK_NAME = "Kookaburra Savings Bank"
KOOKABURRA = "item-kookaburra"
PLAID_ACCOUNT = "5c1e7a93b20d48f6a1e7kb01"
PAYOUT_ACCOUNTS = {
	shopify_mapping.FEES: "Shopify Payments Fees",
	"DISPUTE": "Shopify Chargebacks",
	"ADJUSTMENT": "Shopify Adjustments",
}
CLEARING = f"{shopify_helpers.GATEWAYS['shopify_payments']} - {ABBR}"
USD_SETTLEMENT = "24881000001"


def money(value) -> Decimal:
	return Decimal(str(value)).quantize(Decimal("0.01"))


def ensure_bank() -> str:
	"""The company's checking account at Kookaburra: its ledger account and its Bank Account."""
	shopify_helpers._account(
		COMPANY, ABBR, "Kookaburra Checking", amazon_helpers.account("Bank Accounts"), "Bank"
	)
	expenses = amazon_helpers.account("Indirect Expenses")
	for name in PAYOUT_ACCOUNTS.values():
		shopify_helpers._account(COMPANY, ABBR, name, expenses, "")
	shopify_helpers.ensure_doc("Bank", BANK_NAME, {"bank_name": BANK_NAME})
	bank_account = frappe.db.get_value("Bank Account", {"account": BANK_LEDGER})
	if not bank_account:
		bank_account = (
			frappe.get_doc(
				{
					"doctype": "Bank Account",
					"account_name": "Kookaburra Checking",
					"bank": BANK_NAME,
					"account": BANK_LEDGER,
					"company": COMPANY,
					"is_company_account": 1,
				}
			)
			.insert()
			.name
		)
	frappe.db.commit()
	return bank_account


def only_entity(integration: str, entity: str) -> None:
	doc = frappe.get_doc("Kraal Integration", integration)
	for row in doc.entities:
		row.enabled = int(row.entity == entity)
	doc.save()
	frappe.db.commit()


def add_mapping(integration: str, key_type: str, key: str, doctype: str, target: str) -> None:
	amazon_helpers.add_mapping(integration, key_type, key, doctype, target)
	frappe.db.commit()


def payout_files(data: Path) -> dict[str, dict]:
	"""payout gid -> the payout as the dataset has it, with its balance transactions."""
	payouts = {
		p["id"]: {**p, "rows": []}
		for p in map(json.loads, map(Path.read_text, (data / "payouts").glob("*.json")))
	}
	for path in (data / "balance_transactions").glob("*.json"):
		row = json.loads(path.read_text())
		payouts[row["associatedPayout"]["id"]]["rows"].append(row)
	return payouts


def bank_transaction(transaction_id: str):
	return frappe.get_doc("Bank Transaction", {"transaction_id": transaction_id})


@pytest.fixture(scope="module")
def books(site, tmp_path_factory):
	"""The three integrations of one company, run in turn: Shopify's payouts, then the bank, then
	Amazon's settlements; purged after the module."""
	amazon_helpers.ensure_company()
	shopify_helpers.ensure_company(COMPANY, ABBR)
	rate = amazon_helpers.ensure_cad_rate()
	bank_account = ensure_bank()
	root = tmp_path_factory.mktemp("deposits")
	store = shopify_helpers.start_store(Path(shutil.copytree(shopify_helpers.DATASET, root / "shopify")))
	amazon_data = Path(shutil.copytree(amazon_helpers.FIXTURES, root / "amazon"))
	amazon = AmazonEmulator(amazon_data).start()
	plaid_data = Path(
		shutil.copytree(Path(plaid_helpers.__file__).parents[2] / "fixtures/plaid", root / "plaid")
	)
	plaid = PlaidEmulator(plaid_data).start()
	names = {}
	try:
		names["shopify"] = shopify_helpers.connect_store(store.emulator.url, company=COMPANY, abbr=ABBR)
		switched_on = {
			r.entity: r.enabled for r in frappe.get_doc("Kraal Integration", names["shopify"]).entities
		}
		only_entity(names["shopify"], shopify_mapping.PAYOUTS)
		add_mapping(names["shopify"], shopify_mapping.PAYOUT_BANK, "USD", "Account", BANK_LEDGER)
		for key, name in PAYOUT_ACCOUNTS.items():
			add_mapping(names["shopify"], shopify_mapping.PAYOUT_TYPE, key, "Account", f"{name} - {ABBR}")
		logs = {"shopify": run_integration(names["shopify"], "Manual")}

		names["plaid"] = f"Plaid {KOOKABURRA} {frappe.generate_hash(length=6)}"
		frappe.get_doc(
			{
				"doctype": "Kraal Integration",
				"integration_name": names["plaid"],
				"vendor": "Plaid",
				"company": COMPANY,
				"client_id": "kraal-bench",
				"client_secret": plaid_helpers.CLIENT_SECRET,
				"api_base_url": plaid.url,
			}
		).insert()
		add_mapping(names["plaid"], plaid_mapping.PLAID_ACCOUNT, PLAID_ACCOUNT, "Bank Account", bank_account)
		plaid_helpers.exchange_public_token(names["plaid"], f"public-emulator-{KOOKABURRA}")
		frappe.db.commit()
		logs["plaid"] = run_integration(names["plaid"], "Manual")
		after_plaid = {t: bank_transaction(t).status for t in ("kb-tx-0001", "kb-tx-0003", "kb-tx-0005")}
		suggestions_after_plaid = deposits.deposit_suggestions(COMPANY)

		names["amazon"] = amazon_helpers.connect(amazon.url, amazon_data)
		only_entity(names["amazon"], amazon_mapping.SETTLEMENTS)
		frappe.db.set_value(
			"Kraal Account Mapping",
			{"integration": names["amazon"], "key_type": amazon_mapping.CLEARING, "external_key": "USD"},
			"target_name",
			BANK_LEDGER,
		)
		frappe.db.commit()
		logs["amazon"] = run_integration(names["amazon"], "Manual")
		yield {
			"names": names,
			"logs": logs,
			"store": store,
			"bank_account": bank_account,
			"after_plaid": after_plaid,
			"switched_on": switched_on,
			"suggestions_after_plaid": suggestions_after_plaid,
		}
	finally:
		store.emulator.stop()
		amazon.stop()
		plaid.stop()
		if "plaid" in names:
			plaid_helpers.purge_integration(names["plaid"])
		if "shopify" in names:
			shopify_helpers.purge_integration(names["shopify"])
		if "amazon" in names:
			amazon_helpers.purge(names["amazon"])
		amazon_helpers.purge_transactions()
		if rate:
			frappe.delete_doc("Currency Exchange", rate, force=True, delete_permanently=True)
			frappe.db.commit()


def payout_entries(integration: str) -> dict[str, str]:
	return dict(
		frappe.get_all(
			"Kraal External Link",
			filters={"integration": integration, "external_type": shopify_mapping.PAYOUTS},
			fields=["external_id", "reference_name"],
			as_list=True,
		)
	)


def test_each_payout_is_one_journal_entry_equal_to_the_payout(books):
	# A new store's payouts wait for a person to switch them on (and grant their scope).
	assert books["switched_on"] == {
		"product": 1,
		"customer": 1,
		"order": 1,
		"inventory_level": 1,
		shopify_mapping.PAYOUTS: 0,
	}
	log = frappe.get_doc("Kraal Sync Log", books["logs"]["shopify"])
	assert log.status == "Success", log.as_dict()
	entries = payout_entries(books["names"]["shopify"])
	payouts = payout_files(books["store"].data)
	assert sorted(entries) == sorted(payouts)
	for gid, payout in payouts.items():
		entry = frappe.get_doc("Journal Entry", entries[gid])
		assert (entry.docstatus, entry.cheque_no, str(entry.posting_date)) == (
			1,
			payout["legacyResourceId"],
			payout["issuedAt"][:10],
		)
		by_account = {}
		for row in entry.accounts:
			by_account[row.account] = (
				by_account.get(row.account, Decimal(0)) + money(row.debit) - money(row.credit)
			)
		rows = [r for r in payout["rows"] if r["type"] != "TRANSFER"]
		net = sum(money(r["net"]["amount"]) for r in rows)
		assert by_account[BANK_LEDGER] == net == money(payout["net"]["amount"])
		assert by_account[CLEARING] == -sum(
			money(r["amount"]["amount"]) for r in rows if r["type"] in ("CHARGE", "REFUND")
		)
		fees = sum(money(r["fee"]["amount"]) for r in rows)
		assert by_account[f"{PAYOUT_ACCOUNTS[shopify_mapping.FEES]} - {ABBR}"] == fees
		for kind in ("DISPUTE", "ADJUSTMENT"):
			moved = -sum(money(r["amount"]["amount"]) for r in rows if r["type"] == kind)
			assert by_account.get(f"{PAYOUT_ACCOUNTS[kind]} - {ABBR}", Decimal(0)) == moved
		assert money(entry.total_debit) == money(entry.total_credit)
	# Payout 80002: the charge it credits to the clearing account is the bank's 43.73, Shopify's fees
	# (2.75 and the chargeback's 15.00), the chargeback's 20.15 and the adjustment's 3.00.
	assert money(
		frappe.db.get_value(
			"Journal Entry", entries["gid://shopify/ShopifyPaymentsPayout/80002"], "total_debit"
		)
	) == Decimal("84.63")


def test_a_plaid_run_reconciles_the_deposit_that_fits_one_payout_and_suggests_the_ambiguous_one(books):
	assert books["after_plaid"] == {
		"kb-tx-0001": "Reconciled",
		"kb-tx-0003": "Unreconciled",
		"kb-tx-0005": "Unreconciled",
	}
	entries = payout_entries(books["names"]["shopify"])
	first = bank_transaction("kb-tx-0001")
	assert [
		(r.payment_document, r.payment_entry, money(r.allocated_amount)) for r in first.payment_entries
	] == [("Journal Entry", entries["gid://shopify/ShopifyPaymentsPayout/80001"], Decimal("61.82"))]
	[suggestion] = books["suggestions_after_plaid"]
	assert suggestion["bank_transaction"] == bank_transaction("kb-tx-0003").name
	assert suggestion["candidates"] == [
		entries["gid://shopify/ShopifyPaymentsPayout/80002"],
		entries["gid://shopify/ShopifyPaymentsPayout/80003"],
	]
	remarks = frappe.get_doc("Kraal Sync Log", books["logs"]["plaid"]).as_json()
	assert "1 reconciled with their payout or settlement, 1 with a choice to make" in remarks


def test_a_settlement_run_reconciles_the_amazon_deposit(books):
	settlement = frappe.db.get_value(
		"Kraal External Link",
		{
			"integration": books["names"]["amazon"],
			"external_type": amazon_mapping.SETTLEMENTS,
			"external_id": USD_SETTLEMENT,
		},
		"reference_name",
	)
	deposit = bank_transaction("kb-tx-0005")
	assert deposit.status == "Reconciled"
	assert [(r.payment_entry, money(r.allocated_amount)) for r in deposit.payment_entries] == [
		(settlement, Decimal("22.66"))
	]
	# Neither the service fee nor the customer's wire is anyone's deposit.
	assert {bank_transaction(t).status for t in ("kb-tx-0002", "kb-tx-0004")} == {"Unreconciled"}
	assert latest_log(books["names"]["amazon"]).status == "Success"


def test_what_the_bank_has_not_shown_is_listed_and_a_chosen_suggestion_reconciles(books):
	entries = payout_entries(books["names"]["shopify"])
	second, third = (entries[f"gid://shopify/ShopifyPaymentsPayout/{n}"] for n in ("80002", "80003"))
	ambiguous = bank_transaction("kb-tx-0003").name
	listed = deposits.deposits_not_in_bank(COMPANY)
	assert [
		(r["journal_entry"], r["currency"], r["amount"], r["suggested_for"])
		for r in listed
		if r["currency"] == "USD"
	] == [
		(second, "USD", 43.73, [ambiguous]),
		(third, "USD", 43.73, [ambiguous]),
	]
	# The CAD settlement went to the CAD clearing account, which no bank feed of the company shows.
	assert [(r["currency"], r["amount"]) for r in listed if r["currency"] != "USD"] == [("CAD", 62.56)]

	deposits.accept_suggestion(ambiguous, third)
	assert bank_transaction("kb-tx-0003").status == "Reconciled"
	assert [r["journal_entry"] for r in deposits.deposits_not_in_bank(COMPANY) if r["currency"] == "USD"] == [
		second
	]
	assert deposits.deposit_suggestions(COMPANY) == []

	# A deposit a person enters by hand is matched too: the last payout is unique now.
	by_hand = frappe.get_doc(
		{
			"doctype": "Bank Transaction",
			"date": "2026-10-12",
			"bank_account": books["bank_account"],
			"company": COMPANY,
			"currency": "USD",
			"deposit": 43.73,
			"description": "Shopify payout, entered from the statement",
		}
	).insert()
	by_hand.submit()
	assert deposits.match_now(COMPANY) == {"reconciled": 1, "suggestions": 0}
	by_hand.reload()
	assert (by_hand.status, [r.payment_entry for r in by_hand.payment_entries]) == ("Reconciled", [second])
	assert [r["currency"] for r in deposits.deposits_not_in_bank(COMPANY)] == ["CAD"]


def test_a_second_run_books_no_payout_twice(books):
	before = payout_entries(books["names"]["shopify"])
	log = frappe.get_doc("Kraal Sync Log", run_integration(books["names"]["shopify"], "Manual"))
	# Only the last payout comes again (issued_at from the mark on), and the writer skips it unchanged.
	assert counts(log)[shopify_mapping.PAYOUTS] == (1, 0, 0, 0, 1, 0)
	assert payout_entries(books["names"]["shopify"]) == before
	assert (
		frappe.db.count(
			"Journal Entry", {"company": COMPANY, "cheque_no": ("in", ["80001", "80002", "80003"])}
		)
		== 3
	)


def test_only_who_may_read_the_books_sees_the_deposits(books):
	clerk = ensure_user("kraal-deposits-stock@example.com", "Stock User", "Stock Clerk")
	frappe.set_user(clerk)
	try:
		for method in (deposits.deposits_not_in_bank, deposits.deposit_suggestions):
			with pytest.raises(frappe.PermissionError):
				method(COMPANY)
		with pytest.raises(frappe.PermissionError):
			deposits.accept_suggestion(bank_transaction("kb-tx-0004").name, "ACC-JV-NONE")
	finally:
		frappe.set_user("Administrator")


def test_discover_lists_what_the_payouts_book_to_once_they_are_switched_on(books):
	name = shopify_helpers.connect_store(books["store"].emulator.url, company=COMPANY, abbr=ABBR)
	try:
		assert discovery.discover(frappe.get_doc("Kraal Integration", name))["new"] == []
		only_entity(name, shopify_mapping.PAYOUTS)
		found = discovery.discover(frappe.get_doc("Kraal Integration", name))
		assert sorted(found["new"]) == [
			"Shopify Payout Bank: Shopify Payments payouts in USD",
			"Shopify Payout Type: Shopify Payments adjustment",
			"Shopify Payout Type: Shopify Payments dispute",
			"Shopify Payout Type: Shopify Payments fees",
		]
	finally:
		shopify_helpers.purge_integration(name)
