import calendar
from datetime import datetime, timedelta

FREQUENCIES = ("Every 15 Minutes", "Hourly", "Daily", "Last Day of Month")

_INTERVALS = {
	"Every 15 Minutes": timedelta(minutes=15),
	"Hourly": timedelta(hours=1),
	"Daily": timedelta(days=1),
}
# The cron fires every 15 minutes but not to the second; a run that started a little less than one
# interval ago is due, or every other slot would be skipped.
_SLACK = timedelta(minutes=2)


def is_due(frequency: str, last_started: datetime | None, now: datetime) -> bool:
	if frequency not in FREQUENCIES:
		raise ValueError(f"unknown sync frequency {frequency!r}")
	if last_started is None:
		return True
	if frequency == "Last Day of Month":
		last_day = calendar.monthrange(now.year, now.month)[1]
		return now.day == last_day and last_started.date() != now.date()
	return now - last_started >= _INTERVALS[frequency] - _SLACK
