from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "confero.people"
    verbose_name = "People"
