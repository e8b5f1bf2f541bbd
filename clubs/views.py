from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.timezones import zone_of
from clubs import services
from clubs.access import club_for_member, club_for_organizer, club_for_reader
from clubs.dashboard import member_dashboard, public_clubs
from clubs.forms import ClubForm, InviteForm, NotificationsForm, RoleForm
from clubs.models import Invite, Membership
from clubs.page import (
    backlog_page,
    cached_club_page_context,
    club_page_context,
    club_page_html,
    club_page_read,
)
from integrations.forms import DiscordLinkForm
from integrations.models import DiscordLink
from paperclub.errors import RuleViolation
from paperclub.http import form_status, login_required, page_number, safe_redirect
from paperclub.ratelimit import rate_limit
from paperclub.text import one_line
from sessions.models import EmailFailure
from sessions.tasks import read_unsubscribe_token

CLUB_PAGE_REGIONS = {"suggestions", "ballot-status", "ranking"}


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Signed in: what to do next in my clubs, then the public clubs. Anonymous: the pitch,
    then the public clubs. The list of public clubs is searchable by name and paginated."""
    context = member_dashboard(request.user) if request.user.is_authenticated else {}
    query = one_line(request.GET.get("q", ""))[:100]  # no NUL: PostgreSQL cannot compare it
    context["query"] = query
    context["public_clubs"] = public_clubs(
        query=query, page=page_number(request), exclude=context.get("my_clubs", [])
    )
    if request.htmx and request.htmx.target == "public-club-list":
        return render(request, "home.html#public-club-list", context)
    return render(request, "home.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("create_club")
def club_create(request: HttpRequest) -> HttpResponse:
    form = ClubForm(request.POST or None, initial={"time_zone": zone_of(request)})
    if form.is_valid():
        try:
            club = services.create_club(creator=request.user, **form.cleaned_data)
        except RuleViolation as error:
            form.add_error("slug", error.message)
        else:
            messages.success(request, f"{club.name} is ready. Invite your first members.")
            return redirect(club)
    return render(request, "clubs/club_form.html", {"form": form}, status=form_status(form))


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("organize")
def club_edit(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_organizer(request, slug)
    form = ClubForm(request.POST or None, instance=access.club)
    if form.is_valid():
        club = form.save()
        messages.success(request, "Club settings saved.")
        return redirect(club)
    return render(
        request,
        "clubs/club_form.html",
        {
            "form": form,
            "club": access.club,
            "discord_link": DiscordLink.objects.filter(club=access.club).first(),
            "discord_form": DiscordLinkForm(),
        },
        status=form_status(form),
    )


@require_safe
def club_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = page_number(request)
    target = request.htmx.target if request.htmx else None
    if page == 1 and target not in {"more-suggestions", *CLUB_PAGE_REGIONS}:
        access, poll = club_page_read(request, slug)
        html = club_page_html(request, access, poll)
        if html is not None:
            return HttpResponse(html)
        context = cached_club_page_context(request, access, poll)
        return render(request, "clubs/club_detail.html", context)
    access = club_for_reader(request, slug)
    if target == "more-suggestions":
        context = club_page_context(access, regions_only=True)
        context.update(backlog_page(context["suggestions"], page, cumulative=False))
        return render(request, "clubs/club_detail.html#suggestion-page", context)
    if target in CLUB_PAGE_REGIONS:
        context = club_page_context(access, regions_only=True)
        if target == "suggestions":
            context.update(backlog_page(context["suggestions"], 1, cumulative=True))
        return render(request, f"clubs/club_detail.html#{target}", context)
    # A plain "Show more" link: rows past the first page, built each time.
    context = club_page_context(access, page=page)
    return render(request, "clubs/club_detail.html", context)


@require_safe
@login_required
def members(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_member(request, slug)
    club = access.club
    context = {
        "club": club,
        "access": access,
        "memberships": club.memberships.select_related("user").order_by("-role", "joined_at"),
        "invites": club.invites.usable().select_related("created_by")
        if access.is_organizer
        else [],
        "invite_form": InviteForm(),
    }
    return render(request, "clubs/members.html", context)


@require_POST
@login_required
@rate_limit("invite")
def invite_create(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_organizer(request, slug)
    form = InviteForm(request.POST)
    if form.is_valid():
        invite = services.create_invite(
            club=access.club,
            created_by=request.user,
            expires_at=form.expires_at(),
            max_uses=form.cleaned_data.get("max_uses"),
        )
        link = request.build_absolute_uri(invite.get_absolute_url())
        messages.success(request, f"New invite link: {link}")
    else:
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        messages.error(request, f"No invite created: {errors}")
    return redirect("clubs:members", slug=access.club.slug)


@require_POST
@login_required
@rate_limit("organize")
def invite_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = club_for_organizer(request, slug)
    invite = get_object_or_404(Invite, pk=pk, club=access.club)
    services.revoke_invite(invite=invite)
    messages.success(request, "Invite link revoked. It no longer works.")
    return redirect("clubs:members", slug=access.club.slug)


@require_http_methods(["GET", "HEAD", "POST"])
@rate_limit("join")
def invite(request: HttpRequest, token: str) -> HttpResponse:
    """The page an invite link opens: who is inviting you where, and a button to join."""
    invite = get_object_or_404(Invite.objects.select_related("club"), token=token)
    club = invite.club
    problem = invite.problem()
    already = (
        request.user.is_authenticated
        and Membership.objects.filter(club=club, user=request.user).exists()
    )
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            services.join_club(club=club, user=request.user, invite=invite)
        except RuleViolation as error:
            messages.error(request, error.message)
            return redirect("clubs:invite", token=token)
        messages.success(request, f"Welcome to {club.name}!")
        return redirect(club)
    status = 410 if problem and not already else 200
    context = {"invite": invite, "club": club, "problem": problem, "already": already}
    return render(request, "clubs/invite.html", context, status=status)


@require_POST
@login_required
@rate_limit("join")
def join(request: HttpRequest, slug: str) -> HttpResponse:
    """Join an open club; then back where the joining started (`next`, a local path: the
    live vote's ballot), else the club's page."""
    access = club_for_reader(request, slug)
    try:
        services.join_club(club=access.club, user=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect(access.club)
    messages.success(request, f"Welcome to {access.club.name}!")
    return safe_redirect(request, request.POST.get("next"), fallback=access.club.get_absolute_url())


@require_POST
@login_required
@rate_limit("join")
def leave(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_member(request, slug)
    try:
        services.leave_club(membership=access.membership)
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect("clubs:members", slug=access.club.slug)
    messages.success(request, f"You left {access.club.name}.")
    return redirect("home")


@require_POST
@login_required
@rate_limit("organize")
def member_role(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = club_for_organizer(request, slug)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=pk, club=access.club
    )
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose organizer or member.")
        return redirect("clubs:members", slug=access.club.slug)
    try:
        services.change_role(
            membership=membership, role=form.cleaned_data["role"], changed_by=request.user
        )
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{membership.user} is now {form.cleaned_data['role']}.")
    return redirect("clubs:members", slug=access.club.slug)


@require_POST
@login_required
@rate_limit("organize")
def member_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = club_for_organizer(request, slug)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=pk, club=access.club
    )
    try:
        services.remove_member(membership=membership, removed_by=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{membership.user} was removed from the club.")
    return redirect("clubs:members", slug=access.club.slug)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@rate_limit("settings")
def notifications(request: HttpRequest, slug: str) -> HttpResponse:
    """The member's email preferences for this club; organizers also see the club's emails
    that could not be sent."""
    access = club_for_member(request, slug)
    form = NotificationsForm(request.POST or None, instance=access.membership)
    if form.is_valid():
        form.save()
        messages.success(request, "Email preferences saved.")
        return redirect(access.club)
    failures = (
        EmailFailure.objects.filter(club=access.club)[:EMAIL_FAILURES_SHOWN]
        if access.is_organizer
        else []
    )
    context = {"club": access.club, "form": form, "email_failures": failures}
    return render(request, "clubs/notifications.html", context, status=form_status(form))


EMAIL_FAILURES_SHOWN = 20


@csrf_exempt  # the signed token is the credential; mail clients POST it in one click (RFC 8058)
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limit("unsubscribe")
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The link at the bottom of every email. GET asks; POST stops that kind of email."""
    found = read_unsubscribe_token(token)
    membership = (
        Membership.objects.select_related("club").filter(pk=found[0]).first() if found else None
    )
    if membership is None:
        return render(request, "clubs/unsubscribe.html", {"invalid": True}, status=404)
    kind = found[1]
    if request.method == "POST":
        services.unsubscribe(membership=membership, kind=kind)
    context = {
        "membership": membership,
        "club": membership.club,
        "kind": kind,
        "done": request.method == "POST",
    }
    return render(request, "clubs/unsubscribe.html", context)
