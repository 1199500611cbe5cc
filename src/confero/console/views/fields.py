"""Custom fields per site and record type: created and changed through
confero.customfields.editing, with the rules of `confero customfields import`. A code once set
is read-only; a superuser may change it on a page that first shows where it is used."""

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from confero.console.forms import (
    ChangeValueForm,
    FieldForm,
    RecodeForm,
    RenameFieldForm,
    ValueForm,
    service_error,
)
from confero.console.views.base import forbidden, page, site_page
from confero.customfields import editing
from confero.customfields.models import RecordType
from confero.customfields.services import ValueSpec, change_field_code, field_usage
from confero.errors import ValidationFailed

_FIELD_ERRORS = {
    "code": "code",
    "displayName": "display_name",
    "recordType": "record_type",
    "type": "field_type",
    "values": "values",
    "value code": "values",
    "label": "values",
}
_VALUE_ERRORS = {
    "value code": "code",
    "label": "label",
    "other": "other",
    "constraint": "constraint",
}


def _list_url(site) -> str:
    return reverse("console:fields", kwargs={"code": site.event.code, "env": site.environment})


def _field_url(site, field) -> str:
    return reverse(
        "console:field", kwargs={"code": site.event.code, "env": site.environment, "pk": field.pk}
    )


def _crumbs(site, *more) -> tuple:
    event = site.event
    return (
        ("Manage", reverse("console:event", kwargs={"code": event.code})),
        (f"Custom fields ({site.get_environment_display()})", _list_url(site) if more else None),
        *more,
    )


@site_page
def fields(request: HttpRequest, site) -> HttpResponse:
    kind = request.GET.get("type", "")
    found = request.scope.fields(site).annotate(value_count=Count("values"))
    if kind in RecordType.values:
        found = found.filter(record_type=kind)
    else:
        kind = ""
    tabs = [("", "All"), *RecordType.choices]
    return page(
        request,
        "console/fields.html",
        {"fields": list(found), "kind": kind, "tabs": tabs},
        event=site.event,
        site=site,
        section="fields",
        crumbs=_crumbs(site),
    )


@require_http_methods(["GET", "POST"])
@site_page
def new_field(request: HttpRequest, site) -> HttpResponse:
    form = (
        FieldForm(request.POST)
        if request.method == "POST"
        else FieldForm(initial={"record_type": request.GET.get("type")})
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = editing.define_field(
                site,
                record_type=data["record_type"],
                code=data["code"].strip(),
                display_name=data["display_name"],
                field_type=data["field_type"],
                values=[ValueSpec(code, label) for code, label in data["values"]],
            )
        except ValidationFailed as exc:
            service_error(form, exc, fields=_FIELD_ERRORS)
        else:
            messages.success(request, f"Custom field '{created.code}' created.")
            return redirect(_field_url(site, created))
    return page(
        request,
        "console/field_new.html",
        {"form": form},
        event=site.event,
        site=site,
        section="fields",
        crumbs=_crumbs(site, ("New field", None)),
        status=400 if form.errors else 200,
    )


def _field_page(request, site, field, *, rename=None, value_form=None, status=200):
    held = {
        row["value_id"]: row["n"]
        for row in request.scope.answers(field)
        .values("value_id")
        .annotate(n=Count("record_id", distinct=True))
    }
    values = [
        {
            "value": value,
            "held": held.get(value.pk, 0),
            "form": ChangeValueForm(
                prefix=f"v{value.pk}",
                form_id=f"value-{value.pk}",
                initial={
                    "label": value.label,
                    "other": value.is_other,
                    "constraint": value.constraint,
                },
            ),
        }
        for value in request.scope.values(field)
    ]
    return page(
        request,
        "console/field.html",
        {
            "field": field,
            "usage": field_usage(field),
            "values": values,
            "rename": rename or RenameFieldForm(initial={"display_name": field.display_name}),
            "value_form": value_form or _value_form(field),
            "is_profile": field.record_type == RecordType.PROFILE,
        },
        event=site.event,
        site=site,
        section="fields",
        crumbs=_crumbs(site, (field.code, None)),
        status=status,
    )


@require_http_methods(["GET", "POST"])
@site_page
def field(request: HttpRequest, site, pk: int) -> HttpResponse:
    """The field's page; POST renames it (its display name: the code stays)."""
    found = request.scope.field(site, pk)
    if request.method == "GET":
        return _field_page(request, site, found)
    form = RenameFieldForm(request.POST)
    if form.is_valid():
        try:
            editing.rename_field(found, display_name=form.cleaned_data["display_name"])
        except ValidationFailed as exc:
            form.add_error("display_name", exc.message)
        else:
            messages.success(request, f"Display name of '{found.code}' saved.")
            return redirect(_field_url(site, found))
    return _field_page(request, site, found, rename=form, status=400)


def _value_form(field, data=None) -> ValueForm:
    """Only a profile field's values carry constraints: other fields' forms do not offer one."""
    form = ValueForm(data)
    if field.record_type != RecordType.PROFILE:
        del form.fields["constraint"]
    return form


@require_POST
@site_page
def new_value(request: HttpRequest, site, pk: int) -> HttpResponse:
    found = request.scope.field(site, pk)
    form = _value_form(found, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        spec = ValueSpec(
            data["code"], data["label"].strip(), data["other"], data.get("constraint", "")
        )
        try:
            value = editing.define_value(found, spec)
        except ValidationFailed as exc:
            service_error(form, exc, fields=_VALUE_ERRORS)
        else:
            messages.success(request, f"Value '{value.code}' added (ID {value.pk}).")
            return redirect(_field_url(site, found))
    return _field_page(request, site, found, value_form=form, status=400)


@require_POST
@site_page
def change_value(request: HttpRequest, site, pk: int, value: int) -> HttpResponse:
    found = request.scope.field(site, pk)
    target = request.scope.value(found, value)
    form = ChangeValueForm(request.POST, prefix=f"v{target.pk}", form_id=f"value-{target.pk}")
    if form.is_valid():
        data = form.cleaned_data
        try:
            editing.change_value(
                target,
                label=data["label"].strip(),
                other=data["other"],
                constraint=data["constraint"],
            )
        except ValidationFailed as exc:
            messages.error(request, f"Value '{target.code}': {exc.message}")
        else:
            messages.success(request, f"Value '{target.code}' saved.")
    else:
        messages.error(request, f"Value '{target.code}': " + "; ".join(
            error for errors in form.errors.values() for error in errors
        ))  # fmt: skip
    return redirect(_field_url(site, found))


@require_POST
@site_page
def delete_value(request: HttpRequest, site, pk: int, value: int) -> HttpResponse:
    found = request.scope.field(site, pk)
    target = request.scope.value(found, value)
    try:
        editing.delete_value(target)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Value '{target.code}' deleted.")
    return redirect(_field_url(site, found))


@require_POST
@site_page
def delete_field(request: HttpRequest, site, pk: int) -> HttpResponse:
    found = request.scope.field(site, pk)
    try:
        editing.delete_field(found)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return redirect(_field_url(site, found))
    messages.success(request, f"Custom field '{found.code}' deleted.")
    return redirect(_list_url(site))


@require_http_methods(["GET", "POST"])
@site_page
def recode(request: HttpRequest, site, pk: int) -> HttpResponse:
    """Superusers only: where the field is used, then the new code."""
    found = request.scope.field(site, pk)
    if not request.user.is_superuser:
        return forbidden(
            request,
            f"The code '{found.code}' is set: integrations send it. Only a superuser can "
            "change it, after seeing where it is used.",
        )
    form = RecodeForm(request.POST) if request.method == "POST" else RecodeForm()
    if request.method == "POST" and form.is_valid():
        old = found.code
        try:
            with transaction.atomic():
                change_field_code(found, form.cleaned_data["new_code"].strip(), actor=request.user)
        except ValidationFailed as exc:
            form.add_error("new_code", exc.message)
        else:
            messages.success(request, f"Code changed: '{old}' → '{found.code}'.")
            return redirect(_field_url(site, found))
    return page(
        request,
        "console/field_recode.html",
        {"field": found, "form": form, "usage": field_usage(found)},
        event=site.event,
        site=site,
        section="fields",
        crumbs=_crumbs(site, (found.code, _field_url(site, found)), ("Change code", None)),
        status=400 if form.errors else 200,
    )
