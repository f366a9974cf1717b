"""Shopify Payments payouts: the emulator pages them and their balance transactions as Shopify does, the
fixture agrees with the orders' payments, and each paid payout maps to one Journal Entry equal to it."""

import json
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest

from kraal_connect.connectors.shopify import authorization, discovery, mapping, payouts, sources, streams
from kraal_connect.engine.errors import MissingMappingError, RecordError
from tests.standalone.shopify_support import DATASET, context, load, order_files

pytest_plugins = ["tests.standalone.shopify_fixtures"]

BANK = "Kookaburra Checking - KTC"
ACCOUNTS = {
	mapping.FEES: "Shopify Fees - KTC",
	"DISPUTE": "Chargebacks - KTC",
	"ADJUSTMENT": "Shopify Adjustments - KTC",
}
CLEARING = "Shopify Payments Clearing - KTC"


def payout_context(**overrides):
	return context(payout_banks={"USD": BANK}, payout_accounts=ACCOUNTS, **overrides)


def fixture_payout(payout_id: str) -> dict:
	"""A payout as the stream gives it: the node with its balance transactions, read from the files."""
	payout = load("payouts", payout_id)
	rows = [
		json.loads(p.read_text())
		for p in sorted((DATASET / "balance_transactions").glob("*.json"))
		if json.loads(p.read_text())["associatedPayout"]["id"] == payout["id"]
	]
	return {**payout, "balanceTransactions": {"nodes": rows}}


def amounts(doc: dict) -> dict[str, Decimal]:
	"""Account -> debit less credit, to the cent."""
	result: dict[str, Decimal] = {}
	for row in doc["accounts"]:
		moved = Decimal(str(row["debit_in_account_currency"])) - Decimal(
			str(row["credit_in_account_currency"])
		)
		result[row["account"]] = result.get(row["account"], Decimal(0)) + moved
	return result


# -- the fixture --------------------------------------------------------------------------------


def test_the_payouts_pay_out_every_settled_shopify_payments_transaction_of_the_orders_once():
	settled = {}
	for path in order_files():
		order = json.loads(path.read_text())
		transactions = list(order["transactions"])
		for refund in order.get("refunds") or []:
			transactions += refund["transactions"]["nodes"]
		for txn in transactions:
			if txn["gateway"] == "shopify_payments" and txn["status"] == "SUCCESS":
				if txn["kind"] in ("SALE", "CAPTURE", "REFUND"):
					sign = -1 if txn["kind"] == "REFUND" else 1
					settled[txn["id"].rsplit("/", 1)[1]] = sign * Decimal(
						txn["amountSet"]["shopMoney"]["amount"]
					)
	paid_out = {}
	for path in sorted((DATASET / "balance_transactions").glob("*.json")):
		row = json.loads(path.read_text())
		if row["sourceOrderTransactionId"]:
			assert row["sourceOrderTransactionId"] not in paid_out
			paid_out[row["sourceOrderTransactionId"]] = Decimal(row["amount"]["amount"])
	assert paid_out == settled


def test_each_payout_is_its_balance_transactions_and_its_summary():
	for path in sorted((DATASET / "payouts").glob("*.json")):
		payout = fixture_payout(path.stem)
		rows = payout["balanceTransactions"]["nodes"]
		net = Decimal(payout["net"]["amount"])
		assert sum(Decimal(r["net"]["amount"]) for r in rows if r["type"] != "TRANSFER") == net
		assert [Decimal(r["amount"]["amount"]) for r in rows if r["type"] == "TRANSFER"] == [-net]
		summary = {k: Decimal(v["amount"]) for k, v in payout["summary"].items()}
		gross = sum(v for k, v in summary.items() if k.endswith("Gross"))
		fees = sum(v for k, v in summary.items() if k.endswith(("Fee", "Fees")))
		assert gross - fees == net


# -- the emulator -------------------------------------------------------------------------------


def test_paid_payouts_come_in_pages_in_the_order_shopify_issued_them(shopify):
	api = shopify.api
	first = payouts.paid_payouts(api, None, None, first=2)
	assert [p["legacyResourceId"] for p in first.nodes] == ["80001", "80002"]
	assert first.has_next_page
	second = payouts.paid_payouts(api, None, first.end_cursor, first=2)
	assert [p["legacyResourceId"] for p in second.nodes] == ["80003"]
	assert not second.has_next_page
	since = payouts.paid_payouts(api, "2026-10-10T12:00:00Z", None)
	assert [p["legacyResourceId"] for p in since.nodes] == ["80002", "80003"]
	assert first.nodes[1]["summary"]["adjustmentsFee"] == {"amount": "15.00", "currencyCode": "USD"}


def test_a_scheduled_payout_is_not_among_the_paid_ones(own_shopify):
	scheduled = load("payouts", "80003", own_shopify.data)
	scheduled.update(
		id="gid://shopify/ShopifyPaymentsPayout/80004", legacyResourceId="80004", status="SCHEDULED"
	)
	(own_shopify.data / "payouts/80004.json").write_text(json.dumps(scheduled))
	found = payouts.paid_payouts(own_shopify.api, None, None)
	assert [p["legacyResourceId"] for p in found.nodes] == ["80001", "80002", "80003"]


def test_a_payouts_balance_transactions_are_read_through_every_page(shopify, monkeypatch):
	monkeypatch.setattr(payouts, "TRANSACTION_PAGE", 2)
	payout = payouts.paid_payouts(shopify.api, None, None).nodes[2]
	rows = payouts.payout_transactions(shopify.api, payout)
	assert sorted(r["id"].rsplit("/", 1)[1] for r in rows) == ["90031", "90032", "90033", "90034", "90039"]
	operations = [r.get("operation") for r in shopify.emulator.requests if r.get("operation")]
	assert operations.count("KraalPayoutTransactions") == 3  # 2 + 2 + 1
	assert {r["associatedPayout"]["id"] for r in rows} == {payout["id"]}
	refund = next(r for r in rows if r["id"].endswith("/90032"))
	assert (refund["type"], refund["sourceOrderTransactionId"], refund["associatedOrder"]["name"]) == (
		"REFUND",
		"60022",
		"#1002",
	)


def test_a_store_without_shopify_payments_has_no_payouts(own_shopify):
	(own_shopify.data / "payments_account.json").unlink()
	with pytest.raises(Exception, match="does not use Shopify Payments"):
		payouts.paid_payouts(own_shopify.api, None, None)


def test_one_payout_is_read_whole_by_its_id(shopify):
	payout = payouts.payout(shopify.api, "gid://shopify/ShopifyPaymentsPayout/80002")
	assert payout["net"]["amount"] == "43.73"
	assert len(payout["balanceTransactions"]["nodes"]) == 4
	assert payouts.payout(shopify.api, "gid://shopify/ShopifyPaymentsPayout/1") is None


def test_the_stream_books_each_paid_payout_once_from_where_it_stopped(shopify):
	stream = streams.payouts_stream(shopify.api)
	page = stream.fetch(None)
	assert [c.external_id.rsplit("/", 1)[1] for c in page.changes] == ["80001", "80002", "80003"]
	assert not page.has_more
	assert all(c.record["balanceTransactions"]["nodes"] for c in page.changes)
	# The next run asks from the last payout's issue on: only that one comes again (the writer skips it).
	again = stream.fetch(page.next_cursor)
	assert [c.external_id.rsplit("/", 1)[1] for c in again.changes] == ["80003"]
	assert again.changes[0].fingerprint == page.changes[2].fingerprint


# -- the mapper ---------------------------------------------------------------------------------


def test_a_payout_with_fees_a_chargeback_and_an_adjustment_is_one_entry_equal_to_the_payout():
	doc = mapping.payout_journal_entry(fixture_payout("80002"), payout_context())
	assert (doc["doctype"], doc["docstatus"], doc["voucher_type"]) == ("Journal Entry", 1, "Bank Entry")
	assert (doc["posting_date"], doc["cheque_no"], doc["cheque_date"]) == (
		"2026-10-10",
		"80002",
		"2026-10-10",
	)
	assert amounts(doc) == {
		BANK: Decimal("43.73"),
		CLEARING: Decimal("-84.63"),
		ACCOUNTS[mapping.FEES]: Decimal("17.75"),
		ACCOUNTS["DISPUTE"]: Decimal("20.15"),
		ACCOUNTS["ADJUSTMENT"]: Decimal("3.00"),
	}
	assert sum(amounts(doc).values()) == 0


def test_refunds_paid_out_take_their_money_back_out_of_the_clearing_account():
	doc = mapping.payout_journal_entry(fixture_payout("80003"), payout_context())
	assert amounts(doc) == {
		BANK: Decimal("43.73"),
		CLEARING: Decimal("-47.57"),  # 67.10 + 44.49 charged, 19.53 + 44.49 refunded
		ACCOUNTS[mapping.FEES]: Decimal("3.84"),
	}


def test_every_fixture_payout_books_its_net_to_the_bank():
	for path in sorted((DATASET / "payouts").glob("*.json")):
		payout = fixture_payout(path.stem)
		doc = mapping.payout_journal_entry(payout, payout_context())
		assert amounts(doc)[BANK] == Decimal(payout["net"]["amount"])


def test_a_payout_not_yet_paid_books_nothing():
	payout = {**fixture_payout("80001"), "status": "SCHEDULED"}
	assert mapping.payout_journal_entry(payout, payout_context()) is None


def test_a_withdrawal_takes_the_money_from_the_bank():
	payout = fixture_payout("80001")
	rows = payout["balanceTransactions"]["nodes"]
	refund = {
		**rows[0],
		"id": "gid://shopify/ShopifyPaymentsBalanceTransaction/1",
		"type": "REFUND",
		"amount": {"amount": "-63.98", "currencyCode": "USD"},
		"fee": {"amount": "0.00", "currencyCode": "USD"},
		"net": {"amount": "-63.98", "currencyCode": "USD"},
	}
	payout = {
		**payout,
		"transactionType": "WITHDRAWAL",
		"net": {"amount": "63.98", "currencyCode": "USD"},
		"balanceTransactions": {"nodes": [refund]},
	}
	doc = mapping.payout_journal_entry(payout, payout_context())
	assert amounts(doc) == {BANK: Decimal("-63.98"), CLEARING: Decimal("63.98")}


def test_transactions_that_do_not_add_up_to_the_payout_are_refused():
	payout = fixture_payout("80002")
	payout["net"] = {"amount": "43.74", "currencyCode": "USD"}
	with pytest.raises(RecordError, match=re.escape("add up to 43.73 USD, not the payout's 43.74")):
		mapping.payout_journal_entry(payout, payout_context())


def test_a_payout_in_another_currency_than_the_books_is_refused_by_name():
	payout = fixture_payout("80001")
	payout["net"] = {"amount": "61.82", "currencyCode": "EUR"}
	with pytest.raises(RecordError, match=re.escape("net.currencyCode' is EUR")):
		mapping.payout_journal_entry(payout, payout_context())


def test_every_missing_mapping_is_named():
	with pytest.raises(MissingMappingError) as missing:
		mapping.payout_journal_entry(fixture_payout("80002"), context())
	assert (missing.value.mapping_type, missing.value.key) == (mapping.PAYOUT_BANK, "USD")


def test_a_payouts_journal_entry_opens_the_payout_in_the_shopify_admin():
	url = sources.admin_url(
		"kraal-outfitters.myshopify.com", mapping.PAYOUTS, "gid://shopify/ShopifyPaymentsPayout/80002"
	)
	assert url == "https://admin.shopify.com/store/kraal-outfitters/payments/payouts/80002"


def test_payouts_switched_on_ask_for_shopifys_payouts_scope():
	rows = [SimpleNamespace(entity=e, enabled=e in ("order", mapping.PAYOUTS)) for e in streams.ENTITIES]
	integration = SimpleNamespace(entities=rows, inventory_source="Shopify", granted_scopes="")
	needs = authorization.needed_scopes(integration)
	assert needs[mapping.PAYOUTS] == ("read_shopify_payments_payouts",)
	assert "read_shopify_payments_payouts" in authorization.scope_request(needs)


def test_balance_transactions_are_searched_and_transfers_hidden_as_shopify_does(shopify):
	query = (
		"query($q: String, $hide: Boolean) { shopifyPaymentsAccount {"
		" balanceTransactions(first: 50, query: $q, hideTransfers: $hide) { nodes { id type } } } }"
	)

	def ids(q=None, hide=False):
		data = shopify.api.execute(query, {"q": q, "hide": hide})
		return sorted(
			n["id"].rsplit("/", 1)[1] for n in data["shopifyPaymentsAccount"]["balanceTransactions"]["nodes"]
		)

	assert ids("payments_transfer_id:80002") == ["90021", "90022", "90023", "90029"]
	assert ids("payments_transfer_id:80002", hide=True) == ["90021", "90022", "90023"]
	assert ids("transaction_type:dispute") == ["90022"]
	assert ids("processed_at:>='2026-10-13T00:00:00Z'") == ["90034", "90039"]


def test_discover_names_what_the_payouts_book_to(shopify):
	found = discovery.payout_keys(shopify.api, lambda fn, *a: fn(*a), None)
	keys = {(d.key_type, d.key) for d in found}
	assert keys == {
		(mapping.PAYOUT_BANK, "USD"),
		(mapping.GATEWAY_MAPPING, "shopify_payments"),
		(mapping.PAYOUT_TYPE, mapping.FEES),
		(mapping.PAYOUT_TYPE, "DISPUTE"),
		(mapping.PAYOUT_TYPE, "ADJUSTMENT"),
	}
	# From Sync From on: the last payout's transactions have no chargeback or adjustment.
	later = discovery.payout_keys(shopify.api, lambda fn, *a: fn(*a), "2026-10-11T00:00:00Z")
	assert {(d.key_type, d.key) for d in later if d.key_type == mapping.PAYOUT_TYPE} == {
		(mapping.PAYOUT_TYPE, mapping.FEES)
	}


def test_a_store_without_payouts_has_nothing_to_discover_for_them(own_shopify):
	for path in (own_shopify.data / "payouts").glob("*.json"):
		path.unlink()
	assert discovery.payout_keys(own_shopify.api, lambda fn, *a: fn(*a), None) == []
