from django.urls import path

from clubs import views

app_name = "clubs"
urlpatterns = [
    path("clubs/new/", views.club_create, name="create"),
    path("join/<str:token>/", views.invite, name="invite"),
    path("c/<slug:slug>/", views.club_detail, name="detail"),
    path("c/<slug:slug>/settings/", views.club_edit, name="edit"),
    path("c/<slug:slug>/members/", views.members, name="members"),
    path("c/<slug:slug>/members/<int:pk>/role/", views.member_role, name="member_role"),
    path("c/<slug:slug>/members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("c/<slug:slug>/invites/", views.invite_create, name="invite_create"),
    path("c/<slug:slug>/invites/<int:pk>/revoke/", views.invite_revoke, name="invite_revoke"),
    path("c/<slug:slug>/join/", views.join, name="join"),
    path("c/<slug:slug>/leave/", views.leave, name="leave"),
    path("c/<slug:slug>/notifications/", views.notifications, name="notifications"),
]
