"""The writer's decision table: the function the site writer and the standalone store both call."""

import pytest

from kraal_connect.engine import decisions as d
from kraal_connect.engine.decisions import Written, decide

PAID = ["Sales Invoice SINV-1 is paid or partly paid by Payment Entry PE-1"]


def never_asked():
	raise AssertionError("lock facts were read for a decision that does not need them")


def written(version="v1", docstatus=1, differences=("grand_total",), changed_locally=False):
	return Written(version, docstatus, differences, changed_locally)


@pytest.mark.parametrize(
	("incoming", "state", "options", "action"),
	[
		# nothing written yet
		("v1", None, {}, d.INSERT),
		("v1", None, {"cancel": True}, d.SKIP),
		# this version was written already
		("v1", written("v1"), {}, d.SKIP),
		# a new version that maps to the same document (a timestamp moved): only the link learns it
		("v2", written(differences=()), {}, d.RELINK),
		# a draft or master changes in place; a submitted one is amended
		("v2", written(docstatus=0), {}, d.UPDATE),
		("v2", written(docstatus=1), {}, d.AMEND),
		# the source sent a record it had cancelled before again: amended from the cancelled one
		("v2", written(docstatus=2, differences=()), {}, d.AMEND),
		# cancellations
		("v2", written(), {"cancel": True}, d.CANCEL),
		("v2", written(docstatus=2), {"cancel": True}, d.SKIP),
		("v2", written(version=d.DELETED), {"cancel": True}, d.SKIP),
		# both sides changed: the integration's rule decides
		("v2", written(changed_locally=True), {"conflict_rule": d.HOLD_FOR_REVIEW}, d.CONFLICT),
		("v2", written(changed_locally=True), {"conflict_rule": d.ERPNEXT_WINS}, d.SKIP),
		("v2", written(changed_locally=True), {"conflict_rule": "QuickBooks Wins"}, d.AMEND),
		("v2", written(changed_locally=True), {"conflict_rule": d.HOLD_FOR_REVIEW, "force": True}, d.AMEND),
		# an unchanged document is never a conflict, whoever touched it
		("v2", written(differences=(), changed_locally=True), {"conflict_rule": d.HOLD_FOR_REVIEW}, d.RELINK),
	],
)
def test_decision_table_when_nothing_holds_the_document(incoming, state, options, action):
	assert decide(incoming, state, lock_reasons=tuple, **options).action == action


@pytest.mark.parametrize(
	("state", "options"),
	[
		(written(version="v1"), {}),
		(written(differences=()), {}),
		(written(docstatus=0), {}),
		(written(docstatus=2), {"cancel": True}),
		(None, {}),
	],
)
def test_lock_facts_are_read_only_when_a_submitted_document_would_be_cancelled_or_amended(state, options):
	decide(
		"v1" if state is None else "v2" if state.version != "v1" else "v1",
		state,
		lock_reasons=never_asked,
		**options,
	)


def test_what_holds_a_submitted_document_keeps_it_and_says_why_and_what_changed():
	decision = decide("v2", written(differences=("items[1].rate", "grand_total")), lock_reasons=lambda: PAID)
	assert decision.action == d.LOCKED
	assert decision.holders == tuple(PAID)
	assert decision.reason == (
		"Sales Invoice SINV-1 is paid or partly paid by Payment Entry PE-1. "
		"The source changed items[1].rate, grand_total; the document was kept"
	)


def test_what_holds_it_is_named_before_a_persons_change_on_top_of_it():
	decision = decide(
		"v2",
		written(changed_locally=True),
		conflict_rule=d.HOLD_FOR_REVIEW,
		lock_reasons=lambda: ["Bank Transaction BT-1 is reconciled against Journal Entry JV-1"],
	)
	assert (decision.action, decision.reason.startswith("Bank Transaction BT-1 is reconciled")) == (
		d.LOCKED,
		True,
	)


def test_a_cancellation_at_the_source_is_held_too():
	decision = decide("v2", written(), cancel=True, lock_reasons=lambda: PAID)
	assert (decision.action, decision.reason.endswith("The source cancelled it; the document was kept")) == (
		d.LOCKED,
		True,
	)


def test_a_person_may_apply_the_source_version_over_a_lock():
	assert decide("v2", written(), lock_reasons=lambda: PAID, force=True).action == d.AMEND
	assert decide("v2", written(), cancel=True, lock_reasons=lambda: PAID, force=True).action == d.CANCEL


def test_a_long_list_of_changed_fields_is_shortened():
	many = tuple(f"field_{i}" for i in range(12))
	reason = decide("v2", written(differences=many), lock_reasons=lambda: PAID).reason
	assert "field_7 and 4 more" in reason


class LoadsOnDemand:
	"""Like the site's LinkedDocument: reading the document is what costs; the test counts it."""

	def __init__(self, version):
		self.version = version
		self.loaded = []

	def __getattr__(self, name):
		self.loaded.append(name)
		return {"docstatus": 1, "differences": (), "changed_locally": False}[name]


def test_an_unchanged_version_is_decided_without_loading_the_document():
	same = LoadsOnDemand("v1")
	assert (decide("v1", same).action, same.loaded) == (d.SKIP, [])
	gone = LoadsOnDemand(d.DELETED)
	assert (decide("v2", gone, cancel=True).action, gone.loaded) == (d.SKIP, [])
	bumped = LoadsOnDemand("v1")
	assert (decide("v2", bumped).action, bumped.loaded) == (d.RELINK, ["docstatus", "differences"])
