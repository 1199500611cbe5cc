"""`screenName` and `report-classification` of a user (contract §8.2): how the user is shown in
apps and directories, and the planners' class for reports. Set apart from the contact fields,
which the integration API writes (confero.people.services)."""

from django.db import transaction
from django.db.models.functions import Now

from confero.errors import ValidationFailed
from confero.people.models import User

_LIMITS = {
    "screen_name": ("screenName", User._meta.get_field("screen_name").max_length),
    "report_classification": (
        "report-classification",
        User._meta.get_field("report_classification").max_length,
    ),
}


def set_profile(
    user: User, *, screen_name: str | None = None, report_classification: str | None = None
) -> User:
    """Sets what is given (None: unchanged; "" clears), trimmed. Last-modified moves when a
    value changes."""
    given = {"screen_name": screen_name, "report_classification": report_classification}
    changed = {}
    for name, value in given.items():
        if value is None:
            continue
        value = value.strip()
        label, limit = _LIMITS[name]
        if len(value) > limit:
            raise ValidationFailed(label, f"{label} takes at most {limit} characters")
        if value != getattr(user, name):
            changed[name] = value
    if not changed:
        return user
    with transaction.atomic(savepoint=False):  # the stamp follows BEGIN (confero.api.feeds)
        User.objects.filter(pk=user.pk).update(**changed, modified_at=Now())
        user.refresh_from_db(fields=["modified_at"])
    for name, value in changed.items():
        setattr(user, name, value)
    return user
