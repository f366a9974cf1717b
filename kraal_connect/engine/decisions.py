"""What the writer does with a record's document: one pure function of the link, the incoming
version, the written document's state and what holds it. The site writer and the standalone suite's
store both call it, so CI tests the code that decides."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Kraal External Link.external_version of a record the source deleted.
DELETED = "deleted"
# Kraal Integration.conflict_rule values: what a change at the source does to a document a person
# changed in ERPNext since the last sync. Any other rule (or none) lets the source win.
HOLD_FOR_REVIEW = "Hold for Review"
ERPNEXT_WINS = "ERPNext Wins"

INSERT = "insert"  # nothing written yet
SKIP = "skip"  # this version was written already, or ERPNext's side wins
RELINK = "relink"  # a new version that maps to what is written: only the link learns the version
UPDATE = "update"  # a draft or master saved in place
AMEND = "amend"  # a submitted (or cancelled) document cancelled and amended
CANCEL = "cancel"  # the source cancelled or deleted the record
CONFLICT = "conflict"  # both sides changed it; held for a person
LOCKED = "locked"  # what holds the document (a payment, a closed period) forbids the change

# The outcome a record's Sync Log counts for each action that writes.
OUTCOME = {INSERT: "created", UPDATE: "updated", AMEND: "updated", CANCEL: "cancelled", RELINK: "skipped"}


@dataclass(frozen=True)
class Written:
	"""The document a record's External Link points to, as far as the decision needs it. The site
	passes an object with these attributes that loads the document only when one is read; decide()
	reads them in the order that asks least (the version before the document)."""

	version: str  # the source version last written (DELETED once the source deleted it)
	docstatus: int
	# The mapped fields whose values differ from the document's (engine/compare.py).
	differences: Sequence[str] = ()
	# A person saved the document after the engine last wrote it.
	changed_locally: bool = False


@dataclass(frozen=True)
class Decision:
	action: str
	# For CONFLICT and LOCKED: why the document stays as it is, in the user's words.
	reason: str = ""
	holders: Sequence[str] = field(default=())


def decide(
	incoming_version: str,
	written: Written | None,
	*,
	cancel: bool = False,
	conflict_rule: str | None = None,
	lock_reasons: Callable[[], Sequence[str]] = tuple,
	force: bool = False,
) -> Decision:
	"""The action for one document of a record.

	cancel: the source cancelled or deleted the record. lock_reasons is asked only when the action
	would cancel or amend a submitted document (it reads payments and periods). force applies the
	source's version over a conflict or a lock, as a person may choose; ERPNext's own validations
	still decide whether it can be done.
	"""
	if cancel:
		if written is None or written.version in (incoming_version, DELETED) or written.docstatus == 2:
			return Decision(SKIP)
		return _unless_locked(CANCEL, written, lock_reasons, force)
	if written is None:
		return Decision(INSERT)
	if written.version == incoming_version:
		return Decision(SKIP)
	if written.docstatus != 2 and not written.differences:
		return Decision(RELINK)
	# What holds a posted document is said first: a person's change on top of it does not free it.
	if (
		written.docstatus == 1
		and (locked := _unless_locked(AMEND, written, lock_reasons, force)).action == LOCKED
	):
		return locked
	if written.changed_locally and not force:
		if conflict_rule == ERPNEXT_WINS:
			return Decision(SKIP)  # the person's change is on its way to the vendor through its push
		if conflict_rule == HOLD_FOR_REVIEW:
			return Decision(
				CONFLICT,
				"changed in ERPNext and at the source since the last sync; held for review "
				f"(the source changed {_listed(written.differences)})",
			)
	return Decision(UPDATE if written.docstatus == 0 else AMEND)


def _unless_locked(action: str, written: Written, lock_reasons, force: bool) -> Decision:
	# Only a submitted document has posted anything a payment, a reconciliation or a period can hold.
	holders = () if force or written.docstatus != 1 else tuple(lock_reasons())
	if not holders:
		return Decision(action)
	change = "cancelled it" if action == CANCEL else f"changed {_listed(written.differences)}"
	return Decision(LOCKED, f"{'; '.join(holders)}. The source {change}; the document was kept", holders)


def _listed(fields: Sequence[str], most: int = 8) -> str:
	shown = ", ".join(fields[:most])
	return shown + (f" and {len(fields) - most} more" if len(fields) > most else "") if fields else "it"
