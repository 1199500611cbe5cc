"""How the record layer writes money (confero.api.records.rendering): always two decimal
places, from the text each database gives for a numeric column (PostgreSQL keeps the column's
scale, SQLite gives the number's shortest form) or from a Python number. The elements themselves
are tested through HTTP (tests/api/test_order_data.py and the other resources' tests)."""

from decimal import Decimal

import pytest

from confero.api.records.rendering import TEXT_OF


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("350.00", "350.00"),  # PostgreSQL
        ("-161.00", "-161.00"),
        ("12345678.99", "12345678.99"),
        ("350", "350.00"),  # SQLite: a whole number is stored as an integer
        ("-80", "-80.00"),
        ("0", "0.00"),
        ("19.5", "19.50"),
        ("124.0", "124.00"),
        ("-0.5", "-0.50"),
        ("0.05", "0.05"),
        ("1e3", "1000.00"),  # anything else: through Decimal
        (".5", "0.50"),
        (Decimal("1.5"), "1.50"),
        (7, "7.00"),
    ],
)
def test_money_is_written_with_two_decimal_places(value, text):
    assert TEXT_OF["money"](value) == text
