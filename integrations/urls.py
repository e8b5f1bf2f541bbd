from django.urls import path

from integrations import views

app_name = "integrations"
urlpatterns = [
    path(
        "integrations/discord/interactions/",
        views.discord_interactions,
        name="discord_interactions",
    ),
    path("c/<slug:slug>/settings/discord/", views.discord_link, name="discord_link"),
    path("c/<slug:slug>/settings/discord/unlink/", views.discord_unlink, name="discord_unlink"),
]
