"""Fills the benchmark site (event `bench`, production) with users by bulk SQL, in seconds.

    python bench/fill.py USERS [--answers]     # DATABASE_URL or CONFERO_DATA_DIR name the database

Run after common.set_up_site() and the import of the site's user custom fields. Users get
clientIDs C<n>, emails user<n>@bench.example, the other columns their model defaults. With
--answers each user gets a value for every user custom field of the site: a choice field one value,
a multichoice field two, a text field a text; a user's values are written together, as addUser.do
and updateUser.do write them. Then ANALYZE, so that the planner knows the site's size as
autovacuum would a minute after such a load. Prints `RESULT {"users": …, "answers": …}`.
"""

import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confero.settings")
import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from confero.customfields.models import CustomField, CustomValue  # noqa: E402
from confero.events.models import Site  # noqa: E402
from confero.people.models import User  # noqa: E402

POSTGRES = connection.vendor == "postgresql"


def numbers(first: int, last: int) -> str:
    """A row source of n = first…last (`%%` is a literal % once Django has its parameters)."""
    if POSTGRES:
        return f"generate_series({first}, {last}) AS n(i)"
    return (
        f"(WITH RECURSIVE s(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM s "
        f"WHERE i < {last}) SELECT i FROM s) AS n"
    )


def hex_id(width: int) -> str:
    """A unique upper-case hex key of `width` characters per n, starting 'BE' (random keys of
    real users start anywhere; a fixed prefix keeps these apart from them)."""
    if POSTGRES:
        return f"'BE' || lpad(upper(to_hex(n.i)), {width - 2}, '0')"
    return f"'BE' || printf('%%0{width - 2}X', n.i)"


def fill_users(site: Site, count: int) -> int:
    """INSERT … SELECT of `count` users; returns the highest id before them."""
    fixed = {
        "user_key": hex_id(32),
        "user_ref": hex_id(16),
        "client_id": "'C' || n.i",
        "first_name": "'First' || n.i",
        "last_name": "'Last' || n.i",
        "email": "'user' || n.i || '@bench.example'",
    }
    values = {
        "site_id": site.pk,
        "company_name": "Example Corp",
        "job_title": "Engineer",
        "registered": True,
        "created_at": timezone.now(),
        "modified_at": timezone.now(),
    }
    columns, expressions, params = [], [], []
    for model_field in User._meta.concrete_fields:
        if model_field.primary_key:
            continue
        column = model_field.column
        columns.append(column)
        if column in fixed:
            expressions.append(fixed[column])
            continue
        value = values[column] if column in values else model_field.get_default()
        expressions.append("%s")
        params.append(model_field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM people_user")
        before = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM people_user WHERE site_id = %s", [site.pk])
        first = cursor.fetchone()[0] + 1
        cursor.execute(
            f"INSERT INTO people_user ({', '.join(columns)}) "
            f"SELECT {', '.join(expressions)} "
            f"FROM {numbers(first, first + count - 1)} ORDER BY n.i",
            params,
        )
    return before


def fill_answers(site: Site, after_id: int) -> int:
    """Every user custom field of the site answered for the users with ids above `after_id`."""
    slots, values = [], []
    for position, custom in enumerate(CustomField.objects.filter(site=site, record_type="user")):
        ids = list(
            CustomValue.objects.filter(field=custom).order_by("id").values_list("id", flat=True)
        )
        takes = {"choice": 1, "multichoice": 2}.get(custom.field_type, 1)
        slots += [
            f"({position * 2 + k}, {custom.pk}, {position + k}, {len(ids)})" for k in range(takes)
        ]
        values += [f"({custom.pk}, {index}, {value})" for index, value in enumerate(ids)]
    if not slots:
        return 0
    values = values or ["(0, 0, 0)"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH slot(pos, field_id, k, nvalues) AS (VALUES {', '.join(slots)}), "
            f"val(field_id, idx, value_id) AS (VALUES {', '.join(values)}) "
            "INSERT INTO customfields_answer (field_id, record_type, record_id, value_id, text) "
            "SELECT slot.field_id, 'user', u.id, val.value_id, "
            "CASE WHEN slot.nvalues = 0 THEN 'text value ' || slot.pos || ' of user ' || u.id "
            "ELSE '' END "
            "FROM people_user u CROSS JOIN slot LEFT JOIN val ON val.field_id = slot.field_id "
            "AND val.idx = (u.id + slot.k) %% NULLIF(slot.nvalues, 0) "
            "WHERE u.site_id = %s AND u.id > %s ORDER BY u.id, slot.pos",
            [site.pk, after_id],
        )
        # (sqlite3 has no rowcount for a statement that starts with WITH)
        cursor.execute(
            "SELECT COUNT(*) FROM customfields_answer "
            "WHERE record_type = 'user' AND record_id > %s",
            [after_id],
        )
        return cursor.fetchone()[0]


def main(argv: list[str]) -> None:
    count, answers = int(argv[0]), "--answers" in argv
    site = Site.objects.get(event__code="bench", environment="production")
    started = time.perf_counter()
    with transaction.atomic():
        before = fill_users(site, count)
        filled = fill_answers(site, before) if answers else 0
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    seconds = round(time.perf_counter() - started, 1)
    print("RESULT " + json.dumps({"users": count, "answers": filled, "seconds": seconds}))


if __name__ == "__main__":
    main(sys.argv[1:])
