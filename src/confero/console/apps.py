from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "confero.console"
    verbose_name = "Organizer console"
