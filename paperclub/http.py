from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect


def login_required(view):
    """Like Django's, but an htmx request is sent to sign-in with a full-page redirect,
    so the sign-in form is never swapped into a fragment of the page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.htmx:
            back = request.htmx.current_url_abs_path or "/"
            login = resolve_url(settings.LOGIN_URL)
            return HttpResponseClientRedirect(f"{login}?{urlencode({'next': back})}")
        return redirect_to_login(request.get_full_path())

    return wrapper
