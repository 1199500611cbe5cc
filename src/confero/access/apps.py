from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "confero.access"
    verbose_name = "API access"
