"""Issue and take the state of a vendor's authorization flow (engine/oauth_state.py) in Redis."""

import frappe

from kraal_connect.engine.oauth_state import STATE_SECONDS, Flow, flow_for


def issue_state(vendor: str, integration: str) -> str:
	"""A new state for this user and integration, kept for STATE_SECONDS."""
	state = frappe.generate_hash(length=32)
	flow = Flow(frappe.session.user, integration)
	frappe.cache.set(_state_key(vendor, state), flow.dumps(), ex=STATE_SECONDS, nx=True)
	return state


def take_state(vendor: str, state: str | None) -> Flow:
	"""The flow a callback's state was issued for, taken out of Redis first (GETDEL) so that whatever
	follows it cannot be used again; StateRefused when unknown, used, expired or another user's."""
	stored = frappe.cache.getdel(_state_key(vendor, state)) if state else None
	return flow_for(stored, frappe.session.user)


def _state_key(vendor: str, state: str) -> str:
	return frappe.cache.make_key(f"kraal_oauth_state::{frappe.scrub(vendor)}::{state}")
