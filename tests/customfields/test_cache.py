"""Each server process keeps custom-field definitions in memory; a change of the definitions is
seen by the very next call, whichever way it was made, and a version seen inside a rolled-back
transaction never stands for other definitions later."""

import pytest
from django.db import transaction

from confero.customfields import cache
from confero.customfields.models import CustomField, RecordType
from confero.customfields.services import ValueSpec, add_value, change_field_code, create_field
from confero.events.models import Site
from tests.api.conftest import SiteApi


@pytest.fixture
def live(api, live_site) -> SiteApi:
    create_field(
        live_site.site,
        record_type=RecordType.USER,
        code="tshirt",
        display_name="T-shirt size",
        field_type="choice",
        values=[ValueSpec("m", "M")],
    )
    return SiteApi(api, live_site)


def _add(live, **custom):
    _add.count = getattr(_add, "count", 0) + 1
    return live.call(
        "addUser",
        {"firstName": "A", "lastName": "B", "email": f"u{_add.count}@example.org", **custom},
    )


def test_a_new_value_is_accepted_by_the_next_call(live):
    assert _add(live, tshirt="xl").code == 301  # loads the definitions into the cache

    add_value(CustomField.objects.get(code="tshirt"), ValueSpec("xl", "XL"))

    assert _add(live, tshirt="xl").code == 0


def test_a_field_changed_in_the_console_way_is_seen_by_the_next_call(live):
    assert _add(live, tshirt="m").code == 0
    field = CustomField.objects.get(code="tshirt")

    field.display_name = "Shirt"
    field.save()  # what the console's form does: a model save, no service

    result = live.call("userData")
    assert result.xml.find("user/Shirt").text == "m"


def test_a_recoded_field_is_seen_by_the_next_call(live, admin_user):
    assert _add(live, tshirt="m").code == 0

    change_field_code(CustomField.objects.get(code="tshirt"), "shirt", actor=admin_user)

    assert _add(live, tshirt="m").code == 300
    assert _add(live, shirt="m").code == 0


def test_a_version_seen_in_a_rolled_back_transaction_is_never_reused(live):
    site = Site.objects.get(pk=live.site.site.pk)

    def load_a_field_then_roll_back():
        with transaction.atomic():
            create_field(
                site, record_type=RecordType.USER, code="ghost", display_name="Ghost",
                field_type="text",
            )  # fmt: skip
            site.refresh_from_db()
            assert "ghost" in [f.code for f in cache.fields_of_sites([site])[site.pk]]
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        load_a_field_then_roll_back()

    create_field(
        site, record_type=RecordType.USER, code="real", display_name="Real", field_type="text"
    )

    assert _add(live, ghost="x").code == 300
    assert _add(live, real="x").code == 0
