"""What a site sells: registration types, packages and registration codes (contract §8.7).
Codes are exact (the registration system sends what it stored) and unique per site."""

from decimal import Decimal

from django.db import IntegrityError, models, transaction

from confero.errors import Conflict, ValidationFailed
from confero.events.models import Site
from confero.registration.models import Package, RegCode, RegistrationType
from confero.registration.money import to_money


def create_registration_type(
    site: Site, *, code: str, name: str, price: Decimal | int | str
) -> RegistrationType:
    return _create(
        RegistrationType(
            site=site,
            code=_text(code, what="code", model=RegistrationType),
            name=_text(name, what="name", model=RegistrationType),
            price=_price(price),
        ),
        kind="registration type code",
    )


def create_package(
    site: Site, *, code: str, name: str, price: Decimal | int | str, for_guest: bool = False
) -> Package:
    return _create(
        Package(
            site=site,
            code=_text(code, what="code", model=Package),
            name=_text(name, what="name", model=Package),
            price=_price(price),
            for_guest=for_guest,
        ),
        kind="package code",
    )


def create_regcode(
    site: Site,
    *,
    code: str,
    registration_type: str | None = None,
    package: str | None = None,
    uses: int | None = None,
) -> RegCode:
    """A registration code granting the site's registration type and/or package (by code),
    `uses` times (None: unlimited)."""
    if registration_type is None and package is None:
        raise ValidationFailed(
            "regcode", "a registration code grants a registration type or a package"
        )
    if uses is not None and (isinstance(uses, bool) or not isinstance(uses, int) or uses < 0):
        raise ValidationFailed("uses", "uses is a whole number from 0, or None for unlimited")
    return _create(
        RegCode(
            site=site,
            code=_text(code, what="code", model=RegCode),
            registration_type=_by_code(
                RegistrationType, site, registration_type, "registrationType"
            ),
            package=_by_code(Package, site, package, "package"),
            uses_left=uses,
        ),
        kind="registration code",
    )


def _text(value: str, *, what: str, model: type[models.Model]) -> str:
    limit = model._meta.get_field(what).max_length
    value = value.strip()
    if not value or len(value) > limit:
        raise ValidationFailed(what, f"{what} takes 1 to {limit} characters")
    return value


def _price(value: Decimal | int | str) -> Decimal:
    price = to_money(value, what="price")
    if price < 0:
        raise ValidationFailed("price", "a price cannot be negative")
    return price


def _by_code(model, site: Site, code: str | None, what: str):
    if code is None:
        return None
    found = model.objects.filter(site=site, code=code).first()
    if found is None:
        raise ValidationFailed(what, f"no {what} '{code}' on this site")
    return found


def _create(record, *, kind: str):
    """Saves `record`; a code the site already uses (checked first, then by the unique index a
    concurrent call may have won) is a Conflict."""
    taken = Conflict("code", f"{kind} '{record.code}' is already used on this site")
    if type(record).objects.filter(site=record.site, code=record.code).exists():
        raise taken
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as exc:
        if "code" not in str(exc).lower():
            raise
        raise taken from exc
    return record
