from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.csrf import csrf_failure as django_csrf_failure


def _htmx_message(request: HttpRequest, reason: str) -> HttpResponse:
    response = render(request, "403.html#reason", {"exception": reason}, status=403)
    response["HX-Retarget"] = "#messages"
    response["HX-Reswap"] = "innerHTML"
    return response


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    """403. An htmx request gets the reason as a message, not a whole page in a fragment."""
    if getattr(request, "htmx", False):
        return _htmx_message(request, str(exception or "") or "You cannot do that here.")
    return render(request, "403.html", {"exception": exception}, status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A stale form (signed in or out in another tab). htmx gets a message, not a page."""
    if request.headers.get("HX-Request") == "true":
        return _htmx_message(
            request,
            "This page is out of date (you signed in or out elsewhere). Reload it and try again.",
        )
    return django_csrf_failure(request, reason=reason)
