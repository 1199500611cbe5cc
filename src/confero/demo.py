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
