"""Users of a site: attendees, speakers, booth staff (contract §5, §8.2)."""

import secrets

from django.db import models
from django.db.models.functions import Lower

from confero.events.models import Site


def new_user_key() -> str:
    """32 hex characters: acts as the user, like a password for integrations."""
    return secrets.token_hex(16).upper()


def new_user_ref() -> str:
    """16 hex characters: refers to a user, cannot act as one."""
    return secrets.token_hex(8).upper()


class UserStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"


# Contact fields: API parameter / feed element name → model field, in feed order.
CONTACT_FIELDS: dict[str, str] = {
    "firstName": "first_name",
    "lastName": "last_name",
    "email": "email",
    "companyName": "company_name",
    "jobTitle": "job_title",
    "address1": "address1",
    "address2": "address2",
    "address3": "address3",
    "city": "city",
    "stateID": "state_id",
    "foreignState": "foreign_state",
    "zip": "zip",
    "countryID": "country_id",
    "phoneNumber": "phone_number",
    "phone2Number": "phone2_number",
    "middleInitial": "middle_initial",
    "preferredName": "preferred_name",
    "email2": "email2",
    "faxNumber": "fax_number",
}


class User(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="users")
    user_key = models.CharField(max_length=32, unique=True, default=new_user_key, editable=False)
    user_ref = models.CharField(max_length=16, unique=True, default=new_user_ref, editable=False)
    # clientID, the built-in custom field "External API Identifier" (shown as <externalRef>).
    # NULL, not "": unique per site only when set (a partial unique index).
    client_id = models.CharField("External API Identifier", max_length=100, null=True, blank=True)  # noqa: DJ001
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.CharField(max_length=254)
    company_name = models.CharField(max_length=200, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    address1 = models.CharField(max_length=200, blank=True)
    address2 = models.CharField(max_length=200, blank=True)
    address3 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state_id = models.CharField(max_length=40, blank=True)
    foreign_state = models.CharField(max_length=100, blank=True)
    zip = models.CharField(max_length=20, blank=True)
    country_id = models.CharField(max_length=40, blank=True)
    phone_number = models.CharField(max_length=40, blank=True)
    phone2_number = models.CharField(max_length=40, blank=True)
    middle_initial = models.CharField(max_length=10, blank=True)
    preferred_name = models.CharField(max_length=100, blank=True)
    email2 = models.CharField(max_length=254, blank=True)
    fax_number = models.CharField(max_length=40, blank=True)
    public_bio = models.TextField(blank=True)
    registered = models.BooleanField(default=False)
    paid = models.BooleanField(default=False)
    badge_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=UserStatus.choices, default=UserStatus.ACTIVE)
    created_at = models.DateTimeField()
    # Set from the database clock on every change of the record, its custom values or schedule;
    # feeds with `since` rely on it (see confero.api.feeds).
    modified_at = models.DateTimeField()
    # Contract §8.2: the name shown for the user in apps and directories, and the planners'
    # class of the user in reports (written by confero.people.services, as the other columns).
    # A database default too: rows written by hand-written SQL that does not name them stay valid.
    screen_name = models.CharField(max_length=100, blank=True, default="", db_default="")
    report_classification = models.CharField(max_length=100, blank=True, default="", db_default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="user_client_id_per_site",
            ),
            models.UniqueConstraint(
                "site",
                Lower("email"),
                condition=models.Q(status="active"),
                name="user_active_email_per_site",
            ),
        ]
        indexes = [models.Index(fields=["site", "modified_at"], name="user_site_modified")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} <{self.email}>"

    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ACTIVE
