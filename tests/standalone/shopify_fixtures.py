"""pytest fixtures for the Shopify tests (a plugin: test modules list it in pytest_plugins, since
conftest.py is shared): the emulator, shared or on a private copy of the dataset, and its client."""

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from emulators.shopify import ShopifyEmulator
from kraal_connect.connectors.shopify.client import ShopifyApi
from tests.standalone.shopify_support import DATASET, DOMAIN, TOKEN, FakeClock, Receiver


@dataclass
class Store:
	"""An emulator with its dataset directory and clock."""

	emulator: ShopifyEmulator
	data: Path
	clock: FakeClock

	@property
	def api(self) -> ShopifyApi:
		return ShopifyApi(DOMAIN, TOKEN, base_url=self.emulator.url, timeout=10)


def _start(data: Path) -> Store:
	clock = FakeClock()
	return Store(ShopifyEmulator(data, clock=clock).start(), data, clock)


@pytest.fixture(scope="session")
def shared_shopify(tmp_path_factory):
	"""One emulator for the tests that leave the dataset alone (stopping a server takes half a second)."""
	store = _start(Path(shutil.copytree(DATASET, tmp_path_factory.mktemp("shared") / "shopify")))
	yield store
	store.emulator.stop()


@pytest.fixture
def shopify(shared_shopify) -> Store:
	"""The shared emulator, its faults, request log, bucket and in-memory changes reset."""
	requests.post(f"{shared_shopify.emulator.url}/_emulator/reset", timeout=10)
	return shared_shopify


@pytest.fixture
def own_shopify(tmp_path):
	"""An emulator on a private copy of the dataset, for a test that changes the files."""
	store = _start(Path(shutil.copytree(DATASET, tmp_path / "shopify")))
	yield store
	store.emulator.stop()


@pytest.fixture
def receiver():
	endpoint = Receiver()
	yield endpoint
	endpoint.stop()
