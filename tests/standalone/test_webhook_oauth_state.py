"""The QuickBooks OAuth state: what the callback finds in the store decides whether it may connect
anything, and for whom."""

import pytest

from kraal_connect.engine.oauth_state import OTHER_USER, UNKNOWN, Flow, StateRefused, flow_for

STARTED = Flow("accounts@example.com", "QBO 1")


def test_the_user_who_started_the_flow_gets_its_integration():
	assert flow_for(STARTED.dumps().encode(), "accounts@example.com") == STARTED
	assert flow_for(STARTED.dumps(), "accounts@example.com").integration == "QBO 1"


@pytest.mark.parametrize("stored", [None, b"", ""])
def test_a_state_the_store_no_longer_has_is_refused(stored):
	"""Never issued, taken by an earlier callback, or expired: Redis gives nothing back."""
	with pytest.raises(StateRefused) as refused:
		flow_for(stored, "accounts@example.com")
	assert refused.value.reason == UNKNOWN


@pytest.mark.parametrize("user", ["clerk@example.com", "Guest", "ACCOUNTS@example.com", ""])
def test_a_state_another_user_started_is_refused(user):
	with pytest.raises(StateRefused) as refused:
		flow_for(STARTED.dumps().encode(), user)
	assert refused.value.reason == OTHER_USER
