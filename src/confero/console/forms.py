"""Forms of the API profile page and of custom fields. They check what a form can (one line of
the allow-list, a date in the future); the rules themselves are the services' (ValidationFailed
becomes an error on the field it names)."""

import datetime as dt

from django import forms
from django.utils import timezone

from confero.access.networks import parse_network
from confero.customfields.models import Constraint, FieldType, RecordType
from confero.errors import ValidationFailed
from confero.xmltext import not_xml


class XmlSafeForm(forms.Form):
    """Refuses, naming the field, text holding a character XML 1.0 cannot carry: the API's
    answers would carry it."""

    def clean(self):
        data = super().clean()
        for name, value in list(data.items()):
            if isinstance(value, str) and (problem := not_xml(value)):
                self.add_error(name, problem)
        return data


def allow_list_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class ProfileForm(XmlSafeForm):
    enabled = forms.BooleanField(
        required=False,
        label="API access enabled",
        help_text="Off: every call answers 104; tokens are kept.",
    )
    account_level_access = forms.BooleanField(
        required=False,
        label="Account Level Access",
        help_text="On: calls may name any event of the account by its GUID, and event=all.",
    )
    allowed_networks = forms.CharField(
        required=False,
        label="IP allow-list",
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "mono"}),
        help_text="One IPv4/IPv6 address or CIDR range per line. Empty: nobody may call (103).",
    )
    # The list as the page showed it: saving applies the difference, so entries another planner
    # added meanwhile are kept.
    shown_networks = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_allowed_networks(self) -> list[str]:
        entries = []
        problems = []
        for number, line in enumerate(self.cleaned_data["allowed_networks"].splitlines(), 1):
            if not line.strip():
                continue
            try:
                entries.append(str(parse_network(line)))
            except ValidationFailed:
                problems.append(
                    f"line {number}: '{line.strip()[:60]}' is not an IPv4/IPv6 address or a "
                    "CIDR range (e.g. 203.0.113.7, 2001:db8::1, 198.51.100.0/24)"
                )
        if problems:
            raise forms.ValidationError(problems)
        return list(dict.fromkeys(entries))

    def clean_shown_networks(self) -> list[str]:
        shown = []
        for line in allow_list_lines(self.cleaned_data["shown_networks"]):
            try:
                shown.append(str(parse_network(line)))
            except ValidationFailed:
                continue  # not ours to complain about: the page wrote it
        return shown


class TokenForm(XmlSafeForm):
    label = forms.CharField(
        max_length=100,
        required=False,
        help_text="Who uses it, e.g. “badge printer”.",
    )
    expires = forms.DateField(
        required=False,
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The token stops working at 00:00 UTC that day (101).",
    )

    def clean_expires(self) -> dt.datetime | None:
        day = self.cleaned_data["expires"]
        if day is None:
            return None
        if day <= timezone.now().date():
            raise forms.ValidationError("a day after today")
        return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


RECORD_TYPES = [(value, label) for value, label in RecordType.choices]


class FieldForm(XmlSafeForm):
    record_type = forms.ChoiceField(choices=RECORD_TYPES, label="Record type")
    code = forms.CharField(
        max_length=60,
        help_text="The API parameter name. It cannot be changed once set.",
        widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off"}),
    )
    display_name = forms.CharField(max_length=200, label="Display name")
    field_type = forms.ChoiceField(choices=FieldType.choices, label="Type")
    values = forms.CharField(
        required=False,
        label="Values",
        widget=forms.Textarea(attrs={"rows": 5, "class": "mono"}),
        help_text="Choice types: one value per line, “code” or “code | label”. Other options and "
        "constraints are set on the field's page.",
    )

    def clean_values(self) -> list[tuple[str, str]]:
        pairs = []
        for line in self.cleaned_data["values"].splitlines():
            if not line.strip():
                continue
            code, _, label = line.partition("|")
            pairs.append((code.strip(), label.strip()))
        return pairs


class RenameFieldForm(XmlSafeForm):
    display_name = forms.CharField(max_length=200, label="Display name")


CONSTRAINTS = [("", "none"), *Constraint.choices]


class ValueForm(XmlSafeForm):
    code = forms.CharField(
        max_length=100,
        strip=False,  # the service names a code with leading or trailing spaces
        widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off"}),
    )
    label = forms.CharField(max_length=200, required=False)
    other = forms.BooleanField(required=False, label="Other: please specify")
    constraint = forms.ChoiceField(choices=CONSTRAINTS, required=False)


class ChangeValueForm(XmlSafeForm):
    """One row of the values table: its inputs sit in table cells and name their form by id."""

    label = forms.CharField(max_length=200, required=False)
    other = forms.BooleanField(required=False, label="Other")
    constraint = forms.ChoiceField(choices=CONSTRAINTS, required=False)

    def __init__(self, *args, form_id: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.form_id = form_id
        for field in self.fields.values():
            field.widget.attrs["form"] = form_id


class RecodeForm(XmlSafeForm):
    new_code = forms.CharField(
        max_length=60, label="New code", widget=forms.TextInput(attrs={"class": "mono"})
    )
    confirm = forms.BooleanField(
        label="I have told the integrations sending the old code: they get 300 from now on."
    )


def service_error(form: forms.Form, error: ValidationFailed, *, fields: dict[str, str]) -> None:
    """Puts a service's refusal on the form field it names (`fields`: what → form field)."""
    form.add_error(fields.get(error.what), error.message)
