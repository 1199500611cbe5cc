"""registration/money.py: amounts are Decimals with 2 places that fit a Decimal(10, 2)."""

from decimal import Decimal

import pytest

from confero.errors import ValidationFailed
from confero.registration.money import check_in_range, to_money


@pytest.mark.parametrize(
    ("given", "amount"),
    [
        ("80.5", "80.50"),
        (" 12 ", "12.00"),
        (7, "7.00"),
        (Decimal("1.500"), "1.50"),
        ("-0.01", "-0.01"),
        ("99999999.99", "99999999.99"),
    ],
)
def test_to_money_gives_two_places(given, amount):
    result = to_money(given, what="price")

    assert (result, str(result)) == (Decimal(amount), amount)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("1.005", "price '1.005' must be below 100000000 with at most 2 decimal places"),
        ("100000000", "price '100000000' must be below 100000000 with at most 2 decimal places"),
        ("NaN", "price 'NaN' must be below 100000000 with at most 2 decimal places"),
        ("Infinity", "price 'Infinity' must be below 100000000 with at most 2 decimal places"),
        ("", "price '' is not an amount"),
        ("1,50", "price '1,50' is not an amount"),
        (None, "price 'None' is not an amount"),
        (0.5, "price must be a decimal amount, not a float"),
        (True, "price must be a decimal amount, not a bool"),
    ],
)
def test_to_money_refuses_what_is_not_an_amount_of_cents(given, message):
    with pytest.raises(ValidationFailed) as refused:
        to_money(given, what="price")

    assert (refused.value.what, refused.value.message) == ("price", message)


def test_check_in_range_refuses_a_sum_a_column_cannot_hold():
    assert check_in_range(Decimal("-99999999.99"), what="total") == Decimal("-99999999.99")
    with pytest.raises(ValidationFailed) as refused:
        check_in_range(Decimal("-100000000.00"), what="total")

    assert refused.value.message == "total would reach -100000000.00: amounts stay below 100000000"
