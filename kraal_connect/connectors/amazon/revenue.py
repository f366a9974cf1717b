"""What each line of an Amazon settlement's Journal Entry is to the E-commerce view's revenue
(commerce/figures). Pure: mapping.settlement_journal_entry gives each line its fee type key
(mapping.fee_type) as its remark, and the deposit line "Amazon deposit <settlement id>"."""

from kraal_connect.commerce.figures import ADJUSTMENT, FEE, REFUND
from kraal_connect.connectors.amazon.mapping import RESERVES

DEPOSIT_REMARK = "Amazon deposit "
# Amount types of an order's own money: the settlement settles the order's invoice with it.
ORDER_MONEY = frozenset({"ItemPrice", "Promotion", "ItemWithheldTax"})
# Transaction types that give an order's money back to the buyer.
REFUND_TYPES = ("Refund", "Chargeback Refund", "A-to-z Guarantee Claim")


def settlement_row_role(remark: str) -> str | None:
	"""fee for Amazon's fees (item fees, commission given back on a refund, subscription and storage
	fees), refund for a refund's or chargeback's money, adjustment for other money paid or taken
	(reimbursements); None for the deposit, reserves, taxes and the order money that settles invoices."""
	key = (remark or "").strip()
	if not key or key.startswith(DEPOSIT_REMARK) or key in RESERVES:
		return None
	if ":" not in key:  # an other-transaction row, by its description
		return FEE if "Fee" in key else ADJUSTMENT
	kind, description = key.split(":", 1)
	transaction = next((t for t in REFUND_TYPES if kind.startswith(f"{t} ")), None)
	amount_type = kind.removeprefix(f"{transaction} ") if transaction else kind
	if amount_type == "ItemFees":
		return FEE
	if "Tax" in amount_type or "Tax" in description:
		return None
	if transaction:
		return REFUND
	if amount_type in ORDER_MONEY:
		return None
	return ADJUSTMENT
