"""Shopify customers -> Customers with their addresses and contacts."""

from collections.abc import Mapping
from typing import Any

from kraal_connect.connectors import contact_values
from kraal_connect.connectors.fields import required
from kraal_connect.connectors.shopify.mapping.records import CUSTOMERS, ShopifyContext, legacy_id
from kraal_connect.engine.records import Ref, Target


def _email(customer: Mapping[str, Any]) -> str | None:
	return (customer.get("defaultEmailAddress") or {}).get("emailAddress") or customer.get("email")


def _phone(customer: Mapping[str, Any]) -> str | None:
	return (customer.get("defaultPhoneNumber") or {}).get("phoneNumber") or customer.get("phone")


def customer_name(customer: Mapping[str, Any]) -> str:
	full = " ".join(p for p in (customer.get("firstName"), customer.get("lastName")) if p)
	return (
		customer.get("displayName")
		or full
		or _email(customer)
		or _phone(customer)
		or f"Shopify customer {legacy_id(customer['id'])}"
	)


def customer_doc(name: str, ctx: ShopifyContext) -> dict:
	return {
		"doctype": "Customer",
		"customer_name": name[:140],
		"customer_type": "Individual",
		"customer_group": ctx.customer_group,
		"territory": ctx.territory,
	}


def address_doc(
	address: Mapping[str, Any],
	title: str,
	ctx: ShopifyContext,
	links: list[dict],
	primary: bool,
	email: str | None,
) -> dict | None:
	"""An ERPNext Address, or None when Shopify's lacks what ERPNext requires (street, city, country)."""
	country = ctx.countries.get(address.get("countryCodeV2") or "") or address.get("country")
	if not (address.get("address1") and address.get("city") and country):
		return None
	return {
		"doctype": "Address",
		"address_title": title[:140],
		"address_type": "Billing",
		"address_line1": address["address1"],
		"address_line2": address.get("address2") or "",
		"city": address["city"],
		"state": address.get("province") or "",
		"pincode": address.get("zip") or "",
		"country": country,
		# A phone ERPNext refuses is kept in the customer's details (customer_targets).
		"phone": contact_values.phone(address.get("phone"))[0] or "",
		"email_id": email or "",
		"is_primary_address": int(primary),
		"is_shipping_address": int(primary),
		"links": links,
	}


def customer_targets(customer: Mapping[str, Any], ctx: ShopifyContext) -> list[Target]:
	"""A customer as Customer, an Address per usable address, and a Contact with email and phone."""
	label = f"Shopify customer {customer.get('id')}"
	customer_id = required(customer, "id", label)
	name = customer_name(customer)
	email, refused_email = contact_values.email(_email(customer))
	phone, refused_phone = contact_values.phone(_phone(customer))
	links = [{"link_doctype": "Customer", "link_name": Ref(CUSTOMERS, customer_id)}]
	doc = customer_doc(name, ctx)
	refused = {"e-mail address": refused_email, "phone number": refused_phone}
	for address in customer.get("addresses") or []:
		refused[f"phone number of address {address.get('address1')}"] = contact_values.phone(
			address.get("phone")
		)[1]
	details, notes = contact_values.refusals(label, refused)
	if details:
		doc["customer_details"] = details
	targets = [Target("", doc, notes=tuple(notes))]
	default_id = (customer.get("defaultAddress") or {}).get("id")
	for address in customer.get("addresses") or []:
		doc = address_doc(address, name, ctx, links, address.get("id") == default_id, email)
		if doc:
			targets.append(Target(f"address:{legacy_id(address['id'])}", doc))
	if email or phone:
		contact = {
			"doctype": "Contact",
			"first_name": customer.get("firstName") or name,
			"last_name": customer.get("lastName") or "",
			"is_primary_contact": 1,
			"email_ids": [{"email_id": email, "is_primary": 1}] if email else [],
			"phone_nos": [{"phone": phone, "is_primary_phone": 1, "is_primary_mobile_no": 1}]
			if phone
			else [],
			"links": links,
		}
		targets.append(Target("contact", contact))
	return targets
