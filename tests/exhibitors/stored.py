"""What the exhibitor tests share: sample records and the rows as stored."""

import datetime as dt

from confero.exhibitors.models import Exhibitor, ExhibitorFile, Participant
from confero.exhibitors.services import FileSpec

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
ACME = {
    "exhibitor_code": "ACME-1",
    "name": "Acme Rockets",
    "status": "active",
    "type": "Gold sponsor",
    "description": "Rockets <b>and</b> anvils",
    "url": "https://acme.example.org/",
    "email": "booth@acme.example.org",
    "booth": "H2-114",
}
COLUMNS = ("site_id", *ACME)
BROCHURE = FileSpec(
    display_name="Brochure", type="pdf", size=48_213, url="https://cdn.example.org/b.pdf"
)
LOGO = FileSpec(
    display_name="Logo",
    type="png",
    size=2_048,
    url="https://cdn.example.org/logo.png",
    description="Square, 512 px",
)


def aged(exhibitor: Exhibitor) -> Exhibitor:
    """The exhibitor with its last-modified set far back, to see whether a service moves it."""
    Exhibitor.objects.filter(pk=exhibitor.pk).update(modified_at=LONG_AGO)
    exhibitor.refresh_from_db()
    return exhibitor


def modified_at(exhibitor: Exhibitor) -> dt.datetime:
    return Exhibitor.objects.values_list("modified_at", flat=True).get(pk=exhibitor.pk)


def row(exhibitor: Exhibitor) -> tuple:
    return Exhibitor.objects.filter(pk=exhibitor.pk).values_list(*COLUMNS).get()


def staff(exhibitor: Exhibitor) -> list[tuple[int, str, int]]:
    return list(
        Participant.objects.filter(exhibitor=exhibitor)
        .order_by("position")
        .values_list("user_id", "role", "position")
    )


def files(exhibitor: Exhibitor) -> list[tuple]:
    return list(
        ExhibitorFile.objects.filter(exhibitor=exhibitor)
        .order_by("position")
        .values_list("display_name", "type", "size", "url", "description", "position")
    )
