"""addOrder.do through HTTP (contract §8.7): a Purchase for the user named by userKey or clientID
(act), its items (package codes, `name|price`, Confero's fee/tax/guest parts), registration codes
(252), order numbers (251), and the refusals of an acting resource; nothing written on any
refusal."""

import pytest

from confero.access.models import ApiCall
from confero.people.models import User
from confero.registration.models import Order, OrderItem, RegCode
from tests.api.orders import entries, error_xml, items, order_answer
from tests.factories import RegCodeFactory, RegistrationTypeFactory


@pytest.fixture
def kat(live) -> User:
    return live.add_user(email="kat@example.org", clientID="CRM-17")


def written() -> tuple[int, int]:
    return Order.objects.count(), OrderItem.objects.count()


def test_add_order_places_a_purchase_and_answers_the_order(live, kat, catalogue):
    result = live.call(
        "addOrder",
        {"userKey": kat.user_key, "item": ["VIP", "Workshop|120.00|5.00|22.80"],
         "orderNumber": "RS-1"},
    )  # fmt: skip

    order = Order.objects.get()
    assert (result.status, result.body) == (
        200,
        order_answer(order, status="active", total="597.80", paid="0.00", in_full=False),
    )
    assert [entry.kind for entry in entries(order)] == ["Purchase"]
    assert [(i.type, i.name, str(i.price), i.package_id) for i in items(order)] == [
        ("package", "VIP pass", "450.00", catalogue.vip.pk),
        ("item", "Workshop", "147.80", None),
    ]
    row = ApiCall.objects.order_by("-id").first()
    assert (row.resource, row.code, row.ignored_params) == ("addOrder", 0, "")


def test_add_order_by_client_id_without_an_order_number(live, kat, catalogue):
    result = live.call("addOrder", {"clientID": "CRM-17", "item": "DINNER"})

    order = Order.objects.get()
    assert result.body == order_answer(
        order, status="active", total="80.00", paid="0.00", in_full=False
    )
    assert b"<orderNumber/>" in result.body
    assert (order.user_id, order.order_number) == (kat.pk, None)


def test_add_order_item_parts_give_fee_tax_and_guest_name_to_packages_and_named_items(
    live, kat, catalogue
):
    result = live.call(
        "addOrder",
        {"userKey": kat.user_key,
         "item": ["DINNER||2.00|1.50|Jane Doe", "Partner tour|35|0|0|Sam | Alex", "VIP|"]},
    )  # fmt: skip

    assert result.code == 0, result.body
    assert [
        (i.type, i.name, str(i.base_price), str(i.booking_fee), str(i.tax), i.guest_package,
         i.guest_name)
        for i in items(Order.objects.get())
    ] == [
        ("package", "Guest dinner", "80.00", "2.00", "1.50", True, "Jane Doe"),
        ("item", "Partner tour", "35.00", "0.00", "0.00", True, "Sam | Alex"),
        ("package", "VIP pass", "450.00", "0.00", "0.00", False, ""),
    ]  # fmt: skip


def test_add_order_with_a_registration_code_grants_its_package_free_and_takes_a_use(
    live, kat, catalogue, live_site
):
    RegCodeFactory(site=live_site.site, code="VIPFREE", package=catalogue.vip, uses=1)

    result = live.call("addOrder", {"userKey": kat.user_key, "item": "VIP", "regcode": "VIPFREE"})

    order = Order.objects.get()
    assert result.body == order_answer(
        order, status="active", total="0.00", paid="0.00", in_full=True
    )
    assert [(i.name, str(i.price)) for i in items(order)] == [("VIP pass", "0.00")]
    assert RegCode.objects.get(code="VIPFREE").uses_left == 0
    regcodes = live.call("getUser", {"userRef": kat.user_ref}).xml.find("user/regcodes")
    assert [code.text for code in regcodes] == ["VIPFREE"]


def test_add_order_with_a_code_granting_a_registration_type_adds_it_as_a_free_line(
    live, kat, catalogue, live_site
):
    RegCodeFactory(site=live_site.site, code="SPK-2026", package=None,
                   registration_type=catalogue.speaker)  # fmt: skip

    result = live.call(
        "addOrder", {"userKey": kat.user_key, "item": "Workshop|50.00", "regcode": "SPK-2026"}
    )

    assert result.xml.findtext("totalPrice") == "50.00"
    assert [(i.type, i.name, str(i.price)) for i in items(Order.objects.get())] == [
        ("item", "Workshop", "50.00"),
        ("registrationType", "Speaker", "0.00"),
    ]


@pytest.mark.parametrize(
    ("regcode", "message"),
    [
        ("NOPE", "registration code 'NOPE' is not valid on this site"),
        ("vipfree", "registration code 'vipfree' is not valid on this site"),  # case counts
        ("USEDUP", "registration code 'USEDUP' is used up"),
    ],
)
def test_add_order_with_a_code_not_valid_or_used_up_is_refused_with_252(
    live, kat, catalogue, live_site, regcode, message
):
    RegCodeFactory(site=live_site.site, code="VIPFREE", package=catalogue.vip)
    RegCodeFactory(site=live_site.site, code="USEDUP", package=catalogue.vip, uses=0)

    result = live.call("addOrder", {"userKey": kat.user_key, "item": "VIP", "regcode": regcode})

    assert (result.status, result.body) == (400, error_xml(252, message))
    assert written() == (0, 0)


def test_add_order_with_a_code_of_the_other_site_is_refused_with_252(
    live, kat, catalogue, uat_site
):
    speaker = RegistrationTypeFactory(site=uat_site.site, code="SPEAKER")
    RegCodeFactory(site=uat_site.site, code="UATONLY", package=None, registration_type=speaker)

    result = live.call("addOrder", {"userKey": kat.user_key, "item": "VIP", "regcode": "UATONLY"})

    assert (result.status, result.code) == (400, 252)


def test_add_order_with_an_order_number_already_used_is_refused_with_251(
    live, kat, catalogue, api, uat_site
):
    live.call("addOrder", {"userKey": kat.user_key, "item": "VIP", "orderNumber": "RS-1"})
    other = live.add_user(email="other@example.org")

    result = live.call(
        "addOrder", {"userKey": other.user_key, "item": "VIP", "orderNumber": "RS-1"}
    )

    assert (result.status, result.body) == (
        409,
        error_xml(251, "orderNumber 'RS-1' is already used by another order"),
    )
    assert written() == (1, 1)


def test_add_order_number_is_unique_per_site_only(live, kat, catalogue, api, uat_site):
    live.call("addOrder", {"userKey": kat.user_key, "item": "Pass|1.00", "orderNumber": "RS-1"})
    uat = api.call(
        uat_site.url("addUser"),
        {"apiToken": uat_site.token, "firstName": "K", "lastName": "J", "email": "k@example.org"},
    )

    result = api.call(
        uat_site.url("addOrder"),
        {"apiToken": uat_site.token, "userKey": uat.xml.findtext("userKey"), "item": "Pass|1.00",
         "orderNumber": "RS-1"},
    )  # fmt: skip

    assert result.code == 0
    assert sorted(Order.objects.values_list("site_id", "order_number")) == sorted(
        [(kat.site_id, "RS-1"), (uat_site.site.pk, "RS-1")]
    )


@pytest.mark.parametrize(
    ("params", "code", "status", "message"),
    [
        ({"userKey": "F" * 32}, 210, 404, f"no user with userKey '{'F' * 32}' on this site"),
        ({"clientID": "CRM-404"}, 210, 404, "no user with clientID 'CRM-404' on this site"),
        ({}, 200, 400, "parameter 'userKey' or 'clientID' is required"),
        ({"userRef": "{ref}"}, 212, 400,
         "userRef cannot act as the user: use userKey or clientID"),
    ],
)  # fmt: skip
def test_add_order_for_a_user_it_cannot_act_as_is_refused(
    live, kat, catalogue, params, code, status, message
):
    params = {name: value.format(ref=kat.user_ref) for name, value in params.items()}

    result = live.call("addOrder", {"item": "VIP", **params})

    assert (result.status, result.body) == (status, error_xml(code, message))
    assert written() == (0, 0)


def test_add_order_for_a_cancelled_user_is_refused_with_215(live, kat, catalogue):
    live.call("cancelUser", {"userKey": kat.user_key})

    result = live.call("addOrder", {"userKey": kat.user_key, "item": "VIP"})

    assert (result.status, result.body) == (409, error_xml(215, "user is cancelled"))
    assert written() == (0, 0)


ITEM_RULE = (
    "a package code, or name|price[|bookingFee[|tax[|guestName]]] with decimal amounts "
    "(an empty price: name is a package code)"
)


@pytest.mark.parametrize(
    ("item", "code", "message"),
    [
        ([], 200, "parameter 'item' is required"),
        ([""], 200, "parameter 'item' is required (it is empty)"),
        (["VIP", ""], 201, f"parameter 'item' must be {ITEM_RULE}"),
        (["|10.00"], 201, f"parameter 'item' must be {ITEM_RULE}"),
        (["Workshop|ten"], 201,
         "parameter 'item' must be a price as a decimal amount with at most 2 places, "
         "below 100000000"),
        (["Workshop|1.234"], 201,
         "parameter 'item' must be a price as a decimal amount with at most 2 places, "
         "below 100000000"),
        (["Workshop|100000000"], 201,
         "parameter 'item' must be a price as a decimal amount with at most 2 places, "
         "below 100000000"),
        (["Workshop|10|1,50"], 201,
         "parameter 'item' must be a booking fee as a decimal amount with at most 2 places, "
         "below 100000000"),
        (["Workshop|10|-1.00"], 201, "parameter 'item': booking fee and tax cannot be negative"),
        (["NOPKG"], 201, "parameter 'item': no package 'NOPKG' on this site"),
        (["VIP", "NOPKG||1.00"], 201, "parameter 'item': no package 'NOPKG' on this site"),
        ([f"{'x' * 201}|1.00"], 201, "parameter 'item': an item's name takes 1 to 200 characters"),
    ],
)  # fmt: skip
def test_add_order_with_items_not_valid_is_refused(live, kat, catalogue, item, code, message):
    result = live.call("addOrder", {"userKey": kat.user_key, "item": item})

    assert (result.status, result.body) == (400, error_xml(code, message))
    assert written() == (0, 0)


def test_add_order_with_an_order_number_too_long_is_refused_with_201(live, kat, catalogue):
    result = live.call("addOrder", {"userKey": kat.user_key, "item": "VIP",
                                    "orderNumber": "N" * 101})  # fmt: skip

    assert (result.status, result.body) == (
        400,
        error_xml(201, "parameter 'orderNumber' must be at most 100 characters"),
    )


def test_add_order_takes_no_custom_fields_and_writes_nothing_for_one(live, kat, catalogue):
    """addOrder.do writes: a parameter it does not declare is a custom field code (§2), and
    orders have none (300)."""
    result = live.call("addOrder", {"userKey": kat.user_key, "item": "VIP", "sn": "CRM"})

    assert (result.status, result.body) == (
        400,
        error_xml(300, "parameter 'sn' is not known to addOrder.do (it takes no custom fields)"),
    )
    assert written() == (0, 0)


def test_add_order_moves_the_users_last_modified(live, kat, catalogue):
    User.objects.filter(pk=kat.pk).update(modified_at="2020-01-01T00:00:00Z")

    live.call("addOrder", {"userKey": kat.user_key, "item": "VIP"})

    kat.refresh_from_db()
    assert kat.modified_at.year > 2020
