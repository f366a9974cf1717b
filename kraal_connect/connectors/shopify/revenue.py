"""What each line of a Shopify payout's Journal Entry is to the E-commerce view's revenue (commerce/figures).
Pure: the line's remark names its balance transaction type (mapping/payouts.line_remark)."""

from kraal_connect.commerce.figures import ADJUSTMENT, FEE, REFUND
from kraal_connect.connectors.shopify.mapping.payouts import FEES, remark_key
from kraal_connect.connectors.shopify.mapping.records import GATEWAY_MAPPING

# Money moved between the balance, reserves and the bank, not earned or lost: not revenue.
BALANCE_TYPES = frozenset(
	{
		"RESERVED_FUNDS",
		"RESERVED_FUNDS_WITHDRAWAL",
		"RESERVED_FUNDS_REVERSAL",
		"ADVANCE",
		"ADVANCE_FUNDING",
		"TRANSFER_FAILURE",
		"TRANSFER_CANCEL",
		"TRANSFER_REFUND",
	}
)
# A chargeback (and its reversal) takes the sale's money back as a refund does.
CHARGEBACK_PREFIX = "DISPUTE"


def payout_row_role(remark: str) -> str | None:
	"""fee for Shopify Payments' fees, refund for chargebacks, adjustment for any other type the payout
	books to profit and loss; None for the clearing account (sales already counted) and the bank."""
	key = remark_key(remark or "")
	if key is None or key == GATEWAY_MAPPING or key in BALANCE_TYPES:
		return None
	if key == FEES:
		return FEE
	if key.startswith(CHARGEBACK_PREFIX):
		return REFUND
	return ADJUSTMENT
