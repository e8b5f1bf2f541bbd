from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from accounts.views import login, profile
from clubs.views import home, unsubscribe

# The admin signs in through allauth's sign-in page, with its rate limits and lockout: its own
# login form would let a password be guessed without limit.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/profile/", profile, name="profile"),
    # Unnamed, before allauth's: the same URL as `account_login`, answering 429 when locked.
    path("accounts/login/", login),
    path("accounts/", include("allauth.urls")),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    path("", include("clubs.urls")),
    path("", include("papers.urls")),
    path("", include("sessions.urls")),
    path("", include("integrations.urls")),
]
handler400 = "paperclub.views.bad_request"
handler403 = "paperclub.views.permission_denied"
