"""Data for bench/feeds.py: event `bench` with N users, 10 custom fields each (3 choice,
1 multichoice with 2 values, 6 text), made once per database; prints a fresh token each run."""

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confero.settings")
import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from confero.access.services import configure_profile  # noqa: E402
from confero.access.tokens import issue_token  # noqa: E402
from confero.customfields.models import Answer  # noqa: E402
from confero.customfields.services import ValueSpec, create_field  # noqa: E402
from confero.events.models import Event  # noqa: E402
from confero.events.services import create_event, get_or_create_account  # noqa: E402
from confero.people.models import User  # noqa: E402

BATCH = 5000


def main(users: int) -> None:
    call_command("migrate", verbosity=0)
    event = Event.objects.filter(code="bench").first() or create_event(
        account=get_or_create_account("bench"), code="bench", name="Bench"
    )
    site = event.sites.get(environment="production")
    configure_profile(site.api_profile, allowed_networks=["127.0.0.1"], rate_limit_per_minute=10**9)
    print("TOKEN", issue_token(site.api_profile, label="bench").plain)
    if User.objects.filter(site=site).exists():
        print(f"data: {User.objects.filter(site=site).count()} users already there")
        return
    five = [ValueSpec(f"v{j}", f"Value {j}") for j in range(5)]
    choices = [
        create_field(
            site,
            record_type="user",
            code=f"choice{i}",
            display_name=f"Choice {i}",
            field_type="choice",
            values=five,
        )
        for i in range(3)
    ]
    multi = create_field(
        site,
        record_type="user",
        code="multi",
        display_name="Interests",
        field_type="multichoice",
        values=five,
    )
    texts = [
        create_field(
            site, record_type="user", code=f"text{i}", display_name=f"Text {i}", field_type="text"
        )
        for i in range(6)
    ]
    choice_values = [list(field.values.all()) for field in choices]
    multi_values = list(multi.values.all())
    now = timezone.now()
    started = time.time()
    for start in range(0, users, BATCH):
        with transaction.atomic():
            batch = User.objects.bulk_create(
                User(
                    site=site,
                    first_name=f"First{i}",
                    last_name=f"Last{i}",
                    email=f"user{i}@example.org",
                    company_name="Example Corp",
                    job_title="Engineer",
                    city="Berlin",
                    client_id=f"C{i}",
                    registered=True,
                    created_at=now,
                    modified_at=now,
                )
                for i in range(start, min(users, start + BATCH))
            )
            answers = []
            for k, user in enumerate(batch):
                for i, field in enumerate(choices):
                    answers.append(
                        Answer(
                            field=field,
                            record_type="user",
                            record_id=user.pk,
                            value=choice_values[i][(k + i) % 5],
                        )
                    )
                for j in (0, 1):
                    answers.append(
                        Answer(
                            field=multi,
                            record_type="user",
                            record_id=user.pk,
                            value=multi_values[(k + j) % 5],
                        )
                    )
                for i, field in enumerate(texts):
                    answers.append(
                        Answer(
                            field=field,
                            record_type="user",
                            record_id=user.pk,
                            text=f"text value {i} of user {k}",
                        )
                    )
            Answer.objects.bulk_create(answers)
    print(f"data: {users} users generated in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]))
