"""The speakerData feed (contract §8.3): the users who speak at a session, each with the
sessions they speak at."""

from typing import Any

from django.db.models import Exists, Max, OuterRef, Subquery
from django.db.models.functions import Greatest

from confero.api import records
from confero.api.call import Call
from confero.api.params import Param
from confero.api.params import epoch_millis as since_param
from confero.api.registry import resource
from confero.api.render import Feed
from confero.customfields.models import RecordType
from confero.people.models import User
from confero.programme.models import Speaker


def _last_change() -> dict[str, Any]:
    """A speaker record changes with the user (their part in a session moves their
    last-modified too, decision 0016) and with any session they speak at (its title, its
    publication): `since` compares the later of the two."""
    sessions_changed = (
        Speaker.objects.filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(last=Max("session__modified_at"))
        .values("last")
    )
    return {"speaker_modified_at": Greatest("modified_at", Subquery(sessions_changed))}


SPEAKER = records.RecordType(
    tag="speaker",
    root="speakers",
    model=User,
    reserves_for=RecordType.SESSION,
    annotations=_last_change,
    modified_column="speaker_modified_at",
    parts=(
        records.Column("userRef", "user_ref"),
        records.Column("firstName", "first_name"),
        records.Column("lastName", "last_name"),
        records.Column("email", "email"),
        records.Column("bio", "public_bio"),
        records.Column("companyName", "company_name"),
        records.Column("jobTitle", "job_title"),
        records.Empty("photoURL"),  # Confero stores no photos (yet): always empty
        records.Empty("thumbURL"),
        records.Nested(
            child="session",
            rows=lambda: Speaker.objects.all(),
            record="user_id",
            columns=(
                records.Column("sessionID", "session_id", records.INT),
                records.Column("abbreviation", "session__abbreviation"),
                records.Column("title", "session__title"),
                records.Column("published", "session__published", records.BOOL),
                records.Column("speakerRole", "role"),
            ),
            order=("session_id",),
        ),
        records.EVENT_GUID,
    ),
)


@resource(
    "speakerData",
    summary="Feed of the speakers of a site (or of every event with event=all).",
    params=(Param("since", since_param, doc="only speakers whose record or sessions changed"),),
    accepts_all=True,
    is_feed=True,
)
def speaker_data(call: Call) -> Feed:
    """Users who speak at one or more sessions (cancelled sessions and users included), with
    one `<session>` per session spoken at. A user who no longer speaks anywhere leaves the
    feed: the sessions they left show it in sessionData.do (their speaker lists moved)."""
    speaking = Exists(Speaker.objects.filter(user=OuterRef("pk")))
    return records.feed(SPEAKER, call, User.objects.filter(speaking, site__in=call.sites))
