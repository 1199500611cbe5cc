from django.apps import AppConfig


class RegistrationConfig(AppConfig):
    name = "confero.registration"
    verbose_name = "Registration"
