"""The Discord interactions endpoint, and the club settings' Discord link and unlink."""

import json
import logging

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from clubs.access import club_for_organizer
from clubs.forms import ClubForm
from integrations import interactions, services, signatures
from integrations.forms import DiscordLinkForm
from integrations.models import DiscordLink
from paperclub.errors import RuleViolation
from paperclub.http import login_required
from paperclub.ratelimit import rate_limit

log = logging.getLogger(__name__)

BODY_MAX = 64 * 1024  # Discord's interactions are a few kilobytes


@csrf_exempt  # Discord's Ed25519 signature is the authentication; it sends no cookie
@require_POST
@rate_limit("discord")
def discord_interactions(request: HttpRequest) -> HttpResponse:
    if not settings.DISCORD_PUBLIC_KEY:
        raise Http404("Discord is not set up on this site.")
    body = request.body
    signed = len(body) <= BODY_MAX and signatures.verify(
        public_key_hex=settings.DISCORD_PUBLIC_KEY,
        signature_hex=request.headers.get("X-Signature-Ed25519", ""),
        timestamp=request.headers.get("X-Signature-Timestamp", ""),
        body=body,
    )
    if not signed:
        return HttpResponse("Invalid request signature.", status=401, content_type="text/plain")
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError
        answer = interactions.handle(payload)
    except (ValueError, TypeError, AttributeError, KeyError):
        log.warning("A signed Discord interaction could not be read")
        return HttpResponse("Unreadable interaction.", status=400, content_type="text/plain")
    return JsonResponse(answer)


@require_POST
@login_required
@rate_limit("settings")
def discord_link(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_organizer(request, slug)
    form = DiscordLinkForm(request.POST)
    if form.is_valid():
        try:
            services.link_channel(club=access.club, linked_by=request.user, **form.cleaned_data)
        except RuleViolation as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, "Discord channel saved. Run /paper link in that channel to confirm it."
            )
            return redirect(f"{reverse('clubs:edit', args=[access.club.slug])}#discord")
    context = {
        "form": ClubForm(instance=access.club),
        "club": access.club,
        "discord_link": DiscordLink.objects.filter(club=access.club).first(),
        "discord_form": form,
    }
    return render(request, "clubs/club_form.html", context, status=422)


@require_POST
@login_required
@rate_limit("settings")
def discord_unlink(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_organizer(request, slug)
    if services.unlink_channel(club=access.club):
        messages.success(request, "The club is no longer linked to Discord.")
    return redirect(f"{reverse('clubs:edit', args=[access.club.slug])}#discord")
