"""Custom-field definitions kept in each server process.

Every write call needs its site's fields and values (to read custom parameters) and every feed
needs them to render; they change rarely. `Site.fields_version` moves with every change (signals
below, and explicitly where a queryset `.update()` sends none), and the API reads the version
with the site in the query that admits the call. So a process reloads a site's definitions when,
and only when, they changed — across any number of server processes.
"""

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from confero.customfields.models import CustomField, CustomValue
from confero.events.models import Site, new_fields_version

_CACHE: dict[int, tuple[int, list[CustomField]]] = {}  # site id → (version, fields)
_DERIVED: dict[tuple, tuple[int, Any]] = {}  # (site id, name) → (version, see derived())
MAX_SITES = 2000
T = TypeVar("T")


def fields_of_sites(sites) -> dict[int, list[CustomField]]:
    """All custom fields of each site (any record type) with their values, in position order.
    Sites whose definitions are not cached (or moved) are loaded together: two queries at most."""
    out, missing = {}, {}
    for site in sites:
        cached = _CACHE.get(site.pk)
        if cached is not None and cached[0] == site.fields_version:
            out[site.pk] = cached[1]
        else:
            missing[site.pk] = site
    if missing:
        loaded: dict[int, list[CustomField]] = {pk: [] for pk in missing}
        fields = (
            CustomField.objects.filter(site_id__in=list(missing))
            .prefetch_related("values")
            .order_by("position", "id")
        )
        for field in fields:
            loaded[field.site_id].append(field)
        if len(_CACHE) + len(loaded) > MAX_SITES:
            _CACHE.clear()
        for pk, site_fields in loaded.items():
            _CACHE[pk] = (missing[pk].fields_version, site_fields)
        out.update(loaded)
    return out


def bump_fields_version(site_id: int) -> None:
    """A new random version, not +1: a version seen inside a transaction that was rolled back
    must never come back for different definitions."""
    Site.objects.filter(pk=site_id).update(fields_version=new_fields_version())


def derived(site, name: Hashable, build: Callable[[], T]) -> T:
    """What `build()` makes of the site's current definitions (an index the API uses on every
    call), kept while the site's fields_version stays (one version per site and name, as for
    the definitions): `name` tells one such thing from another."""
    key = (site.pk, name)
    kept = _DERIVED.get(key)
    if kept is not None and kept[0] == site.fields_version:
        return kept[1]
    value = build()
    if len(_DERIVED) >= MAX_SITES:
        _DERIVED.clear()
    _DERIVED[key] = (site.fields_version, value)
    return value


def forget() -> None:
    """Drops every cached definition (tests that rewrite fields behind the version's back)."""
    _CACHE.clear()
    _DERIVED.clear()


@receiver([post_save, post_delete], sender=CustomField)
def _field_changed(sender, instance: CustomField, **kwargs) -> None:
    bump_fields_version(instance.site_id)


@receiver([post_save, post_delete], sender=CustomValue)
def _value_changed(sender, instance: CustomValue, **kwargs) -> None:
    bump_fields_version(
        CustomField.objects.filter(pk=instance.field_id).values_list("site_id", flat=True).get()
    )
