"""What an Amazon seller account's orders and settlements need mapped, read before the first sync:
every fee and charge type of the settlements Amazon keeps, the currencies they are paid in, and the
charges, fulfilment networks and sales channels of the orders the first sync reads (from Sync From on).

The marketplaces being synced and Amazon's own fulfilment network (AFN) are not listed: the first sync
sets up their customers and the FBA warehouse itself (and a person may still map them on their rows).
"""

from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from kraal_connect.connectors.amazon import mapping
from kraal_connect.connectors.amazon.mapping import (
	CLEARING,
	FEE_TYPE,
	FULFILMENT,
	FULFILMENT_NAMES,
	MARKETPLACE,
	ORDER_CHARGE,
	Settlement,
	SettlementRow,
)
from kraal_connect.engine.errors import RecordError
from kraal_connect.engine.suggestions import Discovered

# The networks the connector maps by itself (see AmazonConnector._fba_warehouse).
SET_UP_NETWORKS = frozenset({"AFN"})


def order_keys(order: Mapping[str, Any], own_marketplaces: Collection[str]) -> list[Discovered]:
	"""The keys the order's documents book to, as its mapper asks for them; none for an order that
	books nothing (pending, cancelled)."""
	if mapping.BOOKED_STATUSES.get(order.get("OrderStatus") or "") is None:
		return []
	found = []
	channel = order.get("SalesChannel")
	if channel and channel not in own_marketplaces:
		found.append(Discovered(MARKETPLACE, channel, channel))
	network = order.get("FulfillmentChannel")
	if network and network not in SET_UP_NETWORKS:
		found.append(Discovered(FULFILMENT, network, FULFILMENT_NAMES.get(network, network)))
	for key, description, parts in mapping.CHARGES:
		total = sum(
			(sign * _amount(item, field) for item in order.get("OrderItems") or [] for field, sign in parts),
			Decimal(0),
		)
		if total:
			found.append(Discovered(ORDER_CHARGE, key, description))
	return found


def settlement_keys(settlement: Settlement) -> list[Discovered]:
	"""Every fee type of a settlement, titled with Amazon's own words, and the currency it is paid in."""
	found = [Discovered(FEE_TYPE, row.fee_type, fee_name(row)) for row in settlement.rows]
	currency = settlement.currency
	# The currency's code is a name too: an account named for it (Amazon Clearing USD) fits.
	found.append(
		Discovered(CLEARING, currency, f"Amazon settlements paid in {currency}", aliases=(currency,))
	)
	return found


def fee_name(row: SettlementRow) -> str:
	"""Amazon's description of a settlement line, with the transaction and amount types it came under:
	"FBAPerUnitFulfillmentFee (Order, ItemFees)"."""
	if row.amount_type == "other-transaction":
		return row.amount_description or row.amount_type
	kinds = ", ".join(k for k in (row.transaction_type, row.amount_type) if k)
	return f"{row.amount_description or row.amount_type} ({kinds})"


def discover(orders: list[Mapping[str, Any]], flat_files: list[str], own_marketplaces) -> list[Discovered]:
	"""The keys of these orders (with their OrderItems) and settlement flat files; a flat file that
	does not parse is left to the sync, which reports it."""
	found = [key for order in orders for key in order_keys(order, own_marketplaces)]
	for text in flat_files:
		try:
			found += settlement_keys(mapping.parse_settlement(text))
		except RecordError:
			continue
	return found


def _amount(item: Mapping[str, Any], fieldname: str) -> Decimal:
	try:
		return Decimal(str((item.get(fieldname) or {}).get("Amount") or 0))
	except InvalidOperation:
		return Decimal(0)
