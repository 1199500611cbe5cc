"""PostgreSQL: every change to what the API's gate reads notifies channel `confero_gate`, at its
commit (confero.access.gatecache, docs/decisions/0012). Nothing on SQLite, which has no cache."""

from django.db import migrations

MODELS = (("events", "Event"), ("events", "Site"), ("access", "ApiProfile"), ("access", "ApiToken"))

FUNCTION = """
CREATE OR REPLACE FUNCTION confero_gate_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('confero_gate', '');
    RETURN NULL;
END
$$
"""


def _tables(apps) -> list[str]:
    return [apps.get_model(app, model)._meta.db_table for app, model in MODELS]


# A token's time of last use changes once a minute per token and process, and the gate does not
# decide on it: writing it notifies no one.
NOT_NOTIFIED = {"access_apitoken": {"last_used_at"}}


def _events(apps, table: str) -> str:
    skipped = NOT_NOTIFIED.get(table)
    if not skipped:
        return "INSERT OR UPDATE OR DELETE OR TRUNCATE"
    model = next(
        apps.get_model(app, name)
        for app, name in MODELS
        if apps.get_model(app, name)._meta.db_table == table
    )
    watched = [f.column for f in model._meta.concrete_fields if f.column not in skipped]
    return f"INSERT OR UPDATE OF {', '.join(watched)} OR DELETE OR TRUNCATE"


def _create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table in _tables(apps):
        schema_editor.execute(
            f"CREATE TRIGGER confero_gate_changed AFTER {_events(apps, table)} "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION confero_gate_changed()"
        )


def _drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in _tables(apps):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS confero_gate_changed ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS confero_gate_changed()")


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0001_profiles_tokens_call_log"),
        ("events", "0002_site_fields_version"),
    ]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]
