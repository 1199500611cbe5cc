"""Amounts of money: `Decimal` with 2 places, within what a Decimal(10, 2) column holds."""

from decimal import Decimal, InvalidOperation
from typing import Any

from confero.errors import ValidationFailed

CENT = Decimal("0.01")
LIMIT = Decimal("100000000")  # 10 digits, 2 of them after the point


def to_money(value: Any, *, what: str) -> Decimal:
    """`value` (a Decimal, an int or decimal text) as an amount with 2 places. A float is
    refused: it has already lost the cents (0.1 is not 1/10)."""
    if isinstance(value, bool | float):
        raise ValidationFailed(
            what, f"{what} must be a decimal amount, not a {type(value).__name__}"
        )
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationFailed(what, f"{what} '{value}' is not an amount") from None
    if not amount.is_finite() or abs(amount) >= LIMIT or amount != amount.quantize(CENT):
        raise ValidationFailed(
            what, f"{what} '{value}' must be below 100000000 with at most 2 decimal places"
        )
    return amount.quantize(CENT)


def check_in_range(amount: Decimal, *, what: str) -> Decimal:
    """A sum that must still fit its column (an order's total, what was paid on it)."""
    if abs(amount) >= LIMIT:
        raise ValidationFailed(what, f"{what} would reach {amount}: amounts stay below 100000000")
    return amount
