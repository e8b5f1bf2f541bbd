from allauth.account.views import login as allauth_login
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import ProfileForm
from paperclub import cache
from paperclub.http import form_status, login_required
from paperclub.ratelimit import rate_limit


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("settings")
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if form.is_valid():
        user = form.save()
        if "display_name" in form.changed_data:  # the name shows on their clubs' pages
            cache.bump_clubs(user.memberships.values_list("club_id", flat=True))
        messages.success(request, "Profile saved.")
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form}, status=form_status(form))


def login(request: HttpRequest) -> HttpResponse:
    """allauth's sign-in page, answering 429 (with Retry-After) when sign-in is locked after
    too many failed attempts; the page says so and for how long."""
    response = allauth_login(request)
    if getattr(request, "login_locked", False) and response.status_code == 200:
        response.status_code = 429
        response["Retry-After"] = str(settings.LOGIN_LOCKOUT_MINUTES * 60)
    return response
