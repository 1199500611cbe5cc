"""Custom fields in the console: created and changed with the import's rules and then used by
the API; value IDs shown; a set code read-only for planners, changed by a superuser after the
page that shows its use; no delete of a field in use."""

import pytest
from lxml import html

from confero.customfields.models import CustomField, CustomValue
from tests.console.conftest import manage


def notices(response) -> list[str]:
    return html.fromstring(response.content).xpath("//ul[@class='messages']/li/text()")


def refusals(response) -> list[str]:
    return html.fromstring(response.content).xpath("//p[@class='error']/text()")


def test_choice_field_created_with_values_is_taken_by_adduser(world, planner_client, alpha_api):
    response = planner_client.post(
        manage(world, "fields/new/"),
        {"record_type": "user", "code": "track", "display_name": "Track", "field_type": "choice",
         "values": "dev | Developers\nops\n"},
    )  # fmt: skip

    field = CustomField.objects.get(site=world.production, code="track")
    assert response["Location"] == manage(world, f"fields/{field.pk}/")
    assert list(field.values.values_list("code", "label")) == [
        ("dev", "Developers"),
        ("ops", "ops"),
    ]
    added = alpha_api.call(
        "addUser", {"firstName": "G", "lastName": "H", "email": "g@example.org", "track": "ops"}
    )
    assert (added.code, added.xml.find("customValue").attrib) == (
        0,
        {"field": "track", "code": "ops"},
    )
    assert alpha_api.call("addUser", {"firstName": "G", "lastName": "H", "email": "x@example.org",
                                      "track": "qa"}).code == 301  # fmt: skip


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"code": "email"}, "'email' is a standard parameter of user resources"),
        ({"code": "2fast"}, "a letter, then letters, digits, '_', '.' or '-' (≤ 60)"),
        ({"code": "type_business"}, "a field with code 'type_business' exists already"),
        ({"display_name": "status"}, "its element name <status> is a standard element of users"),
        ({"field_type": "text", "values": "a"}, "a text field has no values"),
    ],
)
def test_field_refused_names_the_rule_and_creates_nothing(world, planner_client, data, error):
    before = CustomField.objects.count()
    response = planner_client.post(
        manage(world, "fields/new/"),
        {"record_type": "user", "code": "track", "display_name": "Track", "field_type": "choice",
         **data},
    )  # fmt: skip

    assert (response.status_code, refusals(response)) == (400, [error])
    assert CustomField.objects.count() == before


def test_field_page_shows_value_ids_and_no_code_input_for_a_planner(world, planner_client):
    page = html.fromstring(planner_client.get(manage(world, f"fields/{world.field.pk}/")).content)

    rows = page.xpath("//table[contains(@class, 'values')]/tbody/tr")
    ids = [row.xpath("string(td[1])").strip() for row in rows]
    assert ids == [str(v.pk) for v in world.field.values.order_by("position", "id")]
    assert not page.xpath("//input[@name='code' and @value='type_business']")
    assert not page.xpath("//a[contains(@href, '/code/')]")


def test_planner_cannot_change_a_set_code(world, planner_client):
    url = manage(world, f"fields/{world.field.pk}/code/")

    shown = planner_client.get(url)
    posted = planner_client.post(url, {"new_code": "business", "confirm": "on"})

    assert (shown.status_code, posted.status_code) == (403, 403)
    assert CustomField.objects.get(pk=world.field.pk).code == "type_business"


def test_superuser_changes_a_code_after_seeing_where_it_is_used(world, super_client, alpha_api):
    alpha_api.add_user(email="g@example.org", type_business="govt")
    url = manage(world, f"fields/{world.field.pk}/code/")

    shown = super_client.get(url).content.decode()
    unconfirmed = super_client.post(url, {"new_code": "business"})
    done = super_client.post(url, {"new_code": "business", "confirm": "on"})

    assert "Held by: 1 user" in shown
    assert unconfirmed.status_code == 400
    assert done.status_code == 302
    assert CustomField.objects.get(pk=world.field.pk).code == "business"
    old = alpha_api.call("addUser", {"firstName": "A", "lastName": "B", "email": "z@example.org",
                                     "type_business": "govt"})  # fmt: skip
    assert old.code == 300


def test_field_in_use_is_not_deleted(world, planner_client, alpha_api):
    alpha_api.add_user(email="g@example.org", type_business="govt")

    response = planner_client.post(manage(world, f"fields/{world.field.pk}/delete/"), follow=True)

    assert notices(response) == ["'type_business' is held by 1 user: it cannot be deleted"]
    assert CustomField.objects.filter(pk=world.field.pk).exists()


def test_field_not_in_use_is_deleted_with_its_values(world, planner_client):
    tshirt = CustomField.objects.get(site=world.production, code="tshirt")

    response = planner_client.post(manage(world, f"fields/{tshirt.pk}/delete/"))

    assert response["Location"] == manage(world, "fields/")
    assert not CustomField.objects.filter(pk=tshirt.pk).exists()
    assert not CustomValue.objects.filter(field_id=tshirt.pk).exists()


def test_value_added_with_other_and_changed(world, planner_client, alpha_api):
    tshirt = CustomField.objects.get(site=world.production, code="tshirt")
    base = manage(world, f"fields/{tshirt.pk}/values/")

    planner_client.post(base, {"code": "custom", "label": "Other size", "other": "on"})
    value = tshirt.values.get(code="custom")
    planner_client.post(f"{base}{value.pk}/", {f"v{value.pk}-label": "Another size",
                                               f"v{value.pk}-other": "on"})  # fmt: skip

    stored = CustomValue.objects.get(pk=value.pk)
    assert (stored.label, stored.is_other) == ("Another size", True)
    added = alpha_api.call("addUser", {"firstName": "A", "lastName": "B", "email": "q@example.org",
                                       "tshirt": "XXL"})  # fmt: skip
    assert added.xml.find("customValue").attrib == {"field": "tshirt", "code": "custom",
                                                    "other": "XXL"}  # fmt: skip


def test_constraint_on_a_user_fields_value_is_refused(world, planner_client):
    tshirt = CustomField.objects.get(site=world.production, code="tshirt")
    value = tshirt.values.get(code="s")

    response = planner_client.post(
        manage(world, f"fields/{tshirt.pk}/values/{value.pk}/"),
        {f"v{value.pk}-label": "S", f"v{value.pk}-constraint": "cannotViewOrSchedule"},
        follow=True,
    )

    assert notices(response) == ["Value 's': only values of profile fields carry constraints"]
    assert CustomValue.objects.get(pk=value.pk).constraint == ""


def test_rename_moves_the_element_name_in_the_feed(world, planner_client, alpha_api):
    alpha_api.add_user(email="g@example.org", type_business="govt")

    planner_client.post(manage(world, f"fields/{world.field.pk}/"), {"display_name": "Sector"})

    feed = alpha_api.call("userData")
    assert [e.text for e in feed.xml.iter("Sector")] == [None, "govt"]  # Ada holds none
    assert not list(feed.xml.iter("Type-of-business"))


@pytest.mark.parametrize("count", [1, 3])
def test_fields_list_queries_do_not_grow_with_fields(
    world, planner_client, django_assert_num_queries, count
):
    from confero.customfields import editing

    for field in CustomField.objects.filter(site=world.production).exclude(
        code__in=["type_business", "dietary", "tshirt"][:count]
    ):
        editing.delete_field(field)
    assert CustomField.objects.filter(site=world.production).count() == count

    # session, user, event, sites, fields
    with django_assert_num_queries(5):
        response = planner_client.get(manage(world, "fields/"))
    assert len(html.fromstring(response.content).xpath("//table/tbody/tr")) == count
