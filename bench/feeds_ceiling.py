"""The ceiling for bench/feeds.py: the rows userData.do reads, by raw SQL (sqlite3 or psycopg),
written as the same XML with lxml's incremental writer — no Django. Prints: seconds bytes users.

The XML is built the plain lxml way (one SubElement per value), as a careful hand-written
exporter would do it. Reads the database bench/fill.py filled: DATABASE_URL, else the SQLite
file in CONFERO_DATA_DIR.
"""

import os
import sqlite3
import time
import uuid
from pathlib import Path

from lxml import etree

# The contact columns and their elements, in the feed's order.
_CONTACT = (
    "first_name:firstName last_name:lastName email:email company_name:companyName "
    "job_title:jobTitle address1:address1 address2:address2 address3:address3 city:city "
    "state_id:stateID foreign_state:foreignState zip:zip country_id:countryID "
    "phone_number:phoneNumber phone2_number:phone2Number middle_initial:middleInitial "
    "preferred_name:preferredName email2:email2 fax_number:faxNumber"
)
CONTACT, NAMES = zip(*(pair.split(":") for pair in _CONTACT.split()), strict=True)
COLUMNS = (
    "id, user_ref, "
    + ", ".join(CONTACT)
    + ", client_id, public_bio, registered, paid, status, created_at, modified_at, badge_id"
)


def connect():
    url = os.environ.get("DATABASE_URL")
    if url:
        import psycopg

        return psycopg.connect(url), "%s"
    path = Path(os.environ["CONFERO_DATA_DIR"]) / "confero.sqlite3"
    return sqlite3.connect(path), "?"


def stamp(value) -> str:
    if isinstance(value, str):
        return f"{value[:10]}T{value[11:19]}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class Sink:
    def __init__(self):
        self.size = 0

    def write(self, data):
        self.size += len(data)


def main() -> None:
    con, p = connect()
    cur = con.cursor()
    cur.execute(
        "SELECT s.id, e.guid FROM events_site s JOIN events_event e ON e.id = s.event_id "
        "WHERE e.code = 'bench' AND s.environment = 'production'"
    )
    site_id, guid = cur.fetchone()
    guid = str(uuid.UUID(str(guid))).upper()
    cur.execute(
        f"SELECT id, element_name, field_type FROM customfields_customfield WHERE site_id = {p} "
        "ORDER BY position, id",
        (site_id,),
    )
    fields = cur.fetchall()
    cur.execute(
        "SELECT v.id, v.code FROM customfields_customvalue v JOIN customfields_customfield f "
        f"ON f.id = v.field_id WHERE f.site_id = {p}",
        (site_id,),
    )
    values = dict(cur.fetchall())
    sink = Sink()
    started = time.perf_counter()
    count = last = 0
    sub = etree.SubElement
    with (
        etree.xmlfile(sink, encoding="UTF-8") as xf,
        xf.element("user-data", time=str(int(time.time() * 1000))),
    ):
        response = etree.Element("response", code="0")
        response.text = "Success"
        xf.write(response)
        while True:
            cur.execute(
                f"SELECT {COLUMNS} FROM people_user WHERE site_id = {p} AND id > {p} "
                "ORDER BY id LIMIT 1000",
                (site_id, last),
            )
            rows = cur.fetchall()
            if not rows:
                break
            ids = [row[0] for row in rows]
            cur.execute(
                "SELECT record_id, field_id, value_id, text FROM customfields_answer "
                f"WHERE record_type = 'user' AND record_id IN ({','.join([p] * len(ids))}) "
                "ORDER BY id",
                ids,
            )
            answers = {}
            for record_id, field_id, value_id, text in cur.fetchall():
                answers.setdefault(record_id, {}).setdefault(field_id, []).append(
                    values[value_id] if value_id else text
                )
            for row in rows:
                user = etree.Element("user")
                sub(user, "eventGUID").text = guid
                sub(user, "userRef").text = row[1]
                for i, name in enumerate(NAMES):
                    sub(user, name).text = row[2 + i] or None
                k = 2 + len(NAMES)
                sub(user, "externalRef").text = row[k]
                sub(user, "publicBio").text = row[k + 1] or None
                sub(user, "registered").text = "true" if row[k + 2] else "false"
                sub(user, "paid").text = "true" if row[k + 3] else "false"
                sub(user, "status").text = row[k + 4]
                sub(user, "create-date").text = stamp(row[k + 5])
                sub(user, "last-modified-date").text = stamp(row[k + 6])
                sub(user, "badgeID").text = row[k + 7] or None
                held = answers.get(row[0], {})
                for field_id, element, _ in fields:
                    for text in held.get(field_id) or [None]:
                        sub(user, element).text = text
                sub(user, "schedule")
                xf.write(user)
                count += 1
            last = rows[-1][0]
    print(f"{time.perf_counter() - started:.3f} {sink.size} {count}")


if __name__ == "__main__":
    main()
