"""A loaded document against a mapped dict, by value: timestamps moving at the vendor write nothing."""

from datetime import date, datetime, timedelta

from kraal_connect.engine.compare import differences, same_value

SCHEMA = {
	"Sales Invoice": {
		"posting_date": ("Date", ""),
		"posting_time": ("Time", ""),
		"set_posting_time": ("Check", ""),
		"grand_total": ("Currency", ""),
		"conversion_rate": ("Float", ""),
		"due": ("Datetime", ""),
		"remarks": ("Small Text", ""),
		"items": ("Table", "Sales Invoice Item"),
	},
	"Sales Invoice Item": {"item_code": ("Link", ""), "qty": ("Float", ""), "rate": ("Currency", "")},
}


def schema(doctype):
	return SCHEMA.get(doctype, {})


LOADED = {
	"posting_date": date(2026, 3, 1),
	"posting_time": timedelta(hours=14, minutes=5, seconds=9),
	"set_posting_time": 1,
	"grand_total": 107.5,
	"conversion_rate": 1.0,
	"due": datetime(2026, 3, 31, 0, 0),
	"remarks": None,
	"items": [{"item_code": "KNIFE", "qty": 2.0, "rate": 53.75, "idx": 1}],
}
MAPPED = {
	"doctype": "Sales Invoice",
	"docstatus": 1,
	"posting_date": "2026-03-01",
	"posting_time": "14:05:09",
	"set_posting_time": True,
	"grand_total": 107.50000000001,
	"conversion_rate": 1,
	"due": "2026-03-31T00:00:00Z",
	"remarks": "",
	"items": [{"item_code": "KNIFE", "qty": 2, "rate": 53.75}],
}


def test_the_same_values_in_other_types_are_the_same():
	assert differences("Sales Invoice", LOADED, MAPPED, schema) == []


def test_each_kind_of_change_is_named():
	changed = {
		**MAPPED,
		"posting_time": "14:05:10",
		"posting_date": "2026-03-02",
		"set_posting_time": False,
		"grand_total": 107.51,
		"items": [{"item_code": "KNIFE", "qty": 2, "rate": 53.76}],
	}
	assert differences("Sales Invoice", LOADED, changed, schema) == [
		"posting_date",
		"posting_time",
		"set_posting_time",
		"grand_total",
		"items[1].rate",
	]


def test_a_row_more_or_less_is_a_difference():
	assert differences("Sales Invoice", LOADED, {**MAPPED, "items": []}, schema) == ["items (1 rows, now 0)"]


def test_without_a_schema_types_are_told_from_the_values():
	assert same_value("", timedelta(hours=1), "01:00:00")
	assert same_value("", date(2026, 1, 2), "2026-01-02")
	assert same_value("", 10, 10.0)
	assert not same_value("", "a", "b")
	assert same_value("", None, "")
