"""What a site sells — registration types, packages and registration codes — listed, and added
through confero.registration.catalogue (its rules: codes unique per site, prices not negative,
a code granting a type or a package of the site). The catalogue offers no change or removal
of an entry: orders keep pointing at what they bought."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from confero.console.forms import service_error
from confero.console.recordforms import PackageForm, RegCodeForm, RegistrationTypeForm
from confero.console.views.base import page, site_crumbs, site_page
from confero.errors import Conflict, ValidationFailed
from confero.registration import catalogue as services

# What the catalogue's services name → the form's field.
_FORM_FIELDS = {
    "code": "code",
    "name": "name",
    "price": "price",
    "uses": "uses",
    "registrationType": "registration_type",
    "package": "package",
}


def _url(site) -> str:
    return reverse("console:catalogue", kwargs={"code": site.event.code, "env": site.environment})


def _regcode_form(request, site, data=None) -> RegCodeForm:
    return RegCodeForm(
        data,
        types=list(request.scope.registration_types(site).values_list("code", flat=True)),
        packages=list(request.scope.packages(site).values_list("code", flat=True)),
    )


def _page(request, site, *, forms: dict | None = None, status: int = 200) -> HttpResponse:
    forms = forms or {}
    return page(
        request,
        "console/catalogue.html",
        {
            "types": list(request.scope.registration_types(site)),
            "packages": list(request.scope.packages(site)),
            "regcodes": list(request.scope.regcodes(site)),
            "type_form": forms.get("type") or RegistrationTypeForm(),
            "package_form": forms.get("package") or PackageForm(),
            "regcode_form": forms.get("regcode") or _regcode_form(request, site),
        },
        event=site.event,
        site=site,
        section="orders",
        crumbs=site_crumbs(site, "orders", "Orders", ("Catalogue", None)),
        status=status,
    )


@site_page
def catalogue(request: HttpRequest, site) -> HttpResponse:
    return _page(request, site)


def _create(request, site, form, name: str, create) -> HttpResponse:
    if form.is_valid():
        try:
            created = create(form.cleaned_data)
        except (ValidationFailed, Conflict) as exc:
            service_error(form, exc, fields=_FORM_FIELDS)
        else:
            messages.success(request, f"{created.code} added.")
            return redirect(_url(site))
    return _page(request, site, forms={name: form}, status=400)


@require_POST
@site_page
def new_type(request: HttpRequest, site) -> HttpResponse:
    def create(data):
        return services.create_registration_type(
            site, code=data["code"], name=data["name"], price=data["price"]
        )

    return _create(request, site, RegistrationTypeForm(request.POST), "type", create)


@require_POST
@site_page
def new_package(request: HttpRequest, site) -> HttpResponse:
    def create(data):
        return services.create_package(
            site,
            code=data["code"],
            name=data["name"],
            price=data["price"],
            for_guest=data["for_guest"],
        )

    return _create(request, site, PackageForm(request.POST), "package", create)


@require_POST
@site_page
def new_regcode(request: HttpRequest, site) -> HttpResponse:
    def create(data):
        return services.create_regcode(
            site,
            code=data["code"],
            registration_type=data["registration_type"] or None,
            package=data["package"] or None,
            uses=data["uses"],
        )

    return _create(request, site, _regcode_form(request, site, request.POST), "regcode", create)
