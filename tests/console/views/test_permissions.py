"""Every console page × who asks: anonymous (to the login page), a planner of another account
(404, whether the event exists or not), the event's planner and a superuser (the page); and
CSRF on every form that writes."""

import re

import pytest
from django.test import Client

from tests.console.conftest import logged_in

# (name, method, path under /manage/ with {placeholders} from the world, the planner's status)
PAGES = [
    ("events", "get", "", 200),
    ("event", "get", "events/alpha/", 200),
    ("settings", "get", "events/alpha/settings/", 200),
    ("apis", "get", "events/alpha/settings/apis/", 200),
    ("profile", "get", "events/alpha/settings/apis/production/", 200),
    ("profile save", "post", "events/alpha/settings/apis/production/", 302),
    ("create token", "post", "events/alpha/settings/apis/production/tokens/", 200),
    ("revoke token", "post", "events/alpha/settings/apis/production/tokens/{prefix}/revoke/", 302),
    ("copy", "get", "events/alpha/settings/copy/", 200),
    ("copy apply", "post", "events/alpha/settings/copy/", 200),
    ("calls", "get", "events/alpha/calls/", 200),
    ("fields", "get", "events/alpha/production/fields/", 200),
    ("new field", "get", "events/alpha/production/fields/new/", 200),
    ("new field save", "post", "events/alpha/production/fields/new/", 302),
    ("field", "get", "events/alpha/production/fields/{field}/", 200),
    ("rename field", "post", "events/alpha/production/fields/{field}/", 302),
    ("recode field", "get", "events/alpha/production/fields/{field}/code/", 403),
    ("new value", "post", "events/alpha/production/fields/{field}/values/", 302),
    ("change value", "post", "events/alpha/production/fields/{field}/values/{value}/", 302),
    ("delete value", "post", "events/alpha/production/fields/{field}/values/{value}/delete/", 302),
    ("delete field", "post", "events/alpha/production/fields/{field}/delete/", 302),
    ("users", "get", "events/alpha/production/users/", 200),
    ("new user", "get", "events/alpha/production/users/new/", 200),
    ("new user save", "post", "events/alpha/production/users/new/", 302),
    ("export", "get", "events/alpha/production/users/export.csv", 200),
    ("import", "get", "events/alpha/production/users/import/", 200),
    ("import upload", "post", "events/alpha/production/users/import/", 400),
    ("import preview", "get", "events/alpha/production/users/import/{upload}/", 200),
    ("import run", "post", "events/alpha/production/users/import/{upload}/", 200),
    ("import rejected", "get", "events/alpha/production/users/import/{upload}/rejected.csv", 200),
    ("user", "get", "events/alpha/production/users/{ref}/", 200),
    ("edit user", "get", "events/alpha/production/users/{ref}/edit/", 200),
    ("edit user save", "post", "events/alpha/production/users/{ref}/edit/", 302),
    ("cancel user", "get", "events/alpha/production/users/{ref}/cancel/", 200),
    ("cancel user save", "post", "events/alpha/production/users/{ref}/cancel/", 302),
    ("sessions", "get", "events/alpha/production/sessions/", 200),
    ("new session", "get", "events/alpha/production/sessions/new/", 200),
    ("new session save", "post", "events/alpha/production/sessions/new/", 302),
    ("session", "get", "events/alpha/production/sessions/{session}/", 200),
    ("edit session", "get", "events/alpha/production/sessions/{session}/edit/", 200),
    ("edit session save", "post", "events/alpha/production/sessions/{session}/edit/", 302),
    ("cancel session", "get", "events/alpha/production/sessions/{session}/cancel/", 200),
    ("cancel session save", "post", "events/alpha/production/sessions/{session}/cancel/", 302),
    ("reactivate session", "post", "events/alpha/production/sessions/{session}/reactivate/", 302),
    ("speakers", "get", "events/alpha/production/sessions/{session}/speakers/", 200),
    ("speakers save", "post", "events/alpha/production/sessions/{session}/speakers/", 302),
    ("session files", "get", "events/alpha/production/sessions/{session}/files/", 200),
    ("session files save", "post", "events/alpha/production/sessions/{session}/files/", 302),
    ("new time", "get", "events/alpha/production/sessions/{session}/times/new/", 200),
    ("new time save", "post", "events/alpha/production/sessions/{session}/times/new/", 302),
    ("time", "get", "events/alpha/production/sessions/{session}/times/{time}/", 200),
    ("edit time", "get", "events/alpha/production/sessions/{session}/times/{time}/edit/", 200),
    ("edit time save", "post", "events/alpha/production/sessions/{session}/times/{time}/edit/",
     302),
    ("cancel time", "get", "events/alpha/production/sessions/{session}/times/{time}/cancel/", 200),
    ("cancel time save", "post",
     "events/alpha/production/sessions/{session}/times/{time}/cancel/", 302),
    ("reactivate time", "post",
     "events/alpha/production/sessions/{session}/times/{time}/reactivate/", 302),
    ("unschedule", "post",
     "events/alpha/production/sessions/{session}/times/{time}/unschedule/{ref}/", 302),
    ("exhibitors", "get", "events/alpha/production/exhibitors/", 200),
    ("new exhibitor", "get", "events/alpha/production/exhibitors/new/", 200),
    ("new exhibitor save", "post", "events/alpha/production/exhibitors/new/", 302),
    ("exhibitor", "get", "events/alpha/production/exhibitors/{exhibitor}/", 200),
    ("edit exhibitor", "get", "events/alpha/production/exhibitors/{exhibitor}/edit/", 200),
    ("edit exhibitor save", "post", "events/alpha/production/exhibitors/{exhibitor}/edit/", 302),
    ("cancel exhibitor", "get", "events/alpha/production/exhibitors/{exhibitor}/cancel/", 200),
    ("cancel exhibitor save", "post", "events/alpha/production/exhibitors/{exhibitor}/cancel/",
     302),
    ("reactivate exhibitor", "post",
     "events/alpha/production/exhibitors/{exhibitor}/reactivate/", 302),
    ("staff", "get", "events/alpha/production/exhibitors/{exhibitor}/staff/", 200),
    ("staff save", "post", "events/alpha/production/exhibitors/{exhibitor}/staff/", 302),
    ("exhibitor files", "get", "events/alpha/production/exhibitors/{exhibitor}/files/", 200),
    ("exhibitor files save", "post", "events/alpha/production/exhibitors/{exhibitor}/files/",
     302),
    ("orders", "get", "events/alpha/production/orders/", 200),
    ("catalogue", "get", "events/alpha/production/orders/catalogue/", 200),
    ("new registration type", "post", "events/alpha/production/orders/catalogue/types/", 302),
    ("new package", "post", "events/alpha/production/orders/catalogue/packages/", 302),
    ("new regcode", "post", "events/alpha/production/orders/catalogue/regcodes/", 302),
]  # fmt: skip
# What each writing page is sent by the planner: enough to succeed.
FORMS = {
    "profile save": {"enabled": "on", "allowed_networks": "127.0.0.1", "shown_networks": ""},
    "create token": {"label": "printer"},
    "copy apply": {"from": "uat", "fingerprint": "stale"},
    "new field save": {"record_type": "user", "code": "badge", "display_name": "Badge",
                       "field_type": "text"},
    "rename field": {"display_name": "Business"},
    "new value": {"code": "ngo", "label": "NGO"},
    "change value": {"v{value}-label": "Gov"},
    "new user save": {"firstName": "Grace", "lastName": "Hopper", "email": "grace@example.org"},
    "edit user save": {"firstName": "Ada", "lastName": "King", "email": "ada@example.org"},
    "new session save": {"title": "Workshop", "abbreviation": "WS", "published": "on"},
    "edit session save": {"title": "Opening keynote", "abbreviation": "KEY", "published": "on"},
    "speakers save": {"people": "ada@example.org | host"},
    "session files save": {"files": "slides.pdf | application/pdf | 1000 | https://example.org/s"},
    "new time save": {"date": "2026-06-02", "time": "09:00", "length": "45", "capacity": "0"},
    "edit time save": {"date": "2026-06-01", "time": "10:00", "length": "60", "capacity": "3",
                       "room": "Hall B", "waitlist": "on"},
    "new exhibitor save": {"name": "Globex", "exhibitor_code": "GLX"},
    "edit exhibitor save": {"name": "Acme Robotics", "exhibitor_code": "ACME", "booth": "B7"},
    "staff save": {"people": "ada@example.org | sales"},
    "exhibitor files save": {"files": "logo | image/png | 12 | https://example.org/logo.png"},
    "new registration type": {"type-code": "DAY", "type-name": "Day pass", "type-price": "90"},
    "new package": {"package-code": "TOUR", "package-name": "City tour", "package-price": "25"},
    "new regcode": {"regcode-code": "VIP26", "regcode-package": "DINNER"},
}  # fmt: skip


def url_of(world, path: str) -> str:
    value = world.field.values.get(code="govt")
    return "/manage/" + path.format(
        prefix=world.token_row.prefix,
        field=world.field.pk,
        value=value.pk,
        upload=world.upload.pk,
        ref=world.person.user_ref,
        session=world.session.pk,
        time=world.time.pk,
        exhibitor=world.exhibitor.pk,
    )


def form_of(world, name: str) -> dict:
    value = world.field.values.get(code="govt")
    return {key.format(value=value.pk): v for key, v in FORMS.get(name, {}).items()}


def ask(client: Client, world, method: str, path: str, name: str):
    url = url_of(world, path)
    if method == "get":
        return client.get(url)
    return client.post(url, form_of(world, name))


def without_csrf(content: bytes) -> bytes:
    """A page without its CSRF tokens (each response masks the token anew)."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize(("name", "method", "path", "status"), PAGES, ids=[p[0] for p in PAGES])
def test_page_sends_an_anonymous_visitor_to_the_login_page(world, client, name, method, path,
                                                           status):  # fmt: skip
    response = ask(client, world, method, path, name)

    url = url_of(world, path)
    assert (response.status_code, response["Location"]) == (302, f"/manage/login/?next={url}")


@pytest.mark.parametrize(
    ("name", "method", "path", "status"), PAGES[1:], ids=[p[0] for p in PAGES[1:]]
)
def test_page_of_another_accounts_event_is_not_found(world, other_client, name, method, path,
                                                      status):  # fmt: skip
    response = ask(other_client, world, method, path, name)

    assert response.status_code == 404
    assert b"Not found" in response.content
    assert world.alpha.name.encode() not in response.content


@pytest.mark.parametrize(("name", "method", "path", "status"), PAGES, ids=[p[0] for p in PAGES])
def test_page_answers_the_events_planner(world, planner_client, name, method, path, status):
    response = ask(planner_client, world, method, path, name)

    assert response.status_code == status, body(response)[:2000]


@pytest.mark.parametrize(("name", "method", "path", "status"), PAGES, ids=[p[0] for p in PAGES])
def test_page_answers_a_superuser(world, super_client, name, method, path, status):
    response = ask(super_client, world, method, path, name)

    assert response.status_code == (200 if name == "recode field" else status)


def test_an_unknown_event_is_not_found_like_another_accounts(world, planner_client):
    unknown = planner_client.get("/manage/events/nope/")
    foreign = planner_client.get("/manage/events/beta/")

    assert unknown.status_code == foreign.status_code == 404
    assert without_csrf(unknown.content) == without_csrf(foreign.content)


def test_the_events_list_shows_the_planners_accounts_only(world, planner_client, super_client):
    mine = planner_client.get("/manage/").content.decode()
    everything = super_client.get("/manage/").content.decode()

    assert ("Alpha Summit" in mine, "Beta Expo" in mine) == (True, False)
    assert ("Alpha Summit" in everything, "Beta Expo" in everything) == (True, True)


def test_an_inactive_login_is_sent_to_the_login_page(world):
    world.planner.is_active = False
    world.planner.save()
    client = logged_in(world.planner)

    response = client.get("/manage/events/alpha/")

    assert response.status_code == 302


@pytest.mark.parametrize(
    ("name", "method", "path", "status"),
    [page for page in PAGES if page[1] == "post"],
    ids=[page[0] for page in PAGES if page[1] == "post"],
)
def test_a_form_posted_without_its_csrf_token_is_refused(world, name, method, path, status):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.planner)

    response = client.post(url_of(world, path), form_of(world, name))

    assert response.status_code == 403


def test_logout_is_a_post_with_its_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.planner)

    refused = client.post("/manage/logout/")
    page = client.get("/manage/")
    token = page.cookies["csrftoken"].value
    done = client.post("/manage/logout/", {"csrfmiddlewaretoken": token})

    assert (refused.status_code, done.status_code, done["Location"]) == (403, 302, "/manage/login/")
    assert client.get("/manage/").status_code == 302
