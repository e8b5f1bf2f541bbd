from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    """403. An htmx request gets the reason as a message, not a whole page in a fragment."""
    if getattr(request, "htmx", False):
        response = render(request, "403.html#reason", {"exception": exception}, status=403)
        response["HX-Retarget"] = "#messages"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "403.html", {"exception": exception}, status=403)
