"""Floor views: the least a request can do on this stack, to compare the real pages with.

Both sit behind the same middleware as every page (sessions, CSRF, auth, messages, htmx,
time zone) and are driven with the same signed-in members' cookies. Each does one query
of its own besides the session and user lookups that every signed-in request makes.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_POST

from bench.models import Hit
from paperclub.http import login_required
from papers.models import Paper


@require_GET
@login_required
def floor_select(request: HttpRequest) -> HttpResponse:
    """One indexed SELECT: a paper by primary key, picked from the query string."""
    pk = int(request.GET.get("pk", "1"))
    title = Paper.objects.filter(pk=pk).values_list("title", flat=True).first()
    return HttpResponse(f"<p>{title is not None}</p>")


@require_POST
@login_required
def floor_insert(request: HttpRequest) -> HttpResponse:
    """One INSERT, for a POST that passed the CSRF check like a vote does."""
    Hit.objects.create(user=request.user)
    return HttpResponse("<p>ok</p>")
