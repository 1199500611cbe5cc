from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ApiConfig(AppConfig):
    name = "confero.api"
    verbose_name = "Integration API"

    def ready(self) -> None:
        # Importing the resources registers them with the pipeline.
        from confero.api import resources  # noqa: F401
        from confero.rows import prefer_generic_plans

        connection_created.connect(prefer_generic_plans, dispatch_uid="confero-generic-plans")
