from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    """The weekly sessions. Labelled `meetings`: `sessions` belongs to django.contrib.sessions."""

    name = "sessions"
    label = "meetings"
    verbose_name = "Sessions"
    default_auto_field = "django.db.models.BigAutoField"
