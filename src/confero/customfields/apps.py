from django.apps import AppConfig


class CustomfieldsConfig(AppConfig):
    name = "confero.customfields"
    verbose_name = "Custom fields"
