from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark's own pieces: floor views, a model for the INSERT floor, the seed.

    Installed only by `bench.settings`, never by the production settings.
    """

    name = "bench"
    default_auto_field = "django.db.models.BigAutoField"
