from django.urls import path
from django.views.decorators.http import require_safe

from sessions import views
from sessions.feeds import NotesFeed

notes_feed = require_safe(NotesFeed())

app_name = "meetings"
urlpatterns = [
    path("c/<slug:slug>/sessions/", views.timeline, name="timeline"),
    path("c/<slug:slug>/sessions/new/", views.meeting_new, name="new"),
    path("c/<slug:slug>/sessions/<int:number>/", views.meeting_detail, name="detail"),
    path("c/<slug:slug>/sessions/<int:number>/edit/", views.meeting_edit, name="edit"),
    path("c/<slug:slug>/sessions/<int:number>/cancel/", views.meeting_cancel, name="cancel"),
    path("c/<slug:slug>/sessions/<int:number>/notes/", views.notes_edit, name="notes"),
    path("c/<slug:slug>/sessions/<int:number>/materials/", views.materials_edit, name="materials"),
    path("c/<slug:slug>/sessions/<int:number>/rsvp/", views.rsvp, name="rsvp"),
    path("c/<slug:slug>/sessions/<int:number>/attendance/", views.attendance, name="attendance"),
    path(
        "c/<slug:slug>/sessions/<int:number>/calendar.ics",
        views.meeting_calendar,
        name="meeting_calendar",
    ),
    path("c/<slug:slug>/calendar.ics", views.club_calendar, name="calendar"),
    path("c/<slug:slug>/notes.atom", notes_feed, name="notes_feed"),
    path(
        "c/<slug:slug>/feeds/<str:token>/calendar.ics", views.club_calendar, name="private_calendar"
    ),
    path("c/<slug:slug>/feeds/<str:token>/notes.atom", notes_feed, name="private_notes_feed"),
    path("c/<slug:slug>/weeks/skip/", views.week_skip, name="week_skip"),
    path("c/<slug:slug>/feeds/reset/", views.feed_token_reset, name="feed_token_reset"),
    path("calendar/", views.my_calendar, name="my_calendar"),
    path("calendar/reset/", views.personal_feed_reset, name="personal_feed_reset"),
    path("calendar/<str:token>/sessions.ics", views.personal_calendar, name="personal_calendar"),
]
