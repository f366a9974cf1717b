"""How a long run's records are shared among workers: stages and each worker's next step."""

from kraal_connect.connectors.amazon import streams as amazon
from kraal_connect.connectors.qbo import streams as qbo
from kraal_connect.connectors.shopify import streams as shopify
from kraal_connect.engine import fanout
from kraal_connect.engine.fanout import ALONE, CLAIM, DONE, WAIT


def test_an_entity_waits_for_every_entity_it_is_written_after_and_no_more():
	plan = fanout.stages(["a", "b", "c", "d"], {"c": ("a",), "d": ("b", "c")})
	assert plan == [("a", "b"), ("c",), ("d",)]


def test_an_entity_written_after_one_the_run_does_not_sync_waits_for_nothing_on_its_account():
	assert fanout.stages(["orders", "payouts"], {"orders": ("products",), "payouts": ("orders",)}) == [
		("orders",),
		("payouts",),
	]


def test_an_entity_the_run_does_not_sync_still_passes_its_own_order_on():
	written_after = {"credit_memo": ("invoice",), "payment": ("credit_memo",)}
	assert fanout.stages(["invoice", "payment"], written_after) == [("invoice",), ("payment",)]
	# A QuickBooks company with no credit memos and no journal entries: payments still wait for invoices.
	present = [e for e in qbo.MIGRATION_ORDER if e not in ("credit_memo", "journal_entry", "vendor_credit")]
	stage = {e: n for n, group in enumerate(fanout.stages(present, qbo.WRITTEN_AFTER)) for e in group}
	assert stage["invoice"] < stage["payment"] and stage["bill"] < stage["invoice"] < stage["sales_receipt"]
	assert stage["bill"] < stage["bill_payment"]


def test_a_quickbooks_migration_keeps_purchases_before_sales_and_settlements_after_what_they_settle():
	plan = fanout.stages(qbo.MIGRATION_ORDER, qbo.WRITTEN_AFTER)
	stage = {entity: number for number, group in enumerate(plan) for entity in group}
	for before, after in [
		("account", "customer"),
		("term", "customer"),
		("customer", "invoice"),
		("item", "bill"),
		("bill", "vendor_credit"),
		("vendor_credit", "invoice"),
		("invoice", "credit_memo"),
		("credit_memo", "sales_receipt"),
		("invoice", "payment"),
		("credit_memo", "payment"),
		("journal_entry", "payment"),
		("bill", "bill_payment"),
		("journal_entry", "bill_payment"),
		("payment", "deposit"),
		("sales_receipt", "deposit"),
	]:
		assert stage[before] < stage[after], (before, after)
	# Records of different entities that do not name each other share a stage.
	assert stage["account"] == stage["term"]
	assert stage["customer"] == stage["vendor"] == stage["item"]
	assert stage["journal_entry"] == stage["bill"]
	# Every entity of the migration is in the plan, once.
	assert sorted(e for group in plan for e in group) == sorted(qbo.MIGRATION_ORDER)


def test_a_store_backfill_writes_orders_after_their_masters_and_stock_and_payouts_after_orders():
	plan = fanout.stages(shopify.ENTITIES, shopify.WRITTEN_AFTER)
	assert plan == [
		(shopify.PRODUCTS, shopify.CUSTOMERS),
		(shopify.ORDERS,),
		(shopify.INVENTORY, shopify.PAYOUTS),
	]


def test_amazon_entities_keep_the_order_a_run_alone_writes_them_in():
	plan = fanout.stages(amazon.ENTITIES, amazon.WRITTEN_AFTER)
	assert plan == [(entity,) for entity in amazon.ENTITIES]


def test_helpers_are_asked_for_only_when_there_is_enough_to_share():
	assert fanout.helpers_for(queued=10, workers=2) == 0
	assert fanout.helpers_for(queued=fanout.RECORDS_PER_HELPER, workers=2) == 1
	assert fanout.helpers_for(queued=10_000, workers=4) == 3
	assert fanout.helpers_for(queued=10_000, workers=1) == 0


def test_a_worker_claims_while_records_are_free_and_waits_while_others_hold_the_rest():
	assert fanout.next_step(queued=0, free=0, free_given_up=0, is_run=True) == DONE
	assert fanout.next_step(queued=5, free=3, free_given_up=0, is_run=False) == CLAIM
	assert fanout.next_step(queued=5, free=0, free_given_up=0, is_run=True) == WAIT


def test_records_every_worker_gave_up_on_are_written_by_the_run_alone_once_no_one_holds_any():
	# The helper never writes them alone: it waits for the run.
	assert fanout.next_step(queued=2, free=2, free_given_up=2, is_run=False) == WAIT
	# The run waits while another worker still holds one of the stage's records…
	assert fanout.next_step(queued=3, free=2, free_given_up=2, is_run=True) == WAIT
	# …and then writes what is left alone.
	assert fanout.next_step(queued=2, free=2, free_given_up=2, is_run=True) == ALONE
