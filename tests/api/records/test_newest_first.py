"""confero.api.records with a record type declared `newest_first`: the records come by id,
descending, each with its own custom values and nested lists, across chunks and with records
left out between them. messages.do is the resource that reads so; its records have no custom
values or nested lists, so the exhibitor declaration, turned around, shows those parts here."""

import dataclasses

import pytest
from lxml import etree

from confero.api import records
from confero.api.records import reading
from confero.api.resources.exhibitors import EXHIBITOR
from confero.exhibitors.models import Exhibitor

NEWEST_FIRST = dataclasses.replace(EXHIBITOR, newest_first=True)


@pytest.fixture
def exhibitors(live, exhibitor_fields) -> list[Exhibitor]:
    """Seven exhibitors with varying custom values, files and staff."""
    people = [live.add_user(email=f"p{n}@example.org") for n in range(3)]
    made = []
    for n in range(7):
        result = live.call(
            "addExhibitor",
            {
                "name": f"E{n}",
                "hall": ["h1", "h2", ""][n % 3],
                "sectors": ["space", "food", "tools"][: n % 4],
                "tagline": f"line {n}" if n % 2 else "",
                "participant": [p.user_ref for p in people[: n % 3]] or "",
                "file": [f"F{n}.{k}|pdf|{k}|https://x.org/{n}/{k}" for k in range(n % 3)] or "",
            },
        )
        assert result.code == 0, result.body
        made.append(Exhibitor.objects.get(pk=result.xml.findtext("exhibitorID")))
    return made


def rendered(declaration, queryset, site) -> list[bytes]:
    return [
        etree.tostring(record.xml()) for record in records.records(declaration, queryset, [site])
    ]


@pytest.mark.parametrize("chunk", [2, 3, 1000])
def test_newest_first_is_the_ascending_feed_reversed(live_site, exhibitors, monkeypatch, chunk):
    monkeypatch.setattr(reading, "CHUNK", chunk)
    every = Exhibitor.objects.filter(site=live_site.site)
    # Left out: ids between the ones read, so that a chunk's id range holds records not asked for.
    some = every.exclude(pk__in=[exhibitors[1].pk, exhibitors[4].pk, exhibitors[5].pk])

    for queryset in (every, some):
        ascending = rendered(EXHIBITOR, queryset, live_site.site)
        descending = rendered(NEWEST_FIRST, queryset, live_site.site)

        assert descending == ascending[::-1]
        assert [etree.fromstring(x).findtext("name") for x in descending] == [
            e.name for e in reversed(exhibitors) if queryset.filter(pk=e.pk).exists()
        ]
    assert b"<Sectors>food</Sectors>" in b"".join(descending)
    assert b"<participant>" in b"".join(descending)
