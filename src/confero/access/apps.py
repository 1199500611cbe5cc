from django.apps import AppConfig
from django.db.models.signals import post_save


class AccessConfig(AppConfig):
    name = "confero.access"
    verbose_name = "API access"

    def ready(self) -> None:
        from confero.access.services import give_site_a_profile
        from confero.events.models import Site

        post_save.connect(give_site_a_profile, sender=Site, dispatch_uid="confero-site-profile")
