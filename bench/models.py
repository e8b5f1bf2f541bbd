from django.conf import settings
from django.db import models
from django.utils import timezone


class Hit(models.Model):
    """One row per request to the INSERT floor view. Exists only in the benchmark's database."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"hit {self.pk} by {self.user_id}"
