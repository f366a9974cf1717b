from datetime import datetime

import pytest

from kraal_connect.engine.schedule import is_due

NOW = datetime(2026, 11, 20, 10, 0)


@pytest.mark.parametrize(
	("frequency", "last", "due"),
	[
		("Every 15 Minutes", None, True),
		("Every 15 Minutes", datetime(2026, 11, 20, 9, 45), True),
		("Every 15 Minutes", datetime(2026, 11, 20, 9, 46, 30), True),  # cron fired a little early
		("Every 15 Minutes", datetime(2026, 11, 20, 9, 55), False),
		("Hourly", datetime(2026, 11, 20, 9, 15), False),
		("Hourly", datetime(2026, 11, 20, 9, 0), True),
		("Daily", datetime(2026, 11, 19, 11, 0), False),
		("Daily", datetime(2026, 11, 19, 9, 0), True),
	],
)
def test_interval_frequencies(frequency, last, due):
	assert is_due(frequency, last, NOW) is due


def test_last_day_of_month_runs_once_on_that_day():
	assert is_due("Last Day of Month", datetime(2026, 10, 31, 0, 5), NOW) is False
	month_end = datetime(2026, 11, 30, 0, 15)
	assert is_due("Last Day of Month", datetime(2026, 10, 31, 0, 5), month_end) is True
	assert is_due("Last Day of Month", datetime(2026, 11, 30, 0, 0), month_end) is False
	assert is_due("Last Day of Month", None, datetime(2028, 2, 29, 1, 0)) is True


def test_unknown_frequency_is_an_error():
	with pytest.raises(ValueError, match="Weekly"):
		is_due("Weekly", None, NOW)
