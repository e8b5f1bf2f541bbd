from django.urls import path

from sessions import views

app_name = "meetings"
urlpatterns = [
    path("c/<slug:slug>/sessions/", views.timeline, name="timeline"),
    path("c/<slug:slug>/sessions/new/", views.meeting_new, name="new"),
    path("c/<slug:slug>/sessions/<int:number>/", views.meeting_detail, name="detail"),
    path("c/<slug:slug>/sessions/<int:number>/edit/", views.meeting_edit, name="edit"),
    path("c/<slug:slug>/sessions/<int:number>/cancel/", views.meeting_cancel, name="cancel"),
    path("c/<slug:slug>/sessions/<int:number>/notes/", views.notes_edit, name="notes"),
]
