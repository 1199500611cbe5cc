"""`confero demo`: a demo account and event with both sites, tokens and a planner's login; on
each site custom fields, users, exhibitors with staff, a conversation, a catalogue (registration
types, packages, registration codes) and a few orders: a purchase paid in full, one changed, one
cancelled.

Idempotent: running it again keeps the data (what is missing is added: a site seeded before
orders existed gets its catalogue and orders), resets the demo password and replaces the demo
tokens (tokens are stored hashed, so the old ones could not be printed again).
"""

import datetime as dt
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from confero.access.services import allow_networks, configure_profile
from confero.access.tokens import issue_token
from confero.customfields.services import ValueSpec
from confero.events.models import Environment, Event, Site
from confero.events.services import create_event, get_or_create_account

DEMO_LABEL = "demo"
DEMO_USERNAME = "demo"


@dataclass(frozen=True)
class DemoInfo:
    event: Event
    tokens: dict[str, str]  # environment → plain token
    username: str
    password: str


@transaction.atomic
def ensure_demo() -> DemoInfo:
    account = get_or_create_account("demo", name="Demo Account")
    event = Event.objects.filter(code="demo").first()
    if event is None:
        today = timezone.localdate()
        event = create_event(
            account=account,
            code="demo",
            name="Confero Demo Conference",
            time_zone="Europe/Berlin",
            start_date=today + dt.timedelta(days=30),
            end_date=today + dt.timedelta(days=32),
        )
    tokens = {}
    for site in Site.objects.filter(event=event).select_related("api_profile", "event"):
        profile = site.api_profile
        # Added, not replaced: entries a planner added since stay (the demo token must work
        # from this machine, and must not lock anybody else out).
        configure_profile(profile, enabled=True)
        allow_networks(profile, ["127.0.0.1", "::1"])
        profile.tokens.filter(label=DEMO_LABEL, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        tokens[site.environment] = issue_token(profile, label=DEMO_LABEL).plain
    password = secrets.token_urlsafe(12)
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=DEMO_USERNAME)
    # A planner of the demo account, not a superuser: the console shows what a planner sees
    # (their accounts' events only). `confero manage createsuperuser` makes an operator.
    user.is_staff = False
    user.is_superuser = False
    user.set_password(password)
    user.save()
    account.organizers.add(user)
    for site in Site.objects.filter(event=event):
        _seed_site(site)
        _seed_programme(site)
    return DemoInfo(event=event, tokens=tokens, username=DEMO_USERNAME, password=password)


DEMO_FIELDS = [
    dict(
        record_type="user",
        code="type_business",
        display_name="Type of Business",
        field_type="choice",
        values=[
            ValueSpec("govt", "Government"),
            ValueSpec("education", "Education"),
            ValueSpec("other", "Other: please specify", other=True),
        ],
    ),
    dict(
        record_type="user",
        code="dietary",
        display_name="Dietary Needs",
        field_type="multichoice",
        values=[
            ValueSpec("veg", "Vegetarian"),
            ValueSpec("vegan", "Vegan"),
            ValueSpec("gf", "Gluten-free"),
        ],
    ),
    dict(
        record_type="user",
        code="tshirt",
        display_name="T-Shirt Size",
        field_type="choice",
        values=[ValueSpec("s", "S"), ValueSpec("m", "M"), ValueSpec("l", "L")],
    ),
    dict(record_type="user", code="notes", display_name="Notes", field_type="text"),
    dict(
        record_type="exhibitor",
        code="sponsor_level",
        display_name="Sponsor level",
        field_type="choice",
        values=[
            ValueSpec("gold", "Gold"),
            ValueSpec("silver", "Silver"),
            ValueSpec("other", "Other: please specify", other=True),
        ],
    ),
    dict(
        record_type="profile",
        code="attendee_type",
        display_name="Attendee Type",
        field_type="choice",
        values=[
            ValueSpec("vip", "VIP", constraint="privateViewPrivateSchedule"),
            ValueSpec("member", "Member", constraint="publicViewPrivateSchedule"),
            ValueSpec("press", "Press", constraint="cannotViewOrSchedule"),
        ],
    ),
]

DEMO_USERS = [
    (
        "Ada",
        "Lovelace",
        "ada@example.org",
        "CRM-1001",
        {"type_business": ["education"], "dietary": ["veg", "gf"], "attendee_type": ["vip"]},
    ),
    (
        "Grace",
        "Hopper",
        "grace@example.org",
        "CRM-1002",
        {"type_business": ["govt"], "tshirt": ["m"], "attendee_type": ["member"]},
    ),
    (
        "Alan",
        "Turing",
        "alan@example.org",
        None,
        {"type_business": ["Cryptanalysis"], "notes": ["Arrives Tuesday"]},
    ),
]


# Exhibitors: fields, custom values, staff as (email of a demo user, role), files.
DEMO_EXHIBITORS = [
    (
        {
            "exhibitor_code": "EXH-AE",
            "name": "Analytical Engines Ltd",
            "type": "Gold sponsor",
            "description": "Mechanical computing, from the difference engine on.",
            "url": "https://engines.example.org/",
            "email": "booth@engines.example.org",
            "booth": "A1",
        },
        {"sponsor_level": ["gold"]},
        [("ada@example.org", "Lead"), ("alan@example.org", "Engineer")],
        [("Brochure", "application/pdf", 48_213, "https://engines.example.org/brochure.pdf")],
    ),
    (
        {
            "exhibitor_code": "EXH-CW",
            "name": "Compiler Works",
            "type": "Startup",
            "url": "https://compilers.example.org/",
            "booth": "B7",
        },
        {"sponsor_level": ["Community partner"]},  # not a value: kept as "Other"
        [("grace@example.org", "Sales")],
        [],
    ),
]

# A conversation: (sender's email, recipient's email, subject, body), read by its recipient or not.
DEMO_CONVERSATION = [
    ("grace@example.org", "ada@example.org", "Coffee at booth A1?",
     "I would love to see the engine running. 10:30?", True),
    ("ada@example.org", "grace@example.org", "Re: Coffee at booth A1?",
     "Yes, 10:30 works. Bring your compiler!", False),
]  # fmt: skip


def _seed_site(site: Site) -> None:
    """A few custom fields (one of each type, one with Other, one with constraints), users,
    exhibitors with staff, a conversation, the catalogue and orders; each part only when the
    site has none yet."""
    from confero.customfields.models import CustomField
    from confero.exhibitors.models import Exhibitor
    from confero.messaging.models import Message
    from confero.people.models import User
    from confero.people.services import add_user

    _seed_fields(site)
    fields = {f.code: f for f in CustomField.objects.filter(site=site).prefetch_related("values")}
    if not User.objects.filter(site=site).exists():
        for first, last, mail, client_id, answers in DEMO_USERS:
            add_user(
                site,
                fields={
                    "first_name": first,
                    "last_name": last,
                    "email": mail,
                    "client_id": client_id,
                    "registered": True,
                },
                assignments=_assignments(fields, answers),
            )
    # The demo users as they are now (a visitor may have cancelled one): by email, active.
    users = {u.email: u for u in User.objects.filter(site=site, status="active")}
    if not Exhibitor.objects.filter(site=site).exists():
        _seed_exhibitors(site, fields, users)
    if not Message.objects.filter(site=site).exists():
        _seed_conversation(users)
    _seed_catalogue(site)
    _seed_orders(site)


def _seed_fields(site: Site) -> None:
    """The demo fields, by the configuration import (confero.customfields.config): created when
    missing, and named as real clients read them (`Attendee Type` → `<Attendee-Type>`) on a
    site seeded before."""
    from confero.customfields.config import FORMAT, import_fields

    fields = [
        {
            "code": spec["code"],
            "displayName": spec["display_name"],
            "recordType": spec["record_type"],
            "type": spec["field_type"],
            "values": [
                {"code": v.code, "label": v.label, "other": v.other, "constraint": v.constraint}
                for v in spec.get("values", ())
            ],
        }
        for spec in DEMO_FIELDS
    ]
    import_fields(site, {"format": FORMAT, "fields": fields})


def _assignments(fields: dict, answers: dict[str, list[str]]) -> list:
    """Custom values by code, as the API reads them: an unknown value goes to Other."""
    from confero.customfields.services import Assignment

    assignments = []
    for code, values in answers.items():
        field = fields[code]
        known = {v.code: v for v in field.values.all()}
        other = next((v for v in known.values() if v.is_other), None)
        choices = tuple(
            (None, v) if not field.is_choice else ((known[v], "") if v in known else (other, v))
            for v in values
        )
        assignments.append(Assignment(field, choices))
    return assignments


def _seed_exhibitors(site: Site, fields: dict, users: dict) -> None:
    from confero.exhibitors.services import FileSpec, add_exhibitor

    for values, answers, staff, files in DEMO_EXHIBITORS:
        add_exhibitor(
            site,
            fields=values,
            assignments=_assignments(fields, answers),
            participants=[(users[mail], role) for mail, role in staff if mail in users],
            files=[FileSpec(display_name=n, type=t, size=b, url=u) for n, t, b, u in files],
        )


def _seed_conversation(users: dict) -> None:
    from confero.messaging.services import mark_read, send_message

    for sender, recipient, subject, body, read in DEMO_CONVERSATION:
        if sender not in users or recipient not in users:
            return
        message = send_message(users[sender], users[recipient], subject=subject, body=body)
        if read:
            mark_read(users[recipient], message.pk)


# What the demo sites sell (contract §8.7): (code, name, price[, for a guest]).
DEMO_REGISTRATION_TYPES = [("FULL", "Full conference", "450.00"), ("SPEAKER", "Speaker", "0.00")]
DEMO_PACKAGES = [
    ("CONF", "Conference pass", "350.00", False),
    ("WORKSHOP", "Workshop day", "120.00", False),
    ("DINNER", "Guest dinner", "80.00", True),
]
# (code, registration type granted, package granted, uses)
DEMO_REGCODES = [("SPEAKER26", "SPEAKER", "CONF", 50), ("EARLYBIRD", None, "WORKSHOP", 100)]


def _seed_catalogue(site: Site) -> None:
    from confero.registration.catalogue import (
        create_package,
        create_regcode,
        create_registration_type,
    )
    from confero.registration.models import Package, RegCode, RegistrationType

    for code, name, price in DEMO_REGISTRATION_TYPES:
        if not RegistrationType.objects.filter(site=site, code=code).exists():
            create_registration_type(site, code=code, name=name, price=price)
    for code, name, price, for_guest in DEMO_PACKAGES:
        if not Package.objects.filter(site=site, code=code).exists():
            create_package(site, code=code, name=name, price=price, for_guest=for_guest)
    for code, registration_type, package, uses in DEMO_REGCODES:
        if not RegCode.objects.filter(site=site, code=code).exists():
            create_regcode(site, code=code, registration_type=registration_type,
                           package=package, uses=uses)  # fmt: skip


def _seed_orders(site: Site) -> None:
    """Ada's order paid in full (a code makes her workshop free), Grace's changed (a guest
    dinner added, part paid), Alan's cancelled; once per site."""
    from confero.people.models import User
    from confero.registration.lines import Item
    from confero.registration.models import Order
    from confero.registration.services import add_order, cancel_order, update_order

    if Order.objects.filter(site=site).exists():
        return
    users = {u.email: u for u in User.objects.filter(site=site, status="active")}
    if ada := users.get("ada@example.org"):
        order = add_order(ada, items=["CONF", "WORKSHOP"], regcode="EARLYBIRD",
                          order_number="RS-1001")  # fmt: skip
        update_order(order, amount_paid="350.00")
    if grace := users.get("grace@example.org"):
        order = add_order(grace, items=["CONF"], regcode="SPEAKER26", order_number="RS-1002")
        update_order(
            order, items=["CONF", Item(package="DINNER", guest_name="Jim Hopper")],
            amount_paid="50.00",
        )  # fmt: skip
    if alan := users.get("alan@example.org"):
        order = add_order(alan, items=["CONF", ("Parking", "15.00")], order_number="RS-1003")
        cancel_order(order)


# (abbreviation, title, track, type, speakers by email and role, times: (day, HH:MM, minutes,
# room, capacity, waitlist), the attendee_type values the session carries).
DEMO_SESSIONS = [
    ("KEY", "Opening keynote", "Main", "keynote", [("grace@example.org", "speaker")],
     [(0, "09:00", 60, "Hall A", 0, False)], []),
    ("API1", "Integrating with the Confero API", "Developers", "talk",
     [("ada@example.org", "speaker")], [(0, "10:30", 45, "Room 101", 40, False)], []),
    ("WS1", "Badge printing workshop", "Developers", "workshop", [("alan@example.org", "host")],
     [(0, "14:00", 90, "Workshop room", 2, True)], []),
    ("VIP", "VIP breakfast", "Main", "social", [], [(1, "08:00", 60, "Room 101", 20, False)],
     ["vip"]),
    ("PANEL", "Closing panel", "Main", "panel",
     [("ada@example.org", "moderator"), ("alan@example.org", "panelist")],
     [(1, "16:00", 60, "Hall A", 0, False), (1, "17:30", 60, "Hall A", 0, False)], []),
]  # fmt: skip


def _seed_programme(site: Site) -> None:
    """Rooms and sessions over the event's first two days, with speakers; a workshop whose two
    seats are taken and whose waitlist holds one; a session only VIPs see (a constraint)."""
    from confero.customfields.models import CustomField
    from confero.customfields.services import Assignment
    from confero.people.models import User
    from confero.programme import services
    from confero.programme.models import Session

    if Session.objects.filter(site=site).exists():
        return
    first_day = site.event.start_date or timezone.localdate()
    people = {user.email: user for user in User.objects.filter(site=site)}
    attendee_type = CustomField.objects.get(site=site, code="attendee_type")
    for code, title, track, kind, speakers, times, constraints in DEMO_SESSIONS:
        values = tuple((attendee_type.values.get(code=v), "") for v in constraints)
        assignments = [Assignment(attendee_type, values)] if values else []
        session = services.add_session(
            site,
            fields={"abbreviation": code, "title": title, "track": track, "type": kind,
                    "abstract": f"{title}, at the Confero demo conference."},
            assignments=assignments,
        )  # fmt: skip
        services.set_speakers(session, [(people[mail], role) for mail, role in speakers])
        for day, start, length, room, capacity, waitlist in times:
            services.add_session_time(session, fields={
                "date": first_day + dt.timedelta(days=day),
                "time": dt.time.fromisoformat(start),
                "length": length, "room": room, "capacity": capacity, "waitlist": waitlist,
            })  # fmt: skip
    workshop = Session.objects.get(site=site, abbreviation="WS1").times.get()
    for mail in ("ada@example.org", "grace@example.org", "alan@example.org"):
        services.schedule_session(people[mail], workshop)  # the third waits: place 1


def describe(info: DemoInfo, base_url: str) -> str:
    live = info.tokens[Environment.PRODUCTION]
    test = info.tokens[Environment.UAT]
    return "\n".join(
        [
            "Confero demo is ready.",
            f"  Console:        {base_url}/manage/   login: {info.username} / {info.password}",
            f"  API reference:  {base_url}/docs/api",
            f"  Event GUID:     {info.event.guid_text}",
            f"  Production token (shown once): {live}",
            f"  UAT token (shown once):        {test}",
            "",
            "Try it (Production site of the demo event):",
            f"  curl -s -X POST -d apiToken={live} {base_url}/demo/api/event.do",
            "UAT site:",
            f"  curl -s -X POST -d apiToken={test} {base_url}/uat/demo/api/event.do",
        ]
    )
