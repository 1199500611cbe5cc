from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "confero.events"
    verbose_name = "Events and sites"
