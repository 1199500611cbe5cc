from django.apps import AppConfig


class ProgrammeConfig(AppConfig):
    name = "confero.programme"
    verbose_name = "Programme"

    def ready(self) -> None:
        # Connects the receiver of people's user_cancelled (frees the user's seats).
        from confero.programme import receivers  # noqa: F401
