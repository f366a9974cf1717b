"""An integration's status after a run, what is a new incident, and staleness (engine/health)."""

from datetime import datetime, timedelta

import pytest

from kraal_connect.engine import health
from kraal_connect.engine.health import Incident, after_run, is_stale, review

NOW = datetime(2026, 12, 7, 16, 0)
T1, T2, T3 = "2026-12-07 10:00:00.000001", "2026-12-07 11:00:00.000000", "2026-12-07 12:30:00.250000"


@pytest.mark.parametrize(
	("log_status", "status", "errors", "conflicts", "expected"),
	[
		("Success", "Active", 0, 0, ("Active", True)),
		# A run that failed records (now or earlier, still open) needs someone; it is not clean.
		("Partial", "Active", 2, 0, ("Needs Attention", False)),
		("Success", "Active", 0, 1, ("Needs Attention", False)),  # a conflict an earlier run held
		("Success", "Active", 3, 0, ("Needs Attention", False)),  # a retry run that left others open
		("Partial", "Active", 0, 0, ("Needs Attention", False)),  # an entity stopped after retries
		("Failed", "Error", 0, 0, ("Error", False)),
		("Failed", "Needs Re-authentication", 4, 0, ("Needs Re-authentication", False)),
	],
)
def test_status_after_a_run_and_whether_it_was_clean(log_status, status, errors, conflicts, expected):
	after = after_run(log_status, status, errors, conflicts)
	assert (after.status, after.clean) == expected
	if after.status == "Needs Attention":
		assert (after.open_errors, after.open_conflicts) == (errors, conflicts)


def test_entering_an_alerting_status_is_told_once():
	first = review(Incident(), "Error", [])
	assert first.news == (health.NEW_STATUS,)
	again = review(first.remember, "Error", [])
	assert again.news == ()
	assert again.remember == first.remember
	# Another alerting status is another incident.
	reauth = review(again.remember, "Needs Re-authentication", [])
	assert reauth.news == (health.NEW_STATUS,)


def test_leaving_the_bad_state_makes_the_next_one_new():
	error = review(Incident(), "Error", []).remember
	healthy = review(error, "Active", [])
	assert healthy.news == ()
	assert healthy.remember.status == ""
	assert review(healthy.remember, "Error", []).news == (health.NEW_STATUS,)


def test_needs_attention_and_not_connected_are_no_incident_by_themselves():
	assert review(Incident(), "Needs Attention", []).news == ()
	assert review(Incident(), "Not Connected", []).news == ()


def test_failures_are_told_when_the_open_set_grows_not_at_every_run():
	first = review(Incident(), "Needs Attention", [T1, T2])
	assert (first.news, first.new_failures) == ((health.NEW_FAILURES,), 2)
	assert first.remember.newest_failure == T2
	assert review(first.remember, "Needs Attention", [T1, T2]).news == ()
	# One fixed: nothing new to tell.
	assert review(first.remember, "Needs Attention", [T1]).news == ()
	# One fixed and another new: the set grew by a record nobody was told of.
	grown = review(first.remember, "Needs Attention", [T1, T3])
	assert (grown.news, grown.new_failures) == ((health.NEW_FAILURES,), 1)


def test_all_fixed_then_a_new_failure_is_told():
	told = review(Incident(), "Needs Attention", [T1]).remember
	clean = review(told, "Active", [])
	assert clean.news == ()
	assert clean.remember.newest_failure == T1  # remembered: older records are not told again
	assert review(clean.remember, "Needs Attention", [T3]).news == (health.NEW_FAILURES,)


def test_an_error_that_also_fails_records_is_one_review_with_both():
	result = review(Incident(), "Error", [T1])
	assert result.news == (health.NEW_STATUS, health.NEW_FAILURES)


def test_staleness_is_told_once_per_last_success_and_only_when_checked():
	stale = review(Incident(), "Active", [], stale_since=T1)
	assert stale.news == (health.STALE,)
	assert review(stale.remember, "Needs Attention", [], stale_since=T1).news == ()
	# A run does not check freshness: it keeps what the daily check remembered.
	assert review(stale.remember, "Active", []).remember.stale_since == T1
	fresh = review(stale.remember, "Active", [], stale_since="")
	assert fresh.remember.stale_since == ""
	assert review(fresh.remember, "Active", [], stale_since=T2).news == (health.STALE,)


def test_the_key_survives_its_text_form_and_a_garbled_one_reads_as_nothing_told():
	told = review(Incident(), "Error", [T1], stale_since=T2).remember
	assert Incident.parse(told.dump()) == told
	assert Incident.parse("") == Incident()
	assert Incident.parse(None) == Incident()
	assert Incident.parse("not json") == Incident()


@pytest.mark.parametrize(
	("frequency", "last_success", "stale"),
	[
		("Every 15 Minutes", NOW - timedelta(hours=23), False),  # never sooner than a day
		("Every 15 Minutes", NOW - timedelta(hours=25), True),
		("Hourly", NOW - timedelta(hours=25), True),
		("Daily", NOW - timedelta(days=2), False),
		("Daily", NOW - timedelta(days=3, minutes=1), True),
		("Last Day of Month", NOW - timedelta(days=60), False),
		("Last Day of Month", NOW - timedelta(days=94), True),
	],
)
def test_stale_after_a_multiple_of_the_frequency(frequency, last_success, stale):
	assert is_stale(frequency, last_success, NOW - timedelta(days=365), NOW) is stale


def test_never_synced_cleanly_counts_from_when_it_was_made():
	assert is_stale("Hourly", None, NOW - timedelta(hours=2), NOW) is False
	assert is_stale("Hourly", None, NOW - timedelta(days=2), NOW) is True


def test_text_times_sort_as_the_times_do():
	whole = datetime(2026, 12, 7, 10, 0, 0)
	assert health.as_text(whole) == "2026-12-07 10:00:00.000000"
	assert health.as_text(whole) < health.as_text(whole + timedelta(microseconds=1))
	assert health.as_text(None) == ""
