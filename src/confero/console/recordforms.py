"""Forms of sessions, session times, exhibitors and the registration catalogue. They type what a
form can (a date, a whole number); the rules are the services' (confero.programme.services,
confero.exhibitors.services, confero.registration.catalogue): a `ValidationFailed` or
`Conflict` lands on the field it names (`forms.service_error`).

Speakers, booth staff and files are edited as text, one per line, in the API's own notation:
`who | role` (who: a userRef, an email or a clientID) and `name | type | size | url`
(exhibitors: `| description` after it), so what a planner types is what an integration sends.
"""

import re
from dataclasses import dataclass

from django import forms

from confero.api.params import Invalid, email
from confero.console.forms import XmlSafeForm
from confero.programme.services.times import MAX_CAPACITY, MAX_LENGTH_MINUTES

_MONO = {"class": "mono", "spellcheck": "false"}
# As the API's `file` parameter: a size of up to 15 digits, a description of up to 10,000
# characters (api/resources/exhibitors.py).
_SIZE = re.compile(r"[0-9]{1,15}")
FILE_DESCRIPTION_MAX = 10_000


class SessionForm(XmlSafeForm):
    abbreviation = forms.CharField(
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off"}),
        help_text="The session's client ID, unique on the site: integrations name the session "
        "by it, and Copy configuration finds the same session on the other site by it.",
    )
    title = forms.CharField(max_length=500)
    abstract = forms.CharField(
        max_length=20_000, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    type = forms.CharField(max_length=100, required=False)
    track = forms.CharField(max_length=200, required=False)
    published = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Unpublished: nobody can schedule it; seats already taken stay.",
    )

    def fields_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class SessionTimeForm(XmlSafeForm):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Local to the event's time zone.",
    )
    length = forms.IntegerField(
        min_value=1, max_value=MAX_LENGTH_MINUTES, label="Length (minutes)", initial=60
    )
    room = forms.CharField(max_length=200, required=False)
    capacity = forms.IntegerField(
        min_value=0, max_value=MAX_CAPACITY, initial=0, help_text="Seats; 0 = unlimited."
    )
    waitlist = forms.BooleanField(
        required=False,
        help_text="When full, users join a waitlist and move up, first come first served, as "
        "seats free.",
    )

    def fields_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class ExhibitorForm(XmlSafeForm):
    exhibitor_code = forms.CharField(
        max_length=100,
        required=False,
        label="exhibitorCode",
        widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off"}),
        help_text="The client's ID of the exhibitor, unique on the site (optional).",
    )
    name = forms.CharField(max_length=200)
    type = forms.CharField(max_length=100, required=False)
    booth = forms.CharField(max_length=100, required=False)
    url = forms.CharField(max_length=2000, required=False, label="Web site")
    email = forms.CharField(max_length=254, required=False)
    description = forms.CharField(
        max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )

    def clean_email(self) -> str:
        """The API's rule for `email` (addExhibitor.do answers 201 otherwise)."""
        value = self.cleaned_data["email"]
        try:
            return email(value) if value else value
        except Invalid as exc:
            raise forms.ValidationError(str(exc)) from None

    def fields_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


@dataclass(frozen=True)
class PersonLine:
    number: int
    who: str
    role: str


class PeopleForm(XmlSafeForm):
    """Speakers of a session or staff of a booth, in order. The users are looked up by the
    view, through the planner's scope."""

    people = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, **_MONO}),
        help_text="One per line: a userRef, email or clientID of a user of this site, then "
        "optionally “| role”. The list replaces the current one, in this order; empty removes "
        "everyone.",
    )

    def __init__(self, *args, role_limit: int = 100, **kwargs):
        super().__init__(*args, **kwargs)
        self.role_limit = role_limit

    def clean_people(self) -> list[PersonLine]:
        lines, problems = [], []
        for number, line in enumerate(self.cleaned_data["people"].splitlines(), 1):
            if not line.strip():
                continue
            who, _, role = (part.strip() for part in line.partition("|"))
            if not who:
                problems.append(f"line {number}: no user before the '|'")
            elif len(role) > self.role_limit:
                problems.append(f"line {number}: a role takes at most {self.role_limit} characters")
            else:
                lines.append(PersonLine(number, who, role))
        if problems:
            raise forms.ValidationError(problems)
        return lines


@dataclass(frozen=True)
class FileLine:
    name: str
    type: str
    size: int
    url: str
    description: str = ""


class FilesForm(XmlSafeForm):
    files = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, **_MONO}),
    )

    def __init__(self, *args, with_description: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.with_description = with_description
        notation = "name | type | size | url" + (" | description" if with_description else "")
        self.fields["files"].help_text = (
            f"One file per line: {notation} (size in bytes). Confero keeps the reference, not "
            "the file. The list replaces the current one, in this order; empty removes them all."
        )

    def clean_files(self) -> list[FileLine]:
        found, problems = [], []
        parts_wanted = 5 if self.with_description else 4
        for number, line in enumerate(self.cleaned_data["files"].splitlines(), 1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|", parts_wanted - 1)]
            if len(parts) < 4:
                problems.append(f"line {number}: name | type | size | url, separated by '|'")
                continue
            size, description = parts[2], "|".join(parts[4:])
            if not _SIZE.fullmatch(size):
                problems.append(f"line {number}: the size is a whole number of bytes")
                continue
            if len(description) > FILE_DESCRIPTION_MAX:
                problems.append(
                    f"line {number}: a description takes at most {FILE_DESCRIPTION_MAX:,} "
                    "characters"
                )
                continue
            found.append(FileLine(parts[0], parts[1], int(size), parts[3], description))
        if problems:
            raise forms.ValidationError(problems)
        return found


# --- The registration catalogue ----------------------------------------------------------------


class RegistrationTypeForm(XmlSafeForm):
    prefix = "type"
    code = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"class": "mono"}))
    name = forms.CharField(max_length=200)
    price = forms.DecimalField(max_digits=10, decimal_places=2, min_value=0)


class PackageForm(XmlSafeForm):
    prefix = "package"
    code = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"class": "mono"}))
    name = forms.CharField(max_length=200)
    price = forms.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    for_guest = forms.BooleanField(required=False, label="For a guest")


class RegCodeForm(XmlSafeForm):
    prefix = "regcode"
    code = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"class": "mono"}))
    registration_type = forms.ChoiceField(required=False, label="Grants registration type")
    package = forms.ChoiceField(required=False, label="Grants package")
    uses = forms.IntegerField(
        required=False, min_value=0, label="Uses", help_text="Empty: unlimited."
    )

    def __init__(self, *args, types: list[str], packages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["registration_type"].choices = [("", "–"), *((c, c) for c in types)]
        self.fields["package"].choices = [("", "–"), *((c, c) for c in packages)]

    def clean(self):
        data = super().clean()
        named = ("registration_type", "package")
        if not any(data.get(name) or self.has_error(name) for name in named):
            raise forms.ValidationError(
                "A registration code grants a registration type or a package."
            )
        return data
