from django.contrib import admin
from django.urls import include, path

from accounts.views import profile
from clubs.views import home, unsubscribe

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/profile/", profile, name="profile"),
    path("accounts/", include("allauth.urls")),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    path("", include("clubs.urls")),
    path("", include("papers.urls")),
    path("", include("sessions.urls")),
]
handler403 = "paperclub.views.permission_denied"
