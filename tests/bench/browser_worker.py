"""A background worker for one site only, for the browser test: it runs the Kraal Connect jobs the
browser's clicks queue (a sync, a retry) as an RQ worker would, and leaves every other job where it is
(other sites', and the site's own housekeeping, which no worker runs here anyway).

An ordinary `bench worker` takes jobs of every site on the bench, among them those other in-bench
tests queue and then look for, so the browser test cannot start one. Run from the bench's sites folder:

    ../env/bin/python -m tests.bench.browser_worker <site>
"""

import sys
import time
from datetime import datetime

import frappe
from frappe.utils.background_jobs import execute_job, get_queue

# Runs first, and a sync waits behind no housekeeping.
QUEUES = ("long", "short", "default")
# Jobs looked at and left where they are: not read again.
passed_over: set[str] = set()


def take_job(site: str, since: datetime):
	"""The oldest Kraal Connect job this site queued since the worker started, off its queue; None when
	there is none. Frappe names a job "<site>::…", so other sites' (thousands, on a shared bench) are
	never read; one queued before (a test run that stopped halfway) is not this test's."""
	for name in QUEUES:
		queue = get_queue(name)
		for job_id in queue.job_ids:
			if job_id in passed_over or not job_id.startswith(f"{site}::"):
				continue
			job = queue.fetch_job(job_id)
			method = job and (job.kwargs or {}).get("method")
			ours = isinstance(method, str) and method.startswith("kraal_connect.")
			if not ours or (job.enqueued_at and job.enqueued_at.replace(tzinfo=None) < since):
				passed_over.add(job_id)
				continue
			queue.remove(job_id)
			if job:
				# Frappe drops a job whose id is queued or started: while it runs it counts as started.
				job.set_status("started")
				return job
	return None


def main(site: str) -> None:
	frappe.init(site=site)
	frappe.connect()
	# RQ keeps enqueued_at in UTC.
	since = datetime.utcnow()
	try:
		while True:
			job = take_job(site, since)
			if not job:
				time.sleep(0.3)
				continue
			try:
				# Inits and destroys frappe.local itself, as in a worker's forked child.
				execute_job(**job.kwargs)
			except Exception as exc:
				print(f"job {job.id} failed: {exc!r}", flush=True)
			finally:
				job.delete()
				frappe.init(site=site)
				frappe.connect()
			print(f"ran {job.kwargs.get('method')} {job.id}", flush=True)
	finally:
		frappe.destroy()


if __name__ == "__main__":
	main(sys.argv[1])
