"""Custom fields, their values and the values records hold (contract §7).

Generic over record types: users now, sessions and exhibitors later use the same tables. A field
whose values carry constraints is a *profile* field: it applies to users and to sessions alike.
"""

import re

from django.db import models

from confero.customfields.xmlnames import is_name_char, is_name_start
from confero.events.models import Site


class RecordType(models.TextChoices):
    USER = "user", "User"
    SESSION = "session", "Session"
    EXHIBITOR = "exhibitor", "Exhibitor"
    PROFILE = "profile", "Profile (users and sessions)"


class FieldType(models.TextChoices):
    TEXT = "text", "Text"
    CHOICE = "choice", "Choice"
    MULTICHOICE = "multichoice", "Multiple choice"


class Constraint(models.TextChoices):
    PUBLIC_VIEW_PRIVATE_SCHEDULE = "publicViewPrivateSchedule", "Public view, private schedule"
    PRIVATE_VIEW_PRIVATE_SCHEDULE = "privateViewPrivateSchedule", "Private view, private schedule"
    CANNOT_VIEW_OR_SCHEDULE = "cannotViewOrSchedule", "Cannot view or schedule"


CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,59}$")
TEXT_MAX = 4000


def element_name_for(display_name: str) -> str:
    """Rule 5: the display name with every character that is not a letter or digit as '-'.
    Letters and digits no XML name may hold ('²', 'ª', 'µ', letters newer than XML 1.0's fourth
    edition) count as neither, and a name that cannot start as it is ('2nd', '-') gets a
    leading '_': every result is an element name any XML processor accepts."""
    name = "".join(ch if ch.isalnum() and is_name_char(ch) else "-" for ch in display_name.strip())
    if not name or not is_name_start(name[0]):
        name = "_" + name
    return name


class CustomField(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="custom_fields")
    record_type = models.CharField(max_length=10, choices=RecordType.choices)
    code = models.CharField(max_length=60, help_text="The API parameter name")
    display_name = models.CharField(max_length=200)
    element_name = models.CharField(max_length=200, editable=False)
    field_type = models.CharField(max_length=12, choices=FieldType.choices)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="customfield_code_per_site"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.code})"

    def save(self, *args, **kwargs):
        # The element name always follows the display name, whoever saves (services, console).
        self.element_name = element_name_for(self.display_name)
        if kwargs.get("update_fields") is not None and "display_name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "element_name"}
        super().save(*args, **kwargs)

    @property
    def is_choice(self) -> bool:
        return self.field_type != FieldType.TEXT

    def applies_to(self, record_type: str) -> bool:
        if self.record_type == RecordType.PROFILE:
            return record_type in (RecordType.USER, RecordType.SESSION)
        return self.record_type == record_type


class CustomValue(models.Model):
    """One of a choice field's values. Its `id` is the custom value ID of rule 4."""

    field = models.ForeignKey(CustomField, on_delete=models.PROTECT, related_name="values")
    code = models.CharField(max_length=100)
    label = models.CharField(max_length=200)
    is_other = models.BooleanField(default=False, help_text='The "Other: please specify" option')
    constraint = models.CharField(max_length=30, choices=Constraint.choices, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["field", "code"], name="customvalue_code_per_field"),
            models.UniqueConstraint(
                fields=["field"], condition=models.Q(is_other=True), name="one_other_per_field"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.code})"


class Answer(models.Model):
    """A value held by a record: a choice (with the text sent, for Other) or a text."""

    field = models.ForeignKey(CustomField, on_delete=models.PROTECT, related_name="answers")
    record_type = models.CharField(max_length=10, choices=RecordType.choices[:3])
    record_id = models.BigIntegerField()
    value = models.ForeignKey(CustomValue, null=True, blank=True, on_delete=models.PROTECT)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["record_type", "record_id"], name="answer_record")]

    def __str__(self) -> str:
        return f"{self.field.code}={self.value.code if self.value_id else self.text}"
