"""What the benchmarks share to measure one worker against two, in the same run.

- Connector: the run itself writes, and `helpers` more background workers take the help jobs it
  queues on the `long` queue (tests/bench/browser_worker: an RQ worker for this site alone).
- Raw ERPNext: the same documents split over `processes` processes, each inserting and submitting its
  share with a commit per document, stage by stage as the connector keeps them (a payment after the
  invoice it settles); the names each process wrote go to the others through Redis.
"""

import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import frappe
import redis

REPO = Path(__file__).resolve().parents[1]
RAW_PART = "benchmarks.workers"
# The processes are started and connected before the clock starts.
START_WAIT_SECONDS = 120


@dataclass
class Measured:
	"""One measurement: its wall time, the CPU the app's processes and the database spent in it, and how
	often and how long InnoDB made a transaction wait for a row another one held."""

	seconds: float = 0.0
	app_cpu: float = 0.0
	database_cpu: float = 0.0
	lock_waits: int = 0
	lock_wait_seconds: float = 0.0

	@property
	def cores_busy(self) -> float:
		return (self.app_cpu + self.database_cpu) / self.seconds


@contextmanager
def measured(processes: list[subprocess.Popen] = ()) -> Iterator[Measured]:
	"""Time and profile what runs within: this process, these other ones (running all through it) and
	the database server."""
	pids = [process.pid for process in processes]
	result = Measured()
	before = (_app_cpu(pids), _cpu_seconds(_database_pid()), _lock_status(), time.perf_counter())
	yield result
	after = (_app_cpu(pids), _cpu_seconds(_database_pid()), _lock_status(), time.perf_counter())
	result.app_cpu = after[0] - before[0]
	result.database_cpu = after[1] - before[1]
	result.lock_waits = after[2][0] - before[2][0]
	result.lock_wait_seconds = (after[2][1] - before[2][1]) / 1000
	result.seconds = after[3] - before[3]


SIDES = (("raw", 1), ("raw", 2), ("connector", 1), ("connector", 2))


def print_table(runs: dict[tuple[str, int], Measured], documents: int) -> None:
	"""The four measurements of a benchmark, and the ratios the scaling question asks for."""
	print(
		f"{'':11}{'workers':>8}{'seconds':>9}{'docs/s':>8}{'app CPU s':>10}{'db CPU s':>9}{'cores':>6}"
		f"{'row lock waits':>15}{'waited s':>9}"
	)
	for side, workers in SIDES:
		m = runs[side, workers]
		print(
			f"{side:11}{workers:>8}{m.seconds:>9.1f}{documents / m.seconds:>8.2f}{m.app_cpu:>10.1f}"
			f"{m.database_cpu:>9.1f}{m.cores_busy:>6.2f}{m.lock_waits:>15}{m.lock_wait_seconds:>9.1f}"
		)
	ratio = runs["connector", 1].seconds / runs["raw", 1].seconds
	print(f"connector with 1 worker, its time over raw ERPNext with 1 process: {ratio:.2f}x")
	speed = runs["raw", 1].seconds / runs["connector", 2].seconds
	print(f"connector with 2 workers, its rate over raw ERPNext with 1 process: {speed:.2f}x", flush=True)


def _app_cpu(pids: list[int]) -> float:
	own = resource.getrusage(resource.RUSAGE_SELF)
	return own.ru_utime + own.ru_stime + sum(_cpu_seconds(pid) for pid in pids)


def _database_pid() -> int | None:
	"""The MariaDB server's process, when it runs on this machine."""
	found = subprocess.run(["pidof", "mariadbd"], capture_output=True, text=True).stdout.split()
	return int(found[0]) if found else None


def _cpu_seconds(pid: int | None) -> float:
	try:
		fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
	except (OSError, IndexError):
		return 0.0
	return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _lock_status() -> tuple[int, int]:
	status = dict(frappe.db.sql("show global status like 'Innodb_row_lock_%'"))
	return int(status["Innodb_row_lock_waits"]), int(status["Innodb_row_lock_time"])


def start_helpers(count: int) -> list[subprocess.Popen]:
	helpers = [_python("-m", "tests.bench.browser_worker", frappe.local.site) for _ in range(count)]
	time.sleep(5)  # each connects to the site before the run queues its jobs
	return helpers


def stop(processes: list[subprocess.Popen]) -> None:
	for process in processes:
		process.kill()
		process.wait()


@contextmanager
def raw_processes(stages: list[list[tuple[str, dict]]], processes: int, insert: str) -> Iterator["RawRun"]:
	"""`processes` processes that insert stages of (key, document) when told to: each takes every
	processes-th document of a stage, and a stage starts when every process finished the one before.
	insert: "module:function" called with (key, document, names) in each process, returning the name;
	names holds the names the processes wrote so far, by key. They are started and connected here, and
	stay until the end of the block, so a measurement inside it sees only their inserts."""
	key = f"{frappe.local.site}:kraal_raw_bench_{frappe.generate_hash(length=8)}"
	with tempfile.NamedTemporaryFile(suffix=".pickle", delete=False) as f:
		pickle.dump(stages, f)
	parts = [
		_python("-m", RAW_PART, frappe.local.site, f.name, insert, key, str(n), str(processes))
		for n in range(processes)
	]
	try:
		_wait_until(lambda: _count(f"{key}_ready") == processes, parts)
		yield RawRun(key, parts)
	finally:
		_redis().set(f"{key}_quit", 1)
		for part in parts:
			if part.wait() != 0:
				raise RuntimeError("a raw insert process failed")
		os.unlink(f.name)
		_redis().delete(
			*(f"{key}_{name}" for name in ("ready", "go", "done", "quit", "names")),
			*(f"{key}_stage{n}" for n in range(len(stages))),
		)


@dataclass
class RawRun:
	key: str
	processes: list[subprocess.Popen]

	def run(self) -> None:
		_redis().set(f"{self.key}_go", 1)
		_wait_until(lambda: _count(f"{self.key}_done") == len(self.processes), self.processes, 4 * 3600)


def _insert_part(path: str, insert: str, key: str, index: int, processes: int) -> None:
	module, function = insert.split(":")
	write: Callable = getattr(__import__(module, fromlist=[function]), function)
	with open(path, "rb") as f:
		stages = pickle.load(f)
	_redis().incrby(f"{key}_ready", 1)
	_wait_until(lambda: _redis().get(f"{key}_go"), seconds=4 * 3600)
	for number, stage in enumerate(stages):
		names = {k.decode(): v.decode() for k, v in _redis().hgetall(f"{key}_names").items()}
		written = {}
		for doc_key, doc in stage[index::processes]:
			written[doc_key] = write(doc_key, doc, names)
			frappe.db.commit()
		if written:
			_redis().hset(f"{key}_names", mapping=written)
		_redis().incrby(f"{key}_stage{number}", 1)
		_wait_until(lambda number=number: _count(f"{key}_stage{number}") == processes, seconds=4 * 3600)
	_redis().incrby(f"{key}_done", 1)
	_wait_until(lambda: _redis().get(f"{key}_quit"), seconds=4 * 3600)


def _count(key: str) -> int:
	return int(_redis().get(key) or 0)


def _redis() -> redis.Redis:
	"""A plain client on the site's Redis cache (Frappe's wrapper pickles values and keeps a local copy)."""
	if not getattr(frappe.local, "kraal_bench_redis", None):
		frappe.local.kraal_bench_redis = redis.Redis.from_url(frappe.conf.redis_cache)
	return frappe.local.kraal_bench_redis


def _wait_until(
	done: Callable[[], bool], processes: list[subprocess.Popen] = (), seconds: float = START_WAIT_SECONDS
) -> None:
	deadline = time.monotonic() + seconds
	while not done():
		if any(p.poll() not in (None, 0) for p in processes) or time.monotonic() > deadline:
			raise RuntimeError("a benchmark process did not get there")
		time.sleep(0.02)


def _python(*args: str) -> subprocess.Popen:
	return subprocess.Popen(
		[sys.executable, *args], cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": str(REPO)}
	)


if __name__ == "__main__":
	site, path, insert, key, index, processes = sys.argv[1:]
	frappe.init(site=site, sites_path=".")
	frappe.connect()
	frappe.set_user("Administrator")
	try:
		_insert_part(path, insert, key, int(index), int(processes))
	finally:
		frappe.destroy()
