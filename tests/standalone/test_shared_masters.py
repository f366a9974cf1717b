"""Masters several companies or integrations share: matched, merged per company, never wiped."""

from kraal_connect.engine import shared_masters
from kraal_connect.engine.compare import differences

SCHEMA = {
	"Item": {
		"item_name": ("Data", ""),
		"item_defaults": ("Table", "Item Default"),
		"attributes": ("Table", "Item Variant Attribute"),
	},
	"Item Default": {
		"company": ("Link", "Company"),
		"income_account": ("Link", "Account"),
		"default_warehouse": ("Link", "Warehouse"),
	},
	"Item Variant Attribute": {"attribute": ("Link", ""), "attribute_value": ("Data", "")},
}
TABLES = {"item_defaults": "Item Default", "attributes": "Item Variant Attribute"}


def schema(doctype):
	return SCHEMA.get(doctype, {})


def company_keyed(child):
	return "company" in schema(child)


def same(child):
	return lambda row, new: not differences(child, row, new, schema)


OTHER = {"company": "Other Co", "income_account": "Sales - OC", "default_warehouse": "Stores - OC"}
OURS = {"company": "Kraal Co", "income_account": "Sales - KC", "default_warehouse": "Stores - KC"}


def test_another_companys_item_defaults_survive_ours_being_written():
	plan = shared_masters.merged_rows([OTHER], [OURS], True, same("Item Default"))
	assert plan == [0, OURS]


def test_our_companys_row_is_replaced_and_the_others_kept_in_place():
	changed = {**OURS, "income_account": "Services - KC"}
	plan = shared_masters.merged_rows([OTHER, OURS], [changed], True, same("Item Default"))
	assert plan == [0, changed]


def test_a_table_already_holding_the_rows_is_left_alone():
	assert shared_masters.merged_rows([OTHER, OURS], [OURS], True, same("Item Default")) is None
	rows = [{"attribute": "Size", "attribute_value": "M"}]
	# ERPNext refuses any rewrite of a stocked template's attributes, even to the same values.
	assert shared_masters.merged_rows(rows, [dict(rows[0])], False, same("Item Variant Attribute")) is None


def test_a_table_without_companies_is_replaced_when_it_differs():
	rows = [{"attribute": "Size", "attribute_value": "M"}]
	new = [{"attribute": "Size", "attribute_value": "L"}]
	assert shared_masters.merged_rows(rows, new, False, same("Item Variant Attribute")) == new


def test_comparing_reads_only_the_records_company_rows():
	current = {"item_name": "Mug", "item_defaults": [OTHER, OURS]}
	assert differences("Item", current, {"item_name": "Mug", "item_defaults": [OURS]}, schema) == []
	moved = {**OURS, "default_warehouse": "Shop - KC"}
	assert differences("Item", current, {"item_defaults": [moved]}, schema) == [
		"item_defaults[1].default_warehouse"
	]


def test_a_matched_master_takes_only_its_companys_rows_from_the_record():
	mapped = {
		"doctype": "Item",
		"item_code": "MUG",
		"item_name": "Renamed by the second store",
		"attributes": [{"attribute": "Size"}],
		"item_defaults": [OURS],
	}
	assert shared_masters.owned_part(mapped, TABLES, company_keyed) == {
		"doctype": "Item",
		"item_defaults": [OURS],
	}


def test_a_separate_record_gets_a_distinct_name():
	supplier = {"doctype": "Supplier", "supplier_name": "Acme", "supplier_group": "All"}
	assert (
		shared_masters.with_distinct_name(supplier, "QuickBooks 2")["supplier_name"] == "Acme (QuickBooks 2)"
	)
	item = {"doctype": "Item", "item_code": "MUG", "item_name": "MUG"}
	assert shared_masters.with_distinct_name(item, "Store 2") == {
		"doctype": "Item",
		"item_code": "MUG (Store 2)",
		"item_name": "MUG (Store 2)",
	}


def test_the_value_a_master_is_known_by():
	assert shared_masters.naming_value({"doctype": "Customer", "customer_name": " Ana "}) == "Ana"
	assert shared_masters.naming_value({"doctype": "Item", "item_code": "SKU-1"}) == "SKU-1"
	assert shared_masters.naming_value({"doctype": "Sales Invoice", "customer": "Ana"}) is None


def test_the_fields_a_shared_record_is_found_by():
	price = {
		"doctype": "Item Price",
		"item_code": "MUG",
		"price_list": "Standard Selling",
		"price_list_rate": 9,
	}
	assert shared_masters.natural_key(price) == {"item_code": "MUG", "price_list": "Standard Selling"}
	assert shared_masters.natural_key({**price, "price_list": ""}) is None
	assert shared_masters.natural_key({"doctype": "Supplier", "supplier_name": "Acme"}) == {
		"supplier_name": "Acme"
	}
	assert shared_masters.natural_key({"doctype": "Sales Invoice", "customer": "Ana"}) is None
