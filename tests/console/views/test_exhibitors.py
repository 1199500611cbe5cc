"""Exhibitors in the console: a list with search, status filter and keyset paging; the detail
page; add, change, cancel, make active again, staff and files through the exhibitors'
services."""

import pytest
from lxml import html

from confero.customfields import editing
from confero.customfields.models import Answer
from confero.customfields.services import ValueSpec
from confero.exhibitors.models import Exhibitor, ExhibitorFile, Participant
from confero.exhibitors.services import FileSpec, set_files
from confero.people.services import cancel_user
from tests.console.conftest import manage
from tests.console.views.test_sessionparts import textarea
from tests.console.views.test_sessions import alerts, rows
from tests.factories import ExhibitorFactory, UserFactory


def names(response) -> list[str]:
    page = html.fromstring(response.content)
    return [a.text for a in page.xpath("//table[contains(@class, 'exhibitors')]//td[1]/a")]


def exhibitor_url(world, path: str = "") -> str:
    return manage(world, f"exhibitors/{world.exhibitor.pk}/{path}")


def test_exhibitors_list_searches_and_filters_by_status(world, planner_client):
    ExhibitorFactory(site=world.production, name="Globex", booth="B12", exhibitor_code="GLX")
    gone = ExhibitorFactory(site=world.production, name="Initech", type="Software")
    planner_client.post(manage(world, f"exhibitors/{gone.pk}/cancel/"))
    ExhibitorFactory(site=world.uat, name="Globex on UAT")
    url = manage(world, "exhibitors/")

    def search(text, **more):
        return names(planner_client.get(url, {"q": text, **more}))

    assert search("glob") == search("b12") == search("GLX") == ["Globex"]
    assert search("soft") == ["Initech"]
    assert search("", status="cancelled") == ["Initech"]
    assert search("", status="active") == ["Globex", "Acme Robotics"]


def test_exhibitors_list_pages_by_key_newest_first(world, planner_client, monkeypatch):
    from confero.console.views import exhibitors

    monkeypatch.setattr(exhibitors, "PAGE_SIZE", 2)
    for n in range(3):
        ExhibitorFactory(site=world.production, name=f"Booth {n}")
    url = manage(world, "exhibitors/")

    first = planner_client.get(url)
    older = html.fromstring(first.content).xpath("//nav[@class='pager']/a/@href")
    second = planner_client.get(url + older[0])

    assert names(first) == ["Booth 2", "Booth 1"]
    assert names(second) == ["Booth 0", "Acme Robotics"]


@pytest.mark.parametrize("count", [1, 3])
def test_exhibitors_list_queries_do_not_grow_with_exhibitors(
    world, planner_client, django_assert_num_queries, count
):
    for _ in range(count - 1):
        ExhibitorFactory(site=world.production, participants=[(world.person, "")])

    # session, user, event, sites, exhibitors (their staff counted in a subquery)
    with django_assert_num_queries(5):
        response = planner_client.get(manage(world, "exhibitors/"))
    assert len(names(response)) == count
    assert [row[5] for row in rows(response, "exhibitors")] == ["1"] * count


def test_exhibitor_page_shows_staff_files_and_custom_values(world, planner_client):
    editing.define_field(world.production, record_type="exhibitor", code="sector",
                         display_name="Sector", field_type="choice",
                         values=[ValueSpec("robots", "Robotics")])  # fmt: skip
    planner_client.post(exhibitor_url(world, "edit/"), {
        "name": "Acme Robotics", "exhibitor_code": "ACME", "cf:sector": "robots",
    })  # fmt: skip
    set_files(world.exhibitor, [FileSpec("Brochure", "https://x.org/b.pdf", "application/pdf",
                                         99, "Our robots")])  # fmt: skip

    response = planner_client.get(exhibitor_url(world))

    assert rows(response, "staff") == [
        [f"Ada {world.person.last_name}", world.person.user_ref, "ada@example.org", "host"]
    ]
    assert rows(response, "files") == [
        ["Brochure", "application/pdf", "99", "https://x.org/b.pdf", "Our robots"]
    ]
    custom = html.fromstring(response.content).xpath("//dl[contains(@class, 'custom-values')]/dd")
    assert [dd.text_content() for dd in custom] == ["Robotics"]


def test_exhibitor_added_in_the_console_is_stored(world, planner_client):
    response = planner_client.post(manage(world, "exhibitors/new/"), {
        "name": "Globex", "exhibitor_code": "", "booth": "C3", "email": "hi@globex.example",
    })  # fmt: skip

    added = Exhibitor.objects.get(name="Globex")
    assert response["Location"] == manage(world, f"exhibitors/{added.pk}/")
    assert (added.exhibitor_code, added.booth, added.email, added.status) == (
        None, "C3", "hi@globex.example", "active")  # fmt: skip


@pytest.mark.parametrize(
    ("data", "refused"),
    [
        (
            {"name": "Copy", "exhibitor_code": "ACME"},
            ["exhibitorCode 'ACME' is already used by another exhibitor"],
        ),
        ({"name": "   "}, ["This field is required."]),
        ({"name": "Bad\x01"}, ["contains the character U+0001, which XML cannot carry"]),
        ({"name": "Globex", "email": "sales at globex"}, ["an email address"]),
    ],
    ids=["code taken", "no name", "not XML", "not an email"],
)
def test_exhibitor_form_refuses_what_the_services_refuse(world, planner_client, data, refused):
    response = planner_client.post(manage(world, "exhibitors/new/"), data)

    assert (response.status_code, alerts(response)) == (400, refused)
    assert Exhibitor.objects.count() == 1


def test_exhibitor_cancelled_keeps_its_staff_and_comes_back(world, planner_client):
    planner_client.post(exhibitor_url(world, "cancel/"))
    cancelled = Exhibitor.objects.get(pk=world.exhibitor.pk)
    planner_client.post(exhibitor_url(world, "reactivate/"))

    assert cancelled.status == "cancelled"
    assert Participant.objects.filter(exhibitor=world.exhibitor).count() == 1
    assert Exhibitor.objects.get(pk=world.exhibitor.pk).status == "active"


def test_staff_set_in_order_with_roles(world, planner_client):
    bea = UserFactory(site=world.production, first_name="Bea", email="bea@example.org")

    response = planner_client.post(exhibitor_url(world, "staff/"), {
        "people": f"{bea.user_ref} | sales\nada@example.org",
    })  # fmt: skip

    assert response.status_code == 302
    staff = Participant.objects.filter(exhibitor=world.exhibitor).order_by("position")
    assert list(staff.values_list("user_id", "role")) == [(bea.pk, "sales"), (world.person.pk, "")]
    assert textarea(planner_client.get(exhibitor_url(world, "staff/")), "people") == (
        "bea@example.org | sales\nada@example.org")  # fmt: skip


def test_staff_refused_names_the_problem(world, planner_client):
    gone = UserFactory(site=world.production)
    cancel_user(gone)

    twice = planner_client.post(exhibitor_url(world, "staff/"),
                                {"people": "ada@example.org\nCRM-1 | again"})  # fmt: skip
    cancelled = planner_client.post(exhibitor_url(world, "staff/"), {"people": gone.user_ref})

    assert alerts(twice) == [f"userRef '{world.person.user_ref}' is named twice"]
    assert alerts(cancelled) == [f"user '{gone.user_ref}' is cancelled"]
    staff = Participant.objects.filter(exhibitor=world.exhibitor)
    assert list(staff.values_list("role", flat=True)) == ["host"]


def test_exhibitor_files_keep_their_description(world, planner_client):
    response = planner_client.post(exhibitor_url(world, "files/"), {
        "files": "Logo | image/png | 12 | https://x.org/l.png | Our logo | large",
    })  # fmt: skip

    assert response.status_code == 302
    assert list(ExhibitorFile.objects.values_list("display_name", "type", "size", "url",
                                                  "description")) == [
        ("Logo", "image/png", 12, "https://x.org/l.png", "Our logo | large")]  # fmt: skip
    assert textarea(planner_client.get(exhibitor_url(world, "files/")), "files") == (
        "Logo | image/png | 12 | https://x.org/l.png | Our logo | large")  # fmt: skip


def test_exhibitor_custom_value_refused_with_the_apis_code(world, planner_client):
    editing.define_field(world.production, record_type="exhibitor", code="sector",
                         display_name="Sector", field_type="choice",
                         values=[ValueSpec("robots")])  # fmt: skip

    response = planner_client.post(exhibitor_url(world, "edit/"),
                                   {"name": "Acme Robotics", "cf:sector": "ships"})  # fmt: skip

    assert response.status_code == 400
    assert alerts(response)[0] == (
        "301 value 'ships' is not a value of custom field 'sector' (custom field value not "
        "recognised)"
    )
    assert not Answer.objects.filter(record_type="exhibitor").exists()
