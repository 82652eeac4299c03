from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PlaygroundConfig(AppConfig):
    name = "playground"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # accounts connects the sign-in receiver, checks registers the system checks
        from . import checks  # noqa: F401
        from .accounts import views  # noqa: F401
        from .lessons import load_after_migrate

        # Once per migrate (sender: this app), the built-in lessons follow docs/lessons.
        post_migrate.connect(load_after_migrate, sender=self,
                             dispatch_uid="playground.load_lessons")
