from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "confero.messaging"
    verbose_name = "Messages"
