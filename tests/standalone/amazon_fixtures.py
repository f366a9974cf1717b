"""The Amazon pytest fixtures; test modules load them with
pytest_plugins = ("tests.standalone.amazon_fixtures",). A module of their own, so that pytest imports
it as a plugin before any test module imports the helpers in amazon_support."""

import shutil
from pathlib import Path

import pytest

from emulators.amazon import AmazonEmulator
from tests.standalone.amazon_support import FIXTURES, FROZEN_NOW, make_api


@pytest.fixture(scope="module")
def _amazon_server():
	# One server a module: stopping one waits out half a second of the server's poll loop.
	emulator = AmazonEmulator(FIXTURES, clock=lambda: FROZEN_NOW).start()
	yield emulator
	emulator.stop()


@pytest.fixture
def amazon_emulator(_amazon_server):
	"""The emulator on the stored dataset (not to be changed), with its faults, request log, tokens,
	buckets and clock back at the start."""
	_amazon_server.clear_faults()
	_amazon_server.requests.clear()
	_amazon_server.reset_state()
	return _amazon_server


@pytest.fixture
def amazon_api(amazon_emulator):
	api = make_api(amazon_emulator)
	yield api
	api.close()


@pytest.fixture
def amazon_data(tmp_path) -> Path:
	"""A private copy of the Amazon dataset that a test may change."""
	return Path(shutil.copytree(FIXTURES, tmp_path / "amazon"))


@pytest.fixture
def private_amazon_emulator(amazon_data):
	"""An emulator of its own on the private copy of the dataset."""
	emulator = AmazonEmulator(amazon_data, clock=lambda: FROZEN_NOW).start()
	yield emulator
	emulator.stop()
