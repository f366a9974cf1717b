"""A record names every mapping it misses at once, through the engine and through real mappers."""

import pytest

from kraal_connect.connectors.amazon import mapping as amazon
from kraal_connect.connectors.fields import mapped
from kraal_connect.engine import missing_mappings
from kraal_connect.engine.errors import MissingMappingError, PageLost
from kraal_connect.engine.records import Change, Stream
from kraal_connect.engine.stats import RunStats
from kraal_connect.engine.sync import apply_change
from tests.standalone.amazon_support import context as amazon_context
from tests.standalone.memory_store import MemoryStore

ACCOUNTS = {"fees": "Fees - KTC"}


def three_lookups(record, ctx):
	return {
		"doctype": "Row",
		"fee": mapped(ctx, "Fee", record["fee"], f"row {record['id']}"),
		"tax": mapped(ctx, "Tax", record["tax"], f"row {record['id']}"),
		"ship": mapped(ctx, "Shipping", record["ship"], f"row {record['id']}"),
		"docstatus": 1,
	}


def test_outside_the_engine_the_first_missing_key_raises_at_once():
	with pytest.raises(MissingMappingError) as raised:
		three_lookups({"id": 1, "fee": "fees", "tax": "NY", "ship": "UPS"}, ACCOUNTS)
	assert raised.value.keys == (("Tax", "NY"),)
	assert str(raised.value) == "row 1: no Tax mapping for 'NY'; add it under Kraal Account Mapping"


def test_collecting_names_every_missing_key_in_the_order_met():
	with pytest.raises(MissingMappingError) as raised, missing_mappings.collect():
		three_lookups({"id": 1, "fee": "other", "tax": "NY", "ship": "UPS"}, ACCOUNTS)
	assert raised.value.keys == (("Fee", "other"), ("Tax", "NY"), ("Shipping", "UPS"))
	assert (raised.value.mapping_type, raised.value.key) == ("Fee", "other")
	assert str(raised.value) == (
		"row 1: no mapping for Fee 'other', Tax 'NY', Shipping 'UPS'; add them under Kraal Account Mapping"
	)


def test_a_key_met_twice_is_named_once_and_a_fully_mapped_record_passes():
	with pytest.raises(MissingMappingError) as raised, missing_mappings.collect():
		three_lookups({"id": 2, "fee": "fees", "tax": "NY", "ship": "NY"}, {**ACCOUNTS, "UPS": "x"})
	assert raised.value.keys == (("Tax", "NY"), ("Shipping", "NY"))
	with missing_mappings.collect():
		doc = three_lookups({"id": 3, "fee": "fees", "tax": "fees", "ship": "fees"}, ACCOUNTS)
	assert doc["tax"] == "Fees - KTC"


def test_a_mapper_that_trips_over_a_stand_in_fails_with_the_missing_keys():
	def trips(record, ctx):
		account = mapped(ctx, "Fee", record["fee"], "row 4")
		return {"currency": {"Fees - KTC": "USD"}[account]}  # KeyError on the stand-in

	with pytest.raises(MissingMappingError) as raised, missing_mappings.collect():
		trips({"fee": "other"}, ACCOUNTS)
	assert raised.value.keys == (("Fee", "other"),)
	assert isinstance(raised.value.__cause__, KeyError)


def test_a_lost_page_is_not_taken_for_the_records_fault():
	def loses_the_page(record, ctx):
		mapped(ctx, "Fee", "other", "row 5")
		raise PageLost("deadlock")

	with pytest.raises(PageLost), missing_mappings.collect():
		loses_the_page({}, ACCOUNTS)


def test_the_engine_keeps_every_key_with_the_failure():
	store, stats = MemoryStore(), RunStats()
	stream = Stream("row", lambda cursor: None, three_lookups)
	change = Change("r1", {"id": 1, "fee": "other", "tax": "NY", "ship": "UPS"})
	apply_change(stream, change, store, ACCOUNTS, stats)
	(failure,) = stats.failures
	assert failure.mappings == (("Fee", "other"), ("Tax", "NY"), ("Shipping", "UPS"))
	assert failure.mapping == ("Fee", "other")
	assert "Tax 'NY'" in failure.message and store.live("row") == {}
	assert stats.counts["row"].failed == 1


def test_an_amazon_order_names_its_marketplace_warehouse_and_every_charge():
	order = {
		"AmazonOrderId": "111-1",
		"OrderStatus": "Shipped",
		"SalesChannel": "Amazon.de",
		"FulfillmentChannel": "MFN",
		"PurchaseDate": "2026-10-02T14:05:11Z",
		"OrderTotal": {"CurrencyCode": "USD", "Amount": "26.00"},
		"OrderItems": [
			{
				"OrderItemId": "1",
				"SellerSKU": "KR-MUG-001",
				"ASIN": "B0KRAAL001",
				"QuantityOrdered": 1,
				"ItemPrice": {"CurrencyCode": "USD", "Amount": "20.00"},
				"ShippingPrice": {"CurrencyCode": "USD", "Amount": "4.00"},
				"ItemTax": {"CurrencyCode": "USD", "Amount": "2.00"},
			}
		],
	}
	ctx = amazon_context(warehouses={"AFN": "Amazon FBA - KTC"}, charge_accounts={})
	with pytest.raises(MissingMappingError) as raised, missing_mappings.collect():
		amazon.order_documents(order, ctx)
	assert raised.value.keys == (
		(amazon.MARKETPLACE, "Amazon.de"),
		(amazon.FULFILMENT, "MFN"),
		(amazon.ORDER_CHARGE, "ShippingPrice"),
		(amazon.ORDER_CHARGE, "ItemTax"),
	)
