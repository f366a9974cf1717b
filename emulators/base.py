"""What every emulator shares: the HTTP server, routing, the request log and fault injection.

Control endpoints (all under /_emulator/):
  POST   /_emulator/faults    add a fault: {"path": "/x" or "/x*", "method": "POST", "status": 429,
                              "body": {...}, "headers": {...}, "times": 1 (0 = always),
                              "skip": 0 (let that many matching requests through first),
                              "delay": 0 (seconds to wait first; with no status the request is
                              then answered normally),
                              "hang": false (hold the request unanswered until the faults are
                              cleared or the emulator stops: a vendor that never answers)}
  DELETE /_emulator/faults    remove all faults and let held requests go
  GET    /_emulator/requests  the requests served so far: [{"method", "path"}, with what an emulator adds
                              to tell calls to one path apart (Shopify: the GraphQL "operation")]
  POST   /_emulator/reset     faults, request log and any emulator state back to the start
"""

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
	method: str
	path: str
	query: dict[str, list[str]]
	headers: dict[str, str]
	body: bytes
	params: dict[str, str] = field(default_factory=dict)

	def json(self) -> Any:
		return json.loads(self.body or b"null")

	def arg(self, name: str, default: str | None = None) -> str | None:
		values = self.query.get(name)
		return values[0] if values else default


@dataclass
class Response:
	status: int = 200
	body: Any = None
	headers: dict[str, str] = field(default_factory=dict)

	def encoded(self) -> tuple[bytes, str]:
		if isinstance(self.body, bytes):
			return self.body, self.headers.get("Content-Type", "application/octet-stream")
		if isinstance(self.body, str):
			return self.body.encode(), self.headers.get("Content-Type", "text/plain")
		return json.dumps(self.body).encode(), "application/json"


@dataclass
class Fault:
	path: str
	method: str | None = None
	status: int | None = None
	body: Any = None
	headers: dict[str, str] = field(default_factory=dict)
	times: int = 1
	skip: int = 0
	delay: float = 0
	hang: bool = False

	def matches(self, request: Request) -> bool:
		if self.method and self.method.upper() != request.method:
			return False
		if self.path.endswith("*"):
			return request.path.startswith(self.path[:-1])
		return request.path == self.path


Handler = Callable[[Request], Response]


class Emulator:
	"""Subclasses list their routes as (method, path regex, handler method name)."""

	routes: tuple[tuple[str, str, str], ...] = ()

	def __init__(self, data_dir: str | Path):
		self.data_dir = Path(data_dir)
		if not self.data_dir.is_dir():
			raise FileNotFoundError(f"dataset directory {self.data_dir} does not exist")
		self._lock = threading.Lock()
		self._faults: list[Fault] = []
		# Delayed and hanging requests wait on this; setting it lets them go, so that clearing the faults
		# or stopping the server never waits for a client that has long given up.
		self._release = threading.Event()
		self.requests: list[dict] = []
		self._compiled = [(m, re.compile(f"^{p}$"), getattr(self, h)) for m, p, h in self.routes]
		self._server: ThreadingHTTPServer | None = None

	# -- dataset ---------------------------------------------------------------------------------
	def read_json(self, *parts: str) -> Any:
		with open(self.data_dir.joinpath(*parts)) as f:
			return json.load(f)

	def reset_state(self) -> None:
		"""Subclasses with state (created objects, rotated tokens) clear it here."""

	# -- faults ----------------------------------------------------------------------------------
	def add_fault(self, **spec) -> None:
		with self._lock:
			self._faults.append(Fault(**spec))

	def clear_faults(self) -> None:
		with self._lock:
			self._faults.clear()
			self._release.set()
			self._release = threading.Event()

	def _hold(self, fault: Fault) -> None:
		with self._lock:
			release = self._release
		if fault.hang:
			release.wait()
		elif fault.delay:
			release.wait(fault.delay)

	def _take_fault(self, request: Request) -> Fault | None:
		with self._lock:
			for fault in self._faults:
				if not fault.matches(request):
					continue
				if fault.skip:
					fault.skip -= 1
					return None
				if fault.times == 1:
					self._faults.remove(fault)
				elif fault.times > 1:
					fault.times -= 1
				return fault
		return None

	# -- dispatch --------------------------------------------------------------------------------
	def handle(self, request: Request) -> Response:
		if request.path.startswith("/_emulator/"):
			return self._control(request)
		entry = {"method": request.method, "path": request.path, **self.describe(request)}
		with self._lock:
			self.requests.append(entry)
		fault = self._take_fault(request)
		if fault:
			self._hold(fault)
			if fault.status is not None:
				return Response(
					fault.status, fault.body if fault.body is not None else "", dict(fault.headers)
				)
		for method, pattern, handler in self._compiled:
			match = pattern.match(request.path)
			if match and method == request.method:
				request.params = match.groupdict()
				return handler(request)
		return self.not_found(request)

	def describe(self, request: Request) -> dict:
		"""What the request log keeps of a request besides its method and path."""
		return {}

	def not_found(self, request: Request) -> Response:
		return Response(404, {"error": f"no route for {request.method} {request.path}"})

	def _control(self, request: Request) -> Response:
		action = (request.method, request.path)
		if action == ("POST", "/_emulator/faults"):
			self.add_fault(**request.json())
			return Response(201, {"ok": True})
		if action == ("DELETE", "/_emulator/faults"):
			self.clear_faults()
			return Response(200, {"ok": True})
		if action == ("GET", "/_emulator/requests"):
			with self._lock:
				return Response(200, list(self.requests))
		if action == ("POST", "/_emulator/reset"):
			self.clear_faults()
			with self._lock:
				self.requests.clear()
			self.reset_state()
			return Response(200, {"ok": True})
		return self.control(request)

	def control(self, request: Request) -> Response:
		"""Emulator-specific control endpoints."""
		return self.not_found(request)

	# -- serving ---------------------------------------------------------------------------------
	def start(self, host: str = "127.0.0.1", port: int = 0) -> "Emulator":
		self._server = ThreadingHTTPServer((host, port), _handler_for(self))
		self._server.daemon_threads = True
		threading.Thread(target=self._server.serve_forever, daemon=True).start()
		return self

	@property
	def url(self) -> str:
		host, port = self._server.server_address[:2]
		return f"http://{host}:{port}"

	def stop(self) -> None:
		if self._server:
			# server_close() joins the handler threads: held requests must end first.
			self.clear_faults()
			self._server.shutdown()
			self._server.server_close()
			self._server = None

	def serve_forever(self, host: str, port: int) -> None:
		self.start(host, port)
		print(f"{type(self).__name__} serving {self.data_dir} on {self.url}", flush=True)
		try:
			threading.Event().wait()
		except KeyboardInterrupt:
			self.stop()


def _handler_for(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
	class _Handler(BaseHTTPRequestHandler):
		protocol_version = "HTTP/1.1"
		# Headers and body go out in two writes; without TCP_NODELAY the second waits ~40 ms for the
		# client's delayed ACK on every request.
		disable_nagle_algorithm = True

		def _serve(self):
			url = urlsplit(self.path)
			length = int(self.headers.get("Content-Length") or 0)
			request = Request(
				method=self.command,
				path=url.path,
				query=parse_qs(url.query),
				headers={k.lower(): v for k, v in self.headers.items()},
				body=self.rfile.read(length) if length else b"",
			)
			try:
				response = emulator.handle(request)
			except Exception as exc:  # an emulator bug must show as a 500, not a hung client
				response = Response(500, {"error": f"emulator failure: {type(exc).__name__}: {exc}"})
			payload, content_type = response.encoded()
			try:
				self.send_response(response.status)
				self.send_header("Content-Type", response.headers.pop("Content-Type", content_type))
				self.send_header("Content-Length", str(len(payload)))
				for name, value in response.headers.items():
					self.send_header(name, value)
				self.end_headers()
				self.wfile.write(payload)
			except (BrokenPipeError, ConnectionResetError):  # the client timed out and went away
				self.close_connection = True

		do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

		def log_message(self, *args):
			pass

	return _Handler
