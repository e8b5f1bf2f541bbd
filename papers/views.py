from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from clubs.access import club_for_member, club_for_organizer
from clubs.views import ballot_context, club_page_context
from paperclub.errors import RuleViolation
from paperclub.http import form_status, htmx_refusal, login_required
from papers import services
from papers.access import poll_for_reader, suggestion_for_editor
from papers.forms import OverrideForm, PollForm, SuggestForm, SuggestionEditForm
from papers.models import Poll, Suggestion, Tally
from papers.services import TIE_BREAK_RULE, DuplicateSuggestion

CLUB_PAGE = "clubs/club_detail.html"


def _duplicate_url(suggestion: Suggestion) -> str:
    meeting = services.last_session(suggestion)
    if meeting is not None:
        return meeting.get_absolute_url()
    return f"{suggestion.club.get_absolute_url()}#suggestion-{suggestion.pk}"


@require_POST
@login_required
def suggest(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_member(request, slug)
    form = SuggestForm(request.POST)
    duplicate_url = ""
    if form.is_valid():
        try:
            suggestion = services.suggest_paper(
                club=access.club, suggested_by=request.user, **form.cleaned_data
            )
        except DuplicateSuggestion as error:
            form.add_error("link", error.message)
            duplicate_url = _duplicate_url(error.suggestion)
        except RuleViolation as error:
            form.add_error(None, error.message)
        else:
            if not request.htmx:
                messages.success(request, f"“{suggestion.paper.title}” is on the list.")
                return redirect(f"{access.club.get_absolute_url()}#suggestion-{suggestion.pk}")
            context = {
                "club": access.club,
                "access": access,
                "suggest_form": SuggestForm(),
                "added": suggestion,
            }
            response = render(request, f"{CLUB_PAGE}#suggest-form", context)
            return trigger_client_event(response, "suggestionAdded")
    context = {
        "club": access.club,
        "access": access,
        "suggest_form": form,
        "duplicate_url": duplicate_url,
    }
    if request.htmx:
        return render(request, f"{CLUB_PAGE}#suggest-form", context, status=422)
    return render(request, CLUB_PAGE, {**club_page_context(access), **context}, status=422)


@require_POST
@login_required
def suggest_check(request: HttpRequest, slug: str) -> HttpResponse:
    """As-you-type feedback on the link field: what paper it is, and whether the club has it."""
    access = club_for_member(request, slug)
    link = request.POST.get("link", "").strip()
    context = {"club": access.club, "link": link}
    if link:
        try:
            arxiv_id, _ = services.identify_paper(link)
        except RuleViolation as error:
            context["problem"] = error.message
        else:
            context["arxiv_id"] = arxiv_id
            paper = services.find_paper(link)
            context["paper"] = paper
            existing = (
                Suggestion.objects.filter(club=access.club, paper=paper)
                .exclude(state=Suggestion.State.WITHDRAWN)
                .select_related("suggested_by")
                .first()
                if paper
                else None
            )
            if existing is not None:
                context["problem"] = services.duplicate_message(existing)
                context["duplicate_url"] = _duplicate_url(existing)
    return render(request, f"{CLUB_PAGE}#link-feedback", context)


@require_http_methods(["GET", "POST"])
@login_required
def suggestion_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, suggestion = suggestion_for_editor(request, slug, pk)
    form = SuggestionEditForm(
        request.POST or None, instance=suggestion, organizer=access.is_organizer
    )
    if form.is_valid():
        try:
            services.edit_suggestion(
                suggestion=suggestion,
                pitch=form.cleaned_data["pitch"],
                takeaway=form.cleaned_data.get("takeaway"),
            )
        except RuleViolation as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Suggestion saved.")
            return redirect(f"{access.club.get_absolute_url()}#suggestion-{suggestion.pk}")
    context = {"club": access.club, "access": access, "suggestion": suggestion, "form": form}
    return render(request, "papers/suggestion_edit.html", context, status=form_status(form))


@require_POST
@login_required
def suggestion_withdraw(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, suggestion = suggestion_for_editor(request, slug, pk)
    try:
        services.withdraw_suggestion(suggestion=suggestion)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{suggestion.paper.title}” was taken off the list.")
    return redirect(access.club)


@require_POST
@login_required
def vote(request: HttpRequest, slug: str, pk: int, suggestion_pk: int) -> HttpResponse:
    """Vote for a candidate (approve=1) or take the vote back (approve=0).

    htmx gets the candidate's row back and a `voteCast` event; a refusal comes back as
    a message with status 409 (or 403/400), and nothing is written.
    """
    access = club_for_member(request, slug)
    poll = get_object_or_404(Poll, pk=pk, club=access.club)
    suggestion = get_object_or_404(Suggestion, pk=suggestion_pk)
    approve = request.POST.get("approve") == "1"
    try:
        services.set_vote(
            poll=poll, membership=access.membership, suggestion=suggestion, approve=approve
        )
    except RuleViolation as error:
        if not request.htmx:
            messages.error(request, error.message)
            return redirect(f"{access.club.get_absolute_url()}#ballot")
        return htmx_refusal(error.message, status=error.status, target="#poll-message")
    if not request.htmx:
        return redirect(f"{access.club.get_absolute_url()}#suggestion-{suggestion.pk}")
    context = ballot_context(access, poll)
    # The paper's row again; a paper no longer on the list (withdrawn) leaves it.
    context["suggestion"] = context["suggestions"].filter(pk=suggestion.pk).first()
    if context["suggestion"] is None:
        response = HttpResponse("")
    else:
        response = render(request, f"{CLUB_PAGE}#suggestion", context)
    return trigger_client_event(response, "voteCast")


@require_http_methods(["GET", "POST"])
@login_required
def poll_open(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_organizer(request, slug)
    club = access.club
    with timezone.override(club.tz):
        form = PollForm(
            request.POST or None, initial={"closes_at": PollForm.default_closing(), "budget": 3}
        )
        if form.is_valid():
            try:
                services.open_poll(club=club, opened_by=request.user, **form.cleaned_data)
            except RuleViolation as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "The poll is open. Members can vote on the club page.")
                return redirect(f"{club.get_absolute_url()}#ballot")
        return render(
            request, "papers/poll_form.html", {"club": club, "form": form}, status=form_status(form)
        )


@require_GET
def poll_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access, poll = poll_for_reader(request, slug, pk)
    services.close_due_polls(club=access.club)
    poll.refresh_from_db()
    context = {
        "club": access.club,
        "access": access,
        "poll": poll,
        "rule": TIE_BREAK_RULE,
        "meeting": getattr(poll, "meeting", None) if poll.is_closed else None,
    }
    if poll.is_closed:
        context["tallies"] = Tally.objects.filter(poll=poll).select_related(
            "suggestion__paper", "suggestion__suggested_by"
        )
        if access.is_organizer:
            context["override_form"] = OverrideForm(poll=poll)
    elif poll.results_visible():
        context["live"] = (
            Suggestion.objects.filter(club=access.club)
            .backlog()
            .with_people()
            .with_vote_counts(poll)
            .order_by("-vote_count", "created_at")
        )
    return render(request, "papers/poll_detail.html", context)


@require_POST
@login_required
def poll_close(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = club_for_organizer(request, slug)
    poll = get_object_or_404(Poll, pk=pk, club=access.club)
    try:
        poll = services.close_poll(poll=poll, closed_by=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        if poll.winner:
            messages.success(request, f"The poll is closed: “{poll.winner.paper.title}” won.")
        else:
            messages.info(request, "The poll is closed. No votes were cast, so no paper won.")
    return redirect(reverse("papers:poll", args=[access.club.slug, poll.pk]))


@require_POST
@login_required
def poll_override(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    access = club_for_organizer(request, slug)
    poll = get_object_or_404(Poll, pk=pk, club=access.club)
    form = OverrideForm(request.POST, poll=poll)
    if form.is_valid():
        try:
            services.override_winner(
                poll=poll,
                suggestion=form.cleaned_data["suggestion"],
                overridden_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except RuleViolation as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "The winner was changed and the reason recorded.")
    else:
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        messages.error(request, f"The result was not changed: {errors}")
    return redirect(reverse("papers:poll", args=[access.club.slug, poll.pk]))
