"""An integration's health, decided without the site: its status after a run, whether what it is in now
is a new incident to tell people of (once, not at every run), and whether it has gone stale.

engine/alerts.py and the runner gather the facts and act on these decisions."""

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta

ACTIVE = "Active"
NOT_CONNECTED = "Not Connected"
NEEDS_ATTENTION = "Needs Attention"
NEEDS_REAUTHENTICATION = "Needs Re-authentication"
ERROR = "Error"
DISCONNECTED = "Disconnected"

# Statuses in which the integration syncs: a run, a webhook's records, a retry, a push. A new
# integration that is Not Connected may run too: its first successful run connects it.
RUNNABLE = (ACTIVE, NEEDS_ATTENTION, ERROR, NOT_CONNECTED)
# Statuses the cron syncs on their own; a Not Connected one waits for a person's first sync, so a
# half-configured integration does not fail every 15 minutes.
SCHEDULED = (ACTIVE, NEEDS_ATTENTION, ERROR)
# Statuses that are an incident by themselves: a person must act before anything syncs.
ALERTING = (NEEDS_REAUTHENTICATION, ERROR)

# What is new in an incident, in the order a notification tells it.
NEW_STATUS, NEW_FAILURES, STALE = "status", "failures", "stale"


@dataclass(frozen=True)
class AfterRun:
	status: str
	# Only a clean run moves Last Successful Sync: it booked everything it read and left nothing open.
	clean: bool
	# Why the integration needs attention when the run itself said nothing (failed records are open).
	open_errors: int = 0
	open_conflicts: int = 0


def after_run(log_status: str, status: str, open_errors: int, open_conflicts: int) -> AfterRun:
	"""The integration's status once a run ends.

	log_status: the Sync Log's (Success, Partial, Failed); status: what the run itself concluded
	(Active, or Needs Re-authentication / Error when it could not go on); open_*: the integration's
	open failed records and conflicts after the run, whichever run failed them.
	"""
	if status != ACTIVE:
		return AfterRun(status, clean=False)
	if open_errors or open_conflicts or log_status != "Success":
		return AfterRun(NEEDS_ATTENTION, False, open_errors, open_conflicts)
	return AfterRun(ACTIVE, clean=True)


@dataclass(frozen=True)
class Incident:
	"""What people were last told of, kept on the integration (its alert_key) between runs."""

	status: str = ""  # the alerting status they were told of; "" once it left it
	newest_failure: str = ""  # first-seen time of the newest open failed record they were told of
	stale_since: str = ""  # the Last Successful Sync a staleness alert named; "" when fresh

	@classmethod
	def parse(cls, key: str | None) -> "Incident":
		try:
			data = json.loads(key or "{}")
		except ValueError:
			return cls()  # unreadable: told of nothing, so the next bad state is told again
		return cls(**{k: str(v or "") for k, v in data.items() if k in cls.__dataclass_fields__})

	def dump(self) -> str:
		return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class Review:
	remember: Incident
	news: tuple[str, ...]  # NEW_STATUS, NEW_FAILURES, STALE: what people are to be told now
	new_failures: int = 0


def review(
	told: Incident, status: str, open_failures_seen: list[str], stale_since: str | None = None
) -> Review:
	"""Compare the integration's state with what people were told of.

	A new incident is: entering an alerting status (or another one), an open failed record newer than
	the newest told of (the set of open failures grew, whatever was fixed meanwhile), or going stale
	since a Last Successful Sync not told of. open_failures_seen: first-seen times of the open failed
	records and conflicts, as sortable text. stale_since: None when not checked (a run); "" when fresh.
	"""
	news = []
	alerting = status if status in ALERTING else ""
	if alerting and alerting != told.status:
		news.append(NEW_STATUS)
	new_failures = [seen for seen in open_failures_seen if seen > told.newest_failure]
	if new_failures:
		news.append(NEW_FAILURES)
	remember = replace(told, status=alerting, newest_failure=max([told.newest_failure, *open_failures_seen]))
	if stale_since is not None:
		if stale_since and stale_since != told.stale_since:
			news.append(STALE)
		remember = replace(remember, stale_since=stale_since)
	return Review(remember, tuple(news), len(new_failures))


# A sync that has not run cleanly for this many of its intervals has gone stale; never sooner than
# STALE_FLOOR, since the daily check would otherwise call a 15-minute integration stale for one
# missed hour.
STALE_INTERVALS = 3
STALE_FLOOR = timedelta(days=1)
_INTERVALS = {
	"Every 15 Minutes": timedelta(minutes=15),
	"Hourly": timedelta(hours=1),
	"Daily": timedelta(days=1),
	"Last Day of Month": timedelta(days=31),
}


def stale_after(frequency: str) -> timedelta:
	return max(STALE_INTERVALS * _INTERVALS[frequency], STALE_FLOOR)


def is_stale(frequency: str, last_success: datetime | None, created: datetime, now: datetime) -> bool:
	"""No clean sync for too long: since the last one, or since the integration was made."""
	return now - (last_success or created) > stale_after(frequency)


def as_text(moment: datetime | None) -> str:
	"""A datetime as text that sorts as the datetime does (microseconds always written)."""
	return moment.isoformat(sep=" ", timespec="microseconds") if moment else ""
