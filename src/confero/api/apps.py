from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "confero.api"
    verbose_name = "Integration API"

    def ready(self) -> None:
        # Importing the resources registers them with the pipeline.
        from confero.api import resources  # noqa: F401
