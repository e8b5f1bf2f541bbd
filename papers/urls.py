from django.urls import path

from papers import live_views, views

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
    path("c/<slug:slug>/polls/<int:pk>/ranking/", views.ranking, name="ranking"),
    path("c/<slug:slug>/search/", views.search, name="search"),
    path("c/<slug:slug>/import/", views.reading_list_import, name="import"),
    path("c/<slug:slug>/reading-list.md", views.reading_list_markdown, name="export_markdown"),
    path("c/<slug:slug>/reading-list.bib", views.reading_list_bibtex, name="export_bibtex"),
    path("c/<slug:slug>/tracks/", views.tracks, name="tracks"),
    path("c/<slug:slug>/tracks/new/", views.track_create, name="track_create"),
    path("c/<slug:slug>/tracks/<int:pk>/", views.track_detail, name="track"),
    path("c/<slug:slug>/tracks/<int:pk>/edit/", views.track_edit, name="track_edit"),
    path("c/<slug:slug>/tracks/<int:pk>/delete/", views.track_delete, name="track_delete"),
    path("c/<slug:slug>/tracks/<int:pk>/move/", views.track_move, name="track_move"),
    path("c/<slug:slug>/tracks/<int:pk>/papers/", views.track_entry_add, name="track_entry_add"),
    path(
        "c/<slug:slug>/tracks/<int:pk>/papers/<int:entry_pk>/",
        views.track_entry_edit,
        name="track_entry_edit",
    ),
    path(
        "c/<slug:slug>/tracks/<int:pk>/papers/<int:entry_pk>/move/",
        views.track_entry_move,
        name="track_entry_move",
    ),
    path(
        "c/<slug:slug>/tracks/<int:pk>/papers/<int:entry_pk>/remove/",
        views.track_entry_remove,
        name="track_entry_remove",
    ),
    path("c/<slug:slug>/papers/<int:pk>/read/", views.read_mark, name="read_mark"),
    # The live vote at the end of a session (papers/live_views.py).
    path("c/<slug:slug>/polls/live/new/", live_views.live_new, name="live_new"),
    path("c/<slug:slug>/polls/<int:pk>/live/", live_views.live_screen, name="live_screen"),
    path("c/<slug:slug>/polls/<int:pk>/live/state/", live_views.live_state, name="live_state"),
    path("c/<slug:slug>/polls/<int:pk>/live/qr.svg", live_views.live_qr, name="live_qr"),
    path("c/<slug:slug>/polls/<int:pk>/ballot/", live_views.live_ballot, name="live_ballot"),
    path(
        "c/<slug:slug>/polls/<int:pk>/ballot/<int:suggestion_pk>/",
        live_views.live_vote,
        name="live_vote",
    ),
    path("v/<str:code>/", live_views.live_short, name="live_short"),
]
