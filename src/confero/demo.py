"""`confero demo`: a demo account and event with both sites, tokens and a planner's login.

Idempotent: running it again keeps the data, resets the demo password and replaces the demo
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
        display_name="Type of business",
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
        display_name="Dietary needs",
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
        display_name="T-shirt size",
        field_type="choice",
        values=[ValueSpec("s", "S"), ValueSpec("m", "M"), ValueSpec("l", "L")],
    ),
    dict(record_type="user", code="notes", display_name="Notes", field_type="text"),
    dict(
        record_type="profile",
        code="attendee_type",
        display_name="Attendee type",
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


def _seed_site(site: Site) -> None:
    """A few custom fields (one of each type, one with Other, one with constraints) and users."""
    from confero.customfields.models import CustomField
    from confero.customfields.services import Assignment, create_field
    from confero.people.models import User
    from confero.people.services import add_user

    for spec in DEMO_FIELDS:
        if not CustomField.objects.filter(site=site, code=spec["code"]).exists():
            create_field(site, **spec)
    if User.objects.filter(site=site).exists():
        return
    fields = {f.code: f for f in CustomField.objects.filter(site=site).prefetch_related("values")}
    for first, last, mail, client_id, answers in DEMO_USERS:
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
        add_user(
            site,
            fields={
                "first_name": first,
                "last_name": last,
                "email": mail,
                "client_id": client_id,
                "registered": True,
            },
            assignments=assignments,
        )


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
