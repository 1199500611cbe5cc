from django.apps import AppConfig


class ExhibitorsConfig(AppConfig):
    name = "confero.exhibitors"
    verbose_name = "Exhibitors"

    def ready(self) -> None:
        from confero.exhibitors.services import user_cancelled_receiver
        from confero.people.signals import user_cancelled

        user_cancelled.connect(user_cancelled_receiver, dispatch_uid="exhibitors.user_cancelled")
