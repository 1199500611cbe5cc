"""A session's speakers and files in the console: the list typed replaces the set, in its order,
through set_speakers and set_files; users named by userRef, email or clientID."""

from lxml import html

from confero.people.services import cancel_user
from confero.programme.models import SessionFile, Speaker
from tests.console.conftest import manage
from tests.console.views.test_sessions import alerts
from tests.factories import UserFactory


def speakers_url(world) -> str:
    return manage(world, f"sessions/{world.session.pk}/speakers/")


def files_url(world) -> str:
    return manage(world, f"sessions/{world.session.pk}/files/")


def textarea(response, name: str) -> str:
    # A browser drops the newline Django writes after <textarea>; lxml keeps it.
    return html.fromstring(response.content).xpath(f"string(//textarea[@name='{name}'])")[1:]


def test_speakers_named_by_email_user_ref_or_client_id_are_set_in_order(world, planner_client):
    bea = UserFactory(site=world.production, first_name="Bea", email="bea@example.org")
    cy = UserFactory(site=world.production, first_name="Cy", client_id="CRM-7")

    response = planner_client.post(speakers_url(world), {
        "people": f"CRM-7 | moderator\n\n{bea.user_ref.lower()}\nADA@example.org | keynote",
    })  # fmt: skip

    assert response["Location"] == manage(world, f"sessions/{world.session.pk}/")
    assert list(Speaker.objects.order_by("position").values_list("user_id", "role")) == [
        (cy.pk, "moderator"), (bea.pk, ""), (world.person.pk, "keynote")]  # fmt: skip
    shown = textarea(planner_client.get(speakers_url(world)), "people")
    assert shown == f"{cy.email} | moderator\nbea@example.org\nada@example.org | keynote"


def test_speakers_naming_nobody_of_the_site_write_nothing(world, planner_client):
    other_site = UserFactory(site=world.uat, email="uat@example.org")

    response = planner_client.post(speakers_url(world), {
        "people": f"ada@example.org\nnobody@example.org | chair\n{other_site.user_ref}",
    })  # fmt: skip

    assert response.status_code == 400
    assert alerts(response) == [
        "line 2: no user of this site has the userRef, email or clientID 'nobody@example.org'",
        f"line 3: no user of this site has the userRef, email or clientID '{other_site.user_ref}'",
    ]
    assert not Speaker.objects.exists()


def test_a_cancelled_user_does_not_become_a_speaker(world, planner_client):
    gone = UserFactory(site=world.production)
    cancel_user(gone)

    response = planner_client.post(speakers_url(world), {"people": gone.user_ref})

    assert response.status_code == 400
    assert alerts(response) == [f"user {gone.user_ref} is cancelled"]


def test_files_typed_in_the_api_notation_replace_the_set(world, planner_client):
    planner_client.post(files_url(world), {
        "files": "slides.pdf | application/pdf | 2048 | https://x.org/s.pdf\n"
                 "video|video/mp4|10|https://x.org/v.mp4",
    })  # fmt: skip
    response = planner_client.post(files_url(world), {
        "files": "video|video/mp4|10|https://x.org/v.mp4",
    })  # fmt: skip

    assert response.status_code == 302
    assert list(SessionFile.objects.values_list("name", "type", "size", "url")) == [
        ("video", "video/mp4", 10, "https://x.org/v.mp4")]  # fmt: skip
    assert textarea(planner_client.get(files_url(world)), "files") == (
        "video | video/mp4 | 10 | https://x.org/v.mp4")  # fmt: skip


def test_files_refused_by_the_form_or_the_service_write_nothing(world, planner_client):
    badly_typed = planner_client.post(files_url(world), {
        "files": "slides.pdf | pdf\nnotes | text/plain | many | https://x.org/n.txt",
    })  # fmt: skip
    not_http = planner_client.post(files_url(world), {
        "files": "slides.pdf | application/pdf | 1 | ftp://x.org/s.pdf",
    })  # fmt: skip

    assert alerts(badly_typed) == [
        "line 1: name | type | size | url, separated by '|'",
        "line 2: the size is a whole number of bytes",
    ]
    assert alerts(not_http) == ["'ftp://x.org/s.pdf' is not an http(s) URL"]
    assert not SessionFile.objects.exists()
