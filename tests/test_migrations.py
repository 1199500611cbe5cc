"""The migrations in the repository are the models: nothing is left for `makemigrations`.

Runs on both databases of `make test`. django_db because makemigrations also checks the migration
history of the database it is connected to.
"""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader


@pytest.mark.django_db
def test_models_have_no_unmigrated_changes():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(
            "models changed without a migration; run `confero manage makemigrations` and commit "
            f"the result:\n{out.getvalue()}"
        )


@pytest.mark.django_db
def test_every_confero_app_with_models_has_migrations():
    # An app without a migrations package is skipped by `makemigrations --check` and created by
    # syncdb in tests, so the check above alone would not notice it.
    migrated = MigrationLoader(connection).migrated_apps
    missing = [
        config.label
        for config in apps.get_app_configs()
        if config.name.startswith("confero.")
        and list(config.get_models())
        and config.label not in migrated
    ]
    assert missing == []
