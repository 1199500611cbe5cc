"""Issue 14's must-show for the session feed and the frab export.

    .venv/bin/python bench/sessions.py                 # PostgreSQL (a throw-away cluster)
    .venv/bin/python bench/sessions.py --db sqlite

5,000 sessions, each with 2 session times and 2 speakers, on one site. Measured in one run:
- `sessionData.do` end to end over HTTP (`confero serve`, 2 workers; the whole body read), the
  median of `--runs` calls, against the ceiling: the same rows read by raw SQL (psycopg or
  sqlite3, chunks of 1,000 as the feed) and the same XML written by lxml's incremental writer,
  no Django, in this process. The ceiling's bytes are checked equal to the feed's (but for the
  root's `time`). Target: the feed at ≥ 50 % of the ceiling's sessions/s.
- The workers' resident memory after the first feed and after the last: flat.
- `scheduleXml.do` (the frab export) end to end over HTTP, sessions/s. For scale: pretalx
  exports about 1,400 sessions/s as schedule.xml on these machines; target ≥ 10× that.
"""

import argparse
import datetime as dt
import re
import statistics
import sys
import time

from lxml import etree

from programme_common import (
    data_dir,
    open_event,
    post,
    server,
    setup_django,
    under_postgres,
    workers_rss_kib,
)

SESSIONS = 5000
PRETALX_RATE = 1400


def make_programme(site, sessions: int) -> None:
    """Straight into the tables (the services' rows, far faster to make): sessions, two times
    each (09:00 and 14:00 on one of three days), two speakers each from a pool of users."""
    from confero.people.models import User
    from confero.programme.models import Session, SessionTime, Speaker

    now = dt.datetime.now(dt.UTC)
    User.objects.bulk_create(
        User(site=site, first_name=f"Speaker{n}", last_name="Bench", email=f"s{n}@example.org",
             job_title="Engineer", company_name=f"Company {n % 50}", created_at=now,
             modified_at=now)
        for n in range(sessions)
    )  # fmt: skip
    users = list(User.objects.filter(site=site).order_by("pk").values_list("pk", flat=True))
    Session.objects.bulk_create(
        Session(site=site, abbreviation=f"S{n}", title=f"Session {n}: on benchmarks",
                abstract="An abstract of a few words " * 4, type="talk", track=f"Track {n % 8}",
                created_at=now, modified_at=now)
        for n in range(sessions)
    )  # fmt: skip
    ids = list(Session.objects.filter(site=site).order_by("pk").values_list("pk", flat=True))
    day = dt.date(2026, 6, 1)
    SessionTime.objects.bulk_create(
        SessionTime(session_id=pk, site=site, room=f"Room {n % 20}",
                    date=day + dt.timedelta(days=n % 3), time=dt.time(hour, 0), length=45,
                    capacity=100, created_at=now, modified_at=now)
        for n, pk in enumerate(ids)
        for hour in (9, 14)
    )  # fmt: skip
    Speaker.objects.bulk_create(
        Speaker(session_id=pk, user_id=users[(n + k) % len(users)], role="speaker", position=k)
        for n, pk in enumerate(ids)
        for k in range(2)
    )


# --- The ceiling: raw SQL + lxml ----------------------------------------------------------------

_ACTIVE = "FROM programme_sessiontime t WHERE t.session_id = s.id AND t.status = 'active'"
SESSIONS_SQL = f"""
SELECT s.id, s.abbreviation, s.title, s.abstract, (SELECT count(*) {_ACTIVE}),
  CASE WHEN EXISTS (SELECT 1 {_ACTIVE} AND t.capacity = 0) THEN 0
       ELSE COALESCE((SELECT sum(t.capacity) {_ACTIVE}), 0) END,
  s.type, s.track, s.status,
  (SELECT t.length {_ACTIVE} ORDER BY t.date, t.time, t.id LIMIT 1),
  CAST(s.created_at AS text), CAST(s.modified_at AS text), s.published
FROM programme_session s WHERE s.site_id = %s AND s.id > %s ORDER BY s.id LIMIT 1000
"""
NESTED_SQL = [
    "SELECT record_id, field_id, value_id, text FROM customfields_answer "
    "WHERE record_type = 'session' AND record_id BETWEEN %s AND %s ORDER BY record_id, id",
    "SELECT session_id, id, room, CAST(date AS text), CAST(time AS text), length, capacity, "
    "registered, waitlisted, status FROM programme_sessiontime "
    "WHERE session_id BETWEEN %s AND %s ORDER BY session_id, date, time, id",
    "SELECT sp.session_id, u.user_ref, u.first_name || ' ' || u.last_name, u.job_title, "
    "u.company_name, sp.role FROM programme_speaker sp JOIN people_user u ON u.id = sp.user_id "
    "WHERE sp.session_id BETWEEN %s AND %s ORDER BY sp.session_id, sp.position",
    "SELECT session_id, name, size, url FROM programme_sessionfile "
    "WHERE session_id BETWEEN %s AND %s ORDER BY session_id, position",
]
SESSION_TAGS = (
    *("sessionID", "abbreviation", "title", "abstract", "timesOffered", "capacity", "type"),
    *("track", "status", "length", "created", "modified", "published"),
)
CONSTRAINT_TAGS = (
    "publicViewPrivateSchedule",
    "privateViewPrivateSchedule",
    "cannotViewOrSchedule",
)
TIME_TAGS = ("sessionTimeID", "room", "date", "time", "length", "capacity", "registered",
             "waitlisted", "status")  # fmt: skip
SPEAKER_TAGS = ("userRef", "fullName", "jobTitle", "company", "roles")
FILE_TAGS = ("filename", "size", "url")


def _text(value) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _stamp(value: str) -> str:
    return f"{value[:10]}T{value[11:19]}Z"


def _grouped(rows):
    out: dict[int, list] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row[1:])
    return out


def ceiling(database_url: str, site_id: int, guid: str) -> bytes:
    """The feed's bytes, by raw SQL and lxml (the root's time attribute left as 0)."""
    if database_url.startswith("postgres"):
        import psycopg

        conn = psycopg.connect(database_url.replace("postgres://", "postgresql://"))
        fix = str
    else:
        import sqlite3

        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))

        def fix(sql: str) -> str:
            return sql.replace("%s", "?")

    out = _Sink()
    cursor = conn.cursor()
    with etree.xmlfile(out, encoding="UTF-8") as xf, xf.element("session-data", time="0"):
        response = etree.Element("response", code="0")
        response.text = "Success"
        xf.write(response)
        last = 0
        while True:
            cursor.execute(fix(SESSIONS_SQL), (site_id, last))
            rows = cursor.fetchall()
            if not rows:
                break
            low, last = rows[0][0], rows[-1][0]
            nested = []
            for sql in NESTED_SQL:
                cursor.execute(fix(sql), (low, last))
                nested.append(_grouped(cursor.fetchall()))
            _, times, speakers, files = nested
            for row in rows:
                xf.write(_session(row, times, speakers, files, guid))
            if len(rows) < 1000:
                break
    conn.close()
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + out.take()


def _session(row, times, speakers, files, guid) -> etree._Element:
    sub = etree.SubElement
    session = etree.Element("session")
    values = list(row)
    values[10], values[11] = _stamp(values[10]), _stamp(values[11])
    values[12] = "true" if values[12] else "false"
    for tag, value in zip(SESSION_TAGS, values, strict=True):
        sub(session, tag).text = _text(value)
    for tag in CONSTRAINT_TAGS:  # always there (§8.3); empty: the benchmark's site has none
        sub(session, tag)
    for time_row in times.get(row[0], ()):
        element = sub(session, "sessionTime")
        time_values = list(time_row)
        time_values[3] = time_values[3][:5]
        for tag, value in zip(TIME_TAGS, time_values, strict=True):
            sub(element, tag).text = _text(value)
    for nested, tag, tags in ((speakers, "speaker", SPEAKER_TAGS), (files, "file", FILE_TAGS)):
        for nested_row in nested.get(row[0], ()):
            element = sub(session, tag)
            for child, value in zip(tags, nested_row, strict=True):
                sub(element, child).text = _text(value)
    sub(session, "eventGUID").text = guid
    return session


def _records(document: bytes) -> list[bytes]:
    return re.findall(rb"<session>.*?</session>", document, re.S)


class _Sink:
    def __init__(self):
        self.parts = []

    def write(self, data):
        self.parts.append(data)

    def take(self) -> bytes:
        return b"".join(self.parts)


# --- The run ----------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--sessions", type=int, default=SESSIONS)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    if args.db == "postgres" and (status := under_postgres([__file__, *argv])) is not None:
        return status
    with data_dir():
        setup_django()
        import os

        site, token = open_event()
        make_programme(site, args.sessions)
        guid = site.event.guid_text
        url = os.environ["DATABASE_URL"]
        body = f"apiToken={token}"
        with server(workers=2) as (port, master):
            for _ in range(4):  # warm-up: each worker answers some
                post(port, "/bench/api/sessionData.do", body)
            rss_first = workers_rss_kib(master)
            feed_times, ceiling_times, frab_times = [], [], []
            for _ in range(args.runs):  # in turns, so that a busy moment hits both
                seconds, answer = post(port, "/bench/api/sessionData.do", body)
                feed_times.append(seconds)
                started = time.perf_counter()
                expected = ceiling(url, site.pk, guid)
                ceiling_times.append(time.perf_counter() - started)
            rss_last = workers_rss_kib(master)
            post(port, "/bench/api/scheduleXml.do", body)  # warm-up
            for _ in range(args.runs):
                seconds, schedule = post(port, "/bench/api/scheduleXml.do", body)
                frab_times.append(seconds)
        got = re.sub(rb'<session-data time="[0-9]+">', b'<session-data time="0">', answer, count=1)
        same = got == expected
        if not same:  # the first record that differs, so that the ceiling can be brought up to date
            first = next(
                (
                    pair
                    for pair in zip(_records(got), _records(expected), strict=False)
                    if pair[0] != pair[1]
                ),
                (got[-300:], expected[-300:]),
            )
            print(f"feed:    {first[0][:1500]!r}\nceiling: {first[1][:1500]!r}")
        events = schedule.count(b"<event id=")
    feed = args.sessions / statistics.median(feed_times)
    ceil = args.sessions / statistics.median(ceiling_times)
    frab = args.sessions / statistics.median(frab_times)
    rows = [
        ("sessionData.do over HTTP", f"{feed:,.0f} sessions/s",
         f"median {statistics.median(feed_times) * 1000:.0f} ms, {len(answer):,} bytes"),
        ("ceiling: raw SQL + lxml", f"{ceil:,.0f} sessions/s",
         f"median {statistics.median(ceiling_times) * 1000:.0f} ms; same bytes: {same}"),
        ("feed / ceiling", f"{feed / ceil:.0%}", "target ≥ 50 %"),
        ("workers' RSS", f"{rss_first / 1024:.1f} → {rss_last / 1024:.1f} MiB",
         f"after the 4th and the {args.runs + 4}th feed"),
        ("scheduleXml.do over HTTP", f"{frab:,.0f} sessions/s",
         f"{events:,} events; {frab / PRETALX_RATE:.1f}× pretalx's ~1,400/s (target ≥ 10×)"),
    ]  # fmt: skip
    print(f"\n{args.sessions:,} sessions × 2 times × 2 speakers, {args.db}, {args.runs} runs\n")
    print("| measure | result | note |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    ok = same and feed >= 0.5 * ceil and frab >= 10 * PRETALX_RATE
    ok = ok and rss_last - rss_first < 20 * 1024 and events == 2 * args.sessions
    print(f"\nverdict: {'all targets met' if ok else 'TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
