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


def _create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table in _tables(apps):
        schema_editor.execute(
            f"CREATE TRIGGER confero_gate_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
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
