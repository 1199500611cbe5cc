"""Property-based tests (hypothesis) of the order resources and of the user record's elements of
issue 16 (contract §8.2, §8.7, §9, §10): whatever parameters arrive (items in any shape, amounts
that are not amounts, unicode, empty, repeated, unknown names, identifiers of nobody), the answer
is never a 5xx, its code is one of the table with that code's HTTP status, nothing is written
when the code is not 0, and what was written is read back by orderData.do, orderFeed.do and
userData.do (every response validates against its XML Schema).

Each example runs in a savepoint that is rolled back at its end (tests/api/test_user_properties.py
explains why).
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confero.people.models import User
from confero.registration.models import Invoice, Order, OrderEntry, OrderItem, Payment, RegCode
from tests.api.test_user_properties import (
    EXAMPLES,
    READ_VALUES,
    SINCE,
    TEXT,
    assert_answer_is_in_the_table,
    rolled_back,
)
from tests.factories import RegCodeFactory

AMOUNTS = st.one_of(
    st.decimals(min_value=-(10**9), max_value=10**9, places=2).map(str),
    st.integers(min_value=-(10**10), max_value=10**10).map(str),
    st.sampled_from(["", " ", "0", "-0.00", "1e3", "NaN", "Infinity", "0.001", "99999999.99",
                     "100000000", "1,50", "+5", "--1", ".5", "5."]),
    st.text(TEXT, max_size=8),
)  # fmt: skip
PART = st.one_of(AMOUNTS, st.text(TEXT, max_size=12), st.sampled_from(["VIP", "DINNER", ""]))
PRINTABLE = st.characters(exclude_categories=("Cs", "Cc"))
VALID_ITEMS = st.one_of(
    st.sampled_from(["VIP", "DINNER", "VIP|", "DINNER||1.00|0.50|Jo", "Pass|10.00"]),
    st.builds(
        "{}|{}".format,
        st.text(PRINTABLE, min_size=1, max_size=12).filter(lambda t: "|" not in t and t.strip()),
        st.decimals(min_value=-999, max_value=99999, places=2),
    ),
)
ITEMS = st.one_of(
    VALID_ITEMS,
    VALID_ITEMS,
    st.sampled_from(["NOPE", "", "|", "||||"]),
    st.lists(PART, min_size=2, max_size=6).map("|".join),
    st.text(TEXT, max_size=20),
    st.just("x" * 201 + "|1.00"),
)
ORDER_NAMES = (
    "item", "item", "item", "regcode", "regcode", "orderNumber", "orderNumber", "orderId",
    "amountPaid", "amountPaid", "userKey", "clientID", "userRef", "event", "format",
)  # fmt: skip


def values_for(name: str):
    return {
        "item": ITEMS,
        "amountPaid": st.one_of(
            AMOUNTS, st.decimals(min_value=-1000, max_value=1000, places=2).map(str)
        ),
        "regcode": st.sampled_from(["FREE", "USED", "free", "NOPE", ""]),
        "orderNumber": st.one_of(
            st.sampled_from(["RS-1", "RS-2", ""]), st.text(TEXT, max_size=110)
        ),
        "orderId": st.one_of(st.sampled_from(["{order}", "0", "-1", "99999999"]), READ_VALUES),
        "userKey": st.one_of(st.just("{key}"), READ_VALUES),
        "clientID": st.sampled_from(["CRM-1", "CRM-404", ""]),
        "userRef": st.one_of(st.just("{ref}"), READ_VALUES),
    }.get(name, st.one_of(st.text(PRINTABLE, max_size=20), READ_VALUES))


# A call that succeeds, for the drawn parameters to add to or replace: most examples then
# reach the resource itself rather than a missing parameter.
VALID = {
    "addOrder": {"userKey": ["{key}"], "item": ["VIP"]},
    "updateOrder": {"orderNumber": ["RS-1"], "amountPaid": ["1.00"]},
    "cancelOrder": {"orderNumber": ["RS-1"]},
}


OWN_NAMES = {
    "addOrder": ("item", "item", "regcode", "orderNumber", "userKey", "clientID"),
    "updateOrder": ("item", "amountPaid", "orderId", "orderNumber", "userKey", "clientID",
                    "userRef"),
    "cancelOrder": ("orderId", "orderNumber", "userKey", "clientID", "userRef"),
}  # fmt: skip


@st.composite
def order_parameters(draw, resource: str) -> dict[str, list[str]]:
    """Mostly the resource's own parameters (so that most calls reach the resource), some of
    the other order resources' and any name at all."""
    names = draw(
        st.lists(
            st.one_of(
                *[st.sampled_from(OWN_NAMES[resource])] * 8,
                st.sampled_from(ORDER_NAMES),
                st.text(PRINTABLE, min_size=1, max_size=10),
                st.text(TEXT, min_size=1, max_size=10),
            ),
            max_size=3,
            unique=True,
        )
    )
    return {
        name: draw(
            st.lists(
                values_for(name),
                min_size=1,
                max_size=3 if name == "item" else 1 if draw(st.integers(0, 3)) else 2,
            )
        )
        for name in names
    }


def filled(params: dict[str, list[str]], user: User, order: Order) -> dict[str, list[str]]:
    """The placeholders replaced: identifiers that name the site's user and order."""
    names = {"{key}": user.user_key, "{ref}": user.user_ref, "{order}": str(order.pk)}
    return {name: [names.get(v, v) for v in values] for name, values in params.items()}


def written() -> tuple:
    """Everything an order call can write."""
    return (
        list(Order.objects.order_by("pk").values_list("pk", "total", "amount_paid", "modified_at",
                                                      "cancelled_at")),
        OrderEntry.objects.count(), OrderItem.objects.count(), Payment.objects.count(),
        Invoice.objects.count(), list(RegCode.objects.order_by("pk").values_list("uses_left")),
        list(User.objects.order_by("pk").values_list("modified_at", "registered", "paid")),
    )  # fmt: skip


@pytest.fixture
def shop(live, live_site, catalogue):
    """A user (clientID CRM-1) with one order (RS-1), and registration codes: FREE grants the
    VIP pass, USED has no use left."""
    RegCodeFactory(site=live_site.site, code="FREE", package=catalogue.vip)
    RegCodeFactory(site=live_site.site, code="USED", package=catalogue.vip, uses=0)
    user = live.add_user(email="kat@example.org", clientID="CRM-1")
    result = live.call("addOrder", {"userKey": user.user_key, "item": "VIP", "orderNumber": "RS-1"})
    assert result.code == 0
    return user, Order.objects.get()


def assert_reads_back(live, user: User) -> None:
    for resource, params in (
        ("orderData", {"userRef": user.user_ref}),
        ("orderFeed", {}),
        ("userData", {}),
    ):
        result = live.call(resource, params)
        assert (result.status, result.code) == (200, 0), result.body[:400]


@EXAMPLES
@given(data=st.data())
def test_order_writes_with_any_parameters_answer_from_the_table(live, shop, data):
    resource = data.draw(st.sampled_from(["addOrder", "updateOrder", "cancelOrder"]))
    params = data.draw(order_parameters(resource), label="parameters")
    user, order = shop
    with rolled_back():
        before = written()

        result = live.call(resource, filled({**VALID[resource], **params}, user, order))

        code = assert_answer_is_in_the_table(result)
        if code != 0:
            assert written() == before
        else:
            assert_reads_back(live, user)


@EXAMPLES
@given(
    resource=st.sampled_from(["orderData", "orderFeed"]),
    since=SINCE,
    params=st.dictionaries(
        st.sampled_from(["since", "event", "format", "userKey", "userRef", "clientID", "sn", "x"]),
        st.one_of(READ_VALUES, st.lists(READ_VALUES, min_size=2, max_size=3)),
        max_size=4,
    ),
    named=st.sampled_from(["userRef", "userKey", "clientID", None]),
)
def test_order_reads_with_any_parameters_answer_from_the_table(
    live, shop, resource, since, params, named
):
    """orderData.do and orderFeed.do write nothing: any `since`, `event`, `format`, identifier
    or parameter of the client's own gets a code of the table, never a 5xx."""
    user, _ = shop
    with rolled_back():
        live.call("updateOrder", {"orderNumber": "RS-1", "item": ["VIP", "DINNER||1|2|Jo"],
                                  "amountPaid": "3.50"})  # fmt: skip
        if named:
            params = {**params, named: {"userRef": user.user_ref, "userKey": user.user_key,
                                        "clientID": "CRM-1"}[named]}  # fmt: skip
        before = written()

        result = live.call(resource, {"since": since, **params})

        assert_answer_is_in_the_table(result)
        assert written() == before


@settings(parent=EXAMPLES, max_examples=40)
@given(
    screen_name=st.one_of(
        st.text(PRINTABLE, max_size=100), st.text(TEXT, max_size=120), st.just("x" * 101)
    ),
    classification=st.one_of(
        st.lists(st.text(PRINTABLE, max_size=100), max_size=1),
        st.lists(st.text(TEXT, max_size=110), max_size=2),
    ),
    regcode=st.sampled_from(["FREE", "USED", None]),
)
def test_user_profile_and_regcodes_with_any_values_answer_from_the_table_and_read_back(
    live, shop, screen_name, classification, regcode
):
    """screenName and report-classification through updateUser.do, and a code used by an
    order: the user record (getUser.do, userData.do) still validates whatever was stored."""
    user, _ = shop
    with rolled_back():
        if regcode:
            live.call("addOrder", {"userKey": user.user_key, "item": "VIP", "regcode": regcode})
        before = User.objects.filter(pk=user.pk).values().get()

        result = live.call("updateUser", {"userKey": user.user_key, "screenName": screen_name,
                                          "report-classification": classification})  # fmt: skip

        code = assert_answer_is_in_the_table(result)
        if code != 0:
            assert User.objects.filter(pk=user.pk).values().get() == before
        got = live.call("getUser", {"userRef": user.user_ref})
        assert (got.status, got.code) == (200, 0)
        assert_reads_back(live, user)
