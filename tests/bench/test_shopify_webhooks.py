"""Shopify's webhooks on a real site: signed deliveries queue their record, the queued job books it
through the same writer as polling, repeats and forgeries are turned away."""

import json
import uuid

import frappe
import pytest
from frappe.utils.background_jobs import get_job
from werkzeug.test import EnvironBuilder

from emulators.shopify import delivery_headers
from kraal_connect.connectors.shopify.client import API_VERSION, WEBHOOK_TOPICS
from kraal_connect.connectors.shopify.endpoints import (
	register_webhooks,
	unregister_webhooks,
	webhook,
	webhook_url,
)
from kraal_connect.engine import pending
from kraal_connect.engine.runner import WEBHOOK, run_integration, run_webhook_records
from tests.bench.shopify_helpers import DOMAIN, SECRET, linked
from tests.bench.site_helpers import counts, latest_log

pytest_plugins = ["tests.bench.shopify_helpers"]

ORDER = "gid://shopify/Order/5002"
ORDER_CREATED = {"id": 5002, "admin_graphql_api_id": ORDER, "name": "#1002"}


def deliver(topic: str, payload: dict, webhook_id: str | None = None, body: bytes | None = None):
	"""A delivery as Shopify makes it (emulators.shopify.send_webhook's headers), to the endpoint."""
	signed = json.dumps(payload).encode()
	headers = delivery_headers(signed, topic, SECRET, DOMAIN, webhook_id, API_VERSION)
	frappe.local.request = EnvironBuilder(method="POST", data=body or signed, headers=headers).get_request()
	frappe.local.response = frappe._dict()
	frappe.local.cache = {}  # each delivery is a request of its own
	result = webhook()
	frappe.db.commit()  # the request's end: queued jobs go to Redis
	return result, frappe.local.response.get("http_status_code", 200)


@pytest.fixture
def store(connected):
	"""An integration whose products and customers are synced, its orders not yet; nothing of its
	webhook queue outlives the test."""
	name = connected()
	set_entities(name, {"order": 0, "inventory_level": 0})
	run_integration(name, "Manual")
	set_entities(name, {"order": 1})
	yield name
	for entity in ("order", "product", "customer", "inventory_level"):
		pending.done(WEBHOOK, name, entity, pending.waiting(WEBHOOK, name, entity))
		job = get_job(f"kraal_{WEBHOOK}::{name}::{entity}")
		if job:
			job.delete()


def set_entities(integration: str, enabled: dict[str, int]) -> None:
	for entity, on in enabled.items():
		frappe.db.set_value(
			"Kraal Integration Entity", {"parent": integration, "entity": entity}, "enabled", on
		)
	frappe.db.commit()


def sales_orders(integration: str) -> list[str]:
	return frappe.get_all(
		"Sales Order",
		filters={
			"po_no": "#1002",
			"company": frappe.db.get_value("Kraal Integration", integration, "company"),
		},
		pluck="name",
	)


def test_an_order_by_webhook_and_by_polling_is_booked_once(store):
	assert deliver("orders/create", ORDER_CREATED) == ({"accepted": True}, 200)
	assert pending.waiting(WEBHOOK, store, "order") == [ORDER]
	assert get_job(f"kraal_{WEBHOOK}::{store}::order")  # queued, answered at once

	assert run_webhook_records(store, "order")
	log = latest_log(store)
	assert (log.trigger, log.status, counts(log)["order"][1]) == ("Webhook", "Success", 1)
	assert pending.waiting(WEBHOOK, store, "order") == []
	booked = sales_orders(store)
	assert len(booked) == 1
	invoice = linked(store, "order:invoice", ORDER)

	run_integration(store, "Manual")
	log = latest_log(store)
	assert counts(log)["order"] == (7, 5, 0, 0, 2, 0)  # #1002 came back unchanged; #1007 books nothing
	assert sales_orders(store) == booked
	assert linked(store, "order:invoice", ORDER) == invoice
	assert (
		frappe.db.count("Sales Invoice", {"po_no": "#1002", "company": "Kraal Shopify Co", "is_return": 0})
		== 1
	)


def test_a_repeated_delivery_is_dropped_and_a_changed_body_refused(store):
	delivery = str(uuid.uuid4())
	assert deliver("orders/paid", ORDER_CREATED, delivery) == ({"accepted": True}, 200)
	assert deliver("orders/paid", ORDER_CREATED, delivery) == ({"accepted": False}, 200)
	forged = json.dumps({**ORDER_CREATED, "admin_graphql_api_id": "gid://shopify/Order/5003"}).encode()
	assert deliver("orders/paid", ORDER_CREATED, body=forged) == ({"accepted": False}, 401)
	assert pending.waiting(WEBHOOK, store, "order") == [ORDER]


def test_a_topic_of_an_entity_not_synced_is_not_queued(store):
	set_entities(store, {"customer": 0})
	customer = {"id": 9001, "admin_graphql_api_id": "gid://shopify/Customer/9001"}
	assert deliver("customers/update", customer) == ({"accepted": False}, 200)
	assert pending.waiting(WEBHOOK, store, "customer") == []


def test_uninstalling_the_app_disconnects_the_integration(store):
	assert deliver("app/uninstalled", {"id": 60001, "myshopify_domain": DOMAIN}) == ({"accepted": True}, 200)
	enabled, status, registered = frappe.db.get_value(
		"Kraal Integration", store, ["enabled", "status", "webhooks_registered"]
	)
	assert (enabled, status, registered) == (0, "Disconnected", 0)
	assert run_integration(store, "Scheduler") is None


def test_the_app_subscribes_the_stores_webhooks_and_removes_them(store, shopify_store, monkeypatch):
	monkeypatch.setitem(frappe.local.conf, "host_name", "https://erp.kraal.example")  # Shopify wants https
	topics = sorted(t.replace("/", "_").upper() for t in WEBHOOK_TOPICS)
	run_integration(store, "Manual")  # the first sync over https subscribes them
	subscriptions = shopify_store.emulator.webhooks.values()
	assert sorted(s["topic"] for s in subscriptions) == topics
	assert {s["uri"] for s in subscriptions} == {webhook_url()}
	assert webhook_url().startswith("https://erp.kraal.example")
	assert frappe.db.get_value("Kraal Integration", store, "webhooks_registered") == 1

	unregister_webhooks(store)
	assert shopify_store.emulator.webhooks == {}
	assert frappe.db.get_value("Kraal Integration", store, "webhooks_registered") == 0
	register_webhooks(store)
	register_webhooks(store)  # safe to repeat
	assert sorted(s["topic"] for s in shopify_store.emulator.webhooks.values()) == topics
