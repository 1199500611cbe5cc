"""The programme and a user's agenda in the formats people's apps read: scheduleXml.do (frab
schedule.xml) and userAgenda.do (iCalendar). The same documents as `confero programme export`
and `confero programme agenda` write; the API wraps them in its envelope (contract §6)."""

from dataclasses import dataclass
from typing import Any

from lxml import etree

from confero.api.agenda import agenda_ics
from confero.api.call import Call
from confero.api.frab import schedule_element
from confero.api.registry import resource
from confero.api.render import Document, E, Node


@dataclass
class _Embedded:
    """A whole document inside <api>: the element itself in XML, its text in JSON."""

    element: etree._Element
    tag: str = "schedule"
    many: bool = False

    def xml(self) -> etree._Element:
        return self.element

    def json(self) -> Any:
        return etree.tostring(self.element, encoding="unicode")


@resource("scheduleXml", summary="The site's programme as a frab schedule.xml document.")
def schedule_xml(call: Call) -> Document:
    """`<schedule>` is the whole frab document (what Giggity, ConfClerk and c3nav read): one
    `<event>` per active time of a published, active session, by day and room, times in the
    event's time zone with their offset. Cancelled and unpublished sessions and cancelled times
    are left out. With `format=json`, `schedule` is the document's XML text."""
    return Document(children=[_Embedded(schedule_element(call.target))])


@resource("userAgenda", summary="The user's agenda as an iCalendar document.", acts_as_user=True)
def user_agenda(call: Call) -> Document:
    """`<agenda>` holds the user's `userRef` and, in `<calendar>`, an iCalendar (RFC 5545)
    document: one event per session time scheduled (CONFIRMED) or waitlisted (TENTATIVE), in the
    event's time zone, each with a UID that stays the same from one export to the next."""
    user = call.acting_user
    user.site = call.target
    calendar = agenda_ics(user).decode("utf-8")
    return Document(
        children=[Node("agenda", children=[E("userRef", user.user_ref), E("calendar", calendar)])]
    )
