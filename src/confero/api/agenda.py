"""A user's agenda as iCalendar (RFC 5545): one VEVENT per session time they hold, scheduled
(CONFIRMED) or waitlisted (TENTATIVE, its place in the summary), in the event's time zone
(with its VTIMEZONE), each with a UID stable across exports so calendars update in place."""

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar

from confero.people.models import User
from confero.programme.models import SeatStatus
from confero.programme.services import user_schedule


def agenda_ics(user: User) -> bytes:
    event = user.site.event
    zone = ZoneInfo(event.time_zone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Confero//Agenda//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{event.name}: my agenda")
    for seat in user_schedule(user):
        time = seat.session_time
        session = time.session
        start = dt.datetime.combine(time.date, time.time, tzinfo=zone)
        entry = icalendar.Event()
        entry.add("uid", f"session-time-{time.pk}@{event.guid_text.lower()}")
        entry.add("dtstamp", seat.modified_at)
        entry.add("dtstart", start)
        entry.add("dtend", start + dt.timedelta(minutes=time.length))
        summary = session.title
        if seat.status == SeatStatus.WAITLISTED:
            summary += f" (waitlist, place {seat.position})"
            entry.add("status", "TENTATIVE")
        else:
            entry.add("status", "CONFIRMED")
        entry.add("summary", summary)
        if time.room:
            entry.add("location", time.room)
        if session.abstract:
            entry.add("description", session.abstract)
        calendar.add_component(entry)
    calendar.add_missing_timezones()
    return calendar.to_ical()
