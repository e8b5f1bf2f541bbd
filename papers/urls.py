from django.urls import path

from papers import views

app_name = "papers"
urlpatterns = [
    path("c/<slug:slug>/suggestions/", views.suggest, name="suggest"),
    path("c/<slug:slug>/suggestions/check/", views.suggest_check, name="suggest_check"),
    path("c/<slug:slug>/suggestions/<int:pk>/edit/", views.suggestion_edit, name="suggestion_edit"),
    path(
        "c/<slug:slug>/suggestions/<int:pk>/withdraw/",
        views.suggestion_withdraw,
        name="suggestion_withdraw",
    ),
    path("c/<slug:slug>/polls/new/", views.poll_open, name="poll_open"),
    path("c/<slug:slug>/polls/<int:pk>/", views.poll_detail, name="poll"),
    path("c/<slug:slug>/polls/<int:pk>/close/", views.poll_close, name="poll_close"),
    path("c/<slug:slug>/polls/<int:pk>/override/", views.poll_override, name="poll_override"),
    path("c/<slug:slug>/polls/<int:pk>/vote/<int:suggestion_pk>/", views.vote, name="vote"),
]
