"""Users in the console: a list with search, filters and keyset paging; add, change and cancel
through the people services with the API's rules and codes; what the API then answers."""

import pytest
from lxml import html

from confero.people.models import User
from tests.console.conftest import manage
from tests.factories import RegistrationSettingsFactory, UserFactory


def names(response) -> list[str]:
    page = html.fromstring(response.content)
    return [a.text for a in page.xpath("//table[contains(@class, 'users')]//td[1]/a")]


def refusals(response) -> list[str]:
    page = html.fromstring(response.content)
    return [" ".join(li.text_content().split()) for li in page.xpath("//div[@role='alert']//li")]


def test_users_list_searches_names_email_company_and_identifiers(world, planner_client):
    UserFactory(site=world.production, first_name="Grace", last_name="Hopper",
                email="grace@navy.mil", company_name="US Navy", client_id="CRM-2")  # fmt: skip
    UserFactory(site=world.uat, first_name="Grace", last_name="Uat", email="grace@uat.org")

    def search(text):
        return names(planner_client.get(manage(world, "users/"), {"q": text}))

    assert search("hopp") == search("NAVY") == search("CRM-2") == ["Grace Hopper"]
    assert search(world.person.user_ref.lower()) == [f"Ada {world.person.last_name}"]
    assert search("grace") == ["Grace Hopper"]  # not the UAT site's
    assert search("nobody") == []


def test_users_list_filters_by_status_registration_and_custom_value(
    world, planner_client, alpha_api
):
    vip = alpha_api.add_user(firstName="Vera", lastName="Vip", attendee_type="vip",
                             registered="true")  # fmt: skip
    gone = alpha_api.add_user(firstName="Carl", lastName="Gone")
    alpha_api.call("cancelUser", {"userKey": gone.user_key})
    value = world.production.custom_fields.get(code="attendee_type").values.get(code="vip")
    url = manage(world, "users/")

    assert names(planner_client.get(url, {"status": "cancelled"})) == ["Carl Gone"]
    assert names(planner_client.get(url, {"registered": "yes"})) == ["Vera Vip"]
    assert names(planner_client.get(url, {"value": value.pk})) == ["Vera Vip"]
    assert len(names(planner_client.get(url, {"status": "active"}))) == 2
    assert vip.registered


def test_users_list_pages_by_key_newest_first(world, planner_client, settings, monkeypatch):
    from confero.console.views import users

    monkeypatch.setattr(users, "PAGE_SIZE", 2)
    for n in range(4):
        UserFactory(site=world.production, first_name=f"U{n}", last_name="Zq")
    url = manage(world, "users/")

    first = planner_client.get(url, {"q": "zq"})
    older = html.fromstring(first.content).xpath("//nav[@class='pager']/a/@href")
    second = planner_client.get(url + older[-1])
    back = html.fromstring(second.content).xpath("//nav[@class='pager']/a/@href")

    assert names(first) == ["U3 Zq", "U2 Zq"]
    assert names(second) == ["U1 Zq", "U0 Zq"]
    assert [link.split("&")[-1].split("=")[0] for link in back] == ["before"]
    assert names(planner_client.get(url + back[0])) == ["U3 Zq", "U2 Zq"]


@pytest.mark.parametrize("count", [1, 3])
def test_users_list_queries_do_not_grow_with_users(
    world, planner_client, django_assert_num_queries, count
):
    for _ in range(count - 1):
        UserFactory(site=world.production)
    planner_client.get(manage(world, "users/"))  # the custom fields' definitions cached

    # session, user, event, sites, users
    with django_assert_num_queries(5):
        response = planner_client.get(manage(world, "users/"))
    assert len(names(response)) == count


def test_user_added_in_the_console_is_a_user_of_the_api(world, planner_client, alpha_api):
    response = planner_client.post(manage(world, "users/new/"), {
        "firstName": " Grace ", "lastName": "Hopper", "email": "grace@example.org",
        "clientID": "CRM-9", "registered": "true", "cf:type_business": "__other__",
        "cf:type_business:other": "Navy", "cf:dietary": ["veg", "gf"],
    })  # fmt: skip

    user = User.objects.get(email="grace@example.org")
    assert response["Location"] == manage(world, f"users/{user.user_ref}/")
    got = alpha_api.call("getUser", {"clientID": "CRM-9"})
    assert (got.code, got.xml.findtext("user/firstName"), got.xml.findtext("user/registered")) == (
        0, "Grace", "true")  # fmt: skip
    assert got.xml.findtext("user/Type-of-business") == "other"
    assert [e.text for e in got.xml.iter("Dietary-needs")] == ["veg", "gf"]


@pytest.mark.parametrize(
    ("data", "refused"),
    [
        ({"email": "not-an-address"},
         ["201 parameter 'email' must be an email address (parameter value not valid (message "
          "names parameter and rule))"]),
        ({"email": "ADA@example.org"},
         ["214 email 'ADA@example.org' is already used by another active user (email already used "
          "by another active user)"]),
        ({"clientID": "CRM-1"},
         ["211 clientID 'CRM-1' is already used by another user (clientID already used by another "
          "user)"]),
        ({"cf:tshirt": "xxl"},
         ["301 value 'xxl' is not a value of custom field 'tshirt' (custom field value not "
          "recognised)"]),
        ({"firstName": "", "zip": "x" * 21},
         ["200 parameter 'firstName' is required (required parameter missing (message names it))",
          "201 parameter 'zip' must be at most 20 characters (parameter value not valid (message "
          "names parameter and rule))"]),
    ],
)  # fmt: skip
def test_user_refused_by_the_apis_rules_shows_the_code_and_writes_nothing(
    world, planner_client, alpha_api, data, refused
):
    form = {"firstName": "Grace", "lastName": "Hopper", "email": "grace@example.org", **data}

    response = planner_client.post(manage(world, "users/new/"), form)

    assert (response.status_code, refusals(response)) == (400, refused)
    assert User.objects.count() == 1
    api = alpha_api.call("addUser", {
        ("tshirt" if k == "cf:tshirt" else k): v for k, v in form.items()})  # fmt: skip
    assert api.code == int(refused[0].split()[0])  # the API answers the same


def test_user_changed_moves_last_modified_and_the_feed_shows_it(world, planner_client, alpha_api):
    first = alpha_api.call("userData")
    url = manage(world, f"users/{world.person.user_ref}/edit/")
    form = {k: v for k, v in html.fromstring(planner_client.get(url).content).forms[1].form_values()
            if k != "csrfmiddlewaretoken"}  # fmt: skip

    response = planner_client.post(url, {**form, "city": "London", "cf:tshirt": "m"})

    assert response.status_code == 302
    changed = alpha_api.call("userData", {"since": first.xml.get("time")})
    [record] = changed.xml.findall("user")
    assert (record.findtext("city"), record.findtext("T-shirt-size")) == ("London", "m")


def test_user_saved_unchanged_leaves_last_modified_alone(world, planner_client):
    url = manage(world, f"users/{world.person.user_ref}/edit/")
    form = {k: v for k, v in html.fromstring(planner_client.get(url).content).forms[1].form_values()
            if k != "csrfmiddlewaretoken"}  # fmt: skip
    before = User.objects.get(pk=world.person.pk).modified_at

    planner_client.post(url, form)

    assert User.objects.get(pk=world.person.pk).modified_at == before


def test_user_email_emptied_is_refused_as_updateuser_refuses_it(world, planner_client):
    url = manage(world, f"users/{world.person.user_ref}/edit/")

    response = planner_client.post(url, {"firstName": "Ada", "lastName": "X", "email": ""})

    assert refusals(response)[0].startswith("201 parameter 'email' cannot be empty")
    assert User.objects.get(pk=world.person.pk).email == "ada@example.org"


def test_user_cancelled_in_the_console_is_cancelled_for_the_api(world, planner_client, alpha_api):
    response = planner_client.post(manage(world, f"users/{world.person.user_ref}/cancel/"))

    assert response.status_code == 302
    assert User.objects.get(pk=world.person.pk).status == "cancelled"
    assert alpha_api.call("updateUser", {"clientID": "CRM-1", "city": "Paris"}).code == 215
    edit = planner_client.get(manage(world, f"users/{world.person.user_ref}/edit/"))
    assert edit.status_code == 302  # a cancelled user is not changed


def test_user_page_shows_custom_values_by_label(world, planner_client, alpha_api):
    user = alpha_api.add_user(firstName="Grace", type_business="Navy", dietary=["veg", "gf"])

    page = html.fromstring(planner_client.get(manage(world, f"users/{user.user_ref}/")).content)

    terms = page.xpath("//dl[contains(@class, 'custom-values')]/dt/text()")
    values = page.xpath("//dl[contains(@class, 'custom-values')]/dd")
    shown = dict(zip(terms, [" ".join(dd.text_content().split()) for dd in values], strict=True))
    assert (shown["Type of business "], shown["Dietary needs "]) == (
        "Navy (Other: please specify)",
        "Vegetarian, Gluten-free",
    )


def test_site_deriving_status_from_orders_takes_registered_and_paid_from_no_form(
    world, planner_client, alpha_api
):
    # Before: the form's checkboxes were written, and the next order change overwrote them; the
    # API refuses them on such a site (201). The form now shows them without sending them.
    RegistrationSettingsFactory(site=world.production)
    User.objects.filter(pk=world.person.pk).update(registered=True, paid=False)
    url = manage(world, f"users/{world.person.user_ref}/edit/")
    page = html.fromstring(planner_client.get(url).content)
    form = {k: v for k, v in page.forms[1].form_values() if k != "csrfmiddlewaretoken"}
    assert page.xpath("//input[@id='id_registered']/@disabled") == ["disabled"]
    assert "registered" not in form
    assert "paid" not in form

    response = planner_client.post(url, {**form, "paid": "true", "city": "Leeds"})

    assert response.status_code == 302  # the city saved; registered and paid left as they were
    stored = User.objects.values_list("city", "registered", "paid").get(pk=world.person.pk)
    assert stored == ("Leeds", True, False)
    refused = alpha_api.call("updateUser", {"userKey": world.person.user_key, "paid": "true"})
    assert (refused.status, refused.code, refused.message) == (
        400, 201, "parameter 'paid' is not accepted on this site: registered and paid follow "
        "from the user's orders")  # fmt: skip


def test_site_deriving_status_adds_a_user_without_a_say_in_registered_and_paid(
    world, planner_client
):
    RegistrationSettingsFactory(site=world.production)
    form = {"firstName": "Vera", "lastName": "Vip", "email": "vera@example.org"}

    response = planner_client.post(manage(world, "users/new/"), {**form, "registered": "true"})

    assert response.status_code == 302  # the form sends no status on such a site
    assert User.objects.values_list("registered", "paid").get(email="vera@example.org") == (
        False, False)  # fmt: skip
