"""CSV import and export in the console: upload, preview (each bad row with its code), import
all or only the valid rows (the refused ones back as CSV), progress while it writes."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from lxml import html

from confero.console.models import UserImport
from confero.people.models import User
from tests.console.conftest import manage
from tests.factories import RegistrationSettingsFactory

GOOD = "Grace,Hopper,grace@example.org,m\nAlan,Turing,alan@example.org,l\n"
BAD = "Eve,Jones,eve@example.org,xxl\n"


def upload(client, world, text: str, name: str = "people.csv"):
    data = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(manage(world, "users/import/"), {"file": data})


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_preview_names_the_bad_row_and_its_code_and_writes_nothing(world, planner_client):
    uploaded = upload(planner_client, world, "firstName,lastName,email,tshirt\n" + GOOD + BAD)

    preview = planner_client.get(uploaded["Location"])

    page = html.fromstring(preview.content)
    rows = [[" ".join(td.text_content().split()) for td in tr.xpath("td")]
            for tr in page.xpath("//table[contains(@class, 'refused')]/tbody/tr")]  # fmt: skip
    assert rows == [
        ["4", "301", "value 'xxl' is not a value of custom field 'tshirt'",
         "custom field value not recognised"],
    ]  # fmt: skip
    assert " ".join(page.xpath("string(//p[@class='summary'])").split()) == (
        "3 rows: 2 valid, 1 refused."
    )
    assert page.xpath("//button[@name='rows']/@value") == ["valid"]  # no "import all"
    assert User.objects.count() == 1


def test_import_all_with_a_bad_row_writes_nothing(world, planner_client):
    uploaded = upload(planner_client, world, "firstName,lastName,email,tshirt\n" + GOOD + BAD)

    response = planner_client.post(uploaded["Location"], {"rows": "all"})

    text = body(response)
    assert "Nothing was written: 1 row refused." in text
    assert "Row 4: <strong>301</strong>" in text
    assert User.objects.count() == 1
    assert UserImport.objects.get(pk=uploaded["Location"].split("/")[-2]).state == "uploaded"


def test_import_all_writes_every_row_through_the_api_rules(world, planner_client, alpha_api):
    uploaded = upload(planner_client, world, "firstName,lastName,email,tshirt\n" + GOOD)

    text = body(planner_client.post(uploaded["Location"], {"rows": "all"}))

    assert "2 users imported." in text
    feed = alpha_api.call("userData")
    users = feed.xml.findall("user")
    assert [(u.findtext("email"), u.findtext("T-shirt-size")) for u in users] == [
        ("ada@example.org", ""), ("grace@example.org", "m"), ("alan@example.org", "l")]  # fmt: skip
    again = planner_client.get(uploaded["Location"])  # the import is done: its result, not a rerun
    assert "Imported: 2 users" in again.content.decode()


def test_import_valid_rows_gives_the_refused_back_as_csv(world, planner_client):
    uploaded = upload(planner_client, world, "firstName,lastName,email,tshirt\n" + BAD + GOOD)

    text = body(planner_client.post(uploaded["Location"], {"rows": "valid"}))
    rejected = planner_client.get(uploaded["Location"] + "rejected.csv")

    assert "2 users imported." in text
    assert User.objects.count() == 3
    assert rejected["Content-Disposition"] == 'attachment; filename="people-rejected.csv"'
    assert list(csv.reader(io.StringIO(rejected.content.decode()))) == [
        ["firstName", "lastName", "email", "tshirt", "error code", "error message"],
        ["Eve", "Jones", "eve@example.org", "xxl", "301",
         "value 'xxl' is not a value of custom field 'tshirt'"],
    ]  # fmt: skip


def test_a_long_import_shows_its_progress_as_it_writes(world, planner_client, monkeypatch):
    from confero.console.views import imports

    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    lines = "".join(f"U{n},X,u{n}@example.org,s\n" for n in range(5))
    uploaded = upload(planner_client, world, "firstName,lastName,email,tshirt\n" + lines)

    response = planner_client.post(uploaded["Location"], {"rows": "all"})
    chunks = [chunk.decode() for chunk in response.streaming_content]

    progress = [chunk for chunk in chunks if "users written" in chunk]
    assert progress == ["<p>2 of 5 users written…</p>\n", "<p>4 of 5 users written…</p>\n"]
    assert chunks.index(progress[0]) > 0  # after the page's head: the browser shows it at once
    assert User.objects.count() == 6


def test_upload_that_is_not_utf8_is_refused_with_what_to_do(world, planner_client):
    data = SimpleUploadedFile("x.csv", "firstName\nMüller\n".encode("latin-1"))

    response = planner_client.post(manage(world, "users/import/"), {"file": data})

    assert response.status_code == 400
    assert "save it as “CSV UTF-8” and upload it again" in response.content.decode()
    assert not UserImport.objects.filter(filename="x.csv").exists()


def test_export_streams_every_user_with_custom_values(world, planner_client, alpha_api):
    alpha_api.add_user(firstName="Grace", lastName="Hopper", email="grace@example.org",
                       dietary=["veg", "gf"], tshirt="m")  # fmt: skip
    alpha_api.call("cancelUser", {"clientID": "CRM-1"})

    response = planner_client.get(manage(world, "users/export.csv"))

    text = body(response)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [(r["email"], r["status"], r["tshirt"]) for r in rows] == [
        ("ada@example.org", "cancelled", ""), ("grace@example.org", "active", "m")]  # fmt: skip
    assert response["Content-Disposition"].startswith(
        'attachment; filename="alpha-production-users-'
    )


def test_import_into_a_site_deriving_status_ignores_registered_and_paid_columns(
    world, planner_client
):
    # An export of the other site carries registered and paid; here they follow from orders
    # (addUser.do would refuse them with 201), so the columns are named as ignored. Before,
    # each row's true was written, until the user's next order change overwrote it.
    RegistrationSettingsFactory(site=world.production)
    text = "firstName,lastName,email,registered,paid\nGrace,Hopper,grace@example.org,true,true\n"
    uploaded = upload(planner_client, world, text)

    preview = html.fromstring(planner_client.get(uploaded["Location"]).content)
    columns = [[" ".join(td.text_content().split()) for td in tr.xpath("td")]
               for tr in preview.xpath("//tr[td/code]") if len(tr.xpath("td")) == 2]  # fmt: skip
    assert columns[-2:] == [
        ["registered", "ignored: follows from the user's orders on this site"],
        ["paid", "ignored: follows from the user's orders on this site"],
    ]
    assert "1 user imported." in body(planner_client.post(uploaded["Location"], {"rows": "all"}))
    assert User.objects.values_list("registered", "paid").get(email="grace@example.org") == (
        False, False)  # fmt: skip
