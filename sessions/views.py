from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clubs.access import club_for_organizer, club_for_reader
from paperclub.errors import RuleViolation
from paperclub.http import login_required
from paperclub.markdown import render_markdown
from sessions import services
from sessions.access import (
    may_write_notes,
    meeting_for_note_taker,
    meeting_for_organizer,
    meeting_for_reader,
)
from sessions.forms import MeetingForm, NotesForm
from sessions.models import Meeting


@require_GET
def timeline(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_reader(request, slug)
    meetings = Meeting.objects.filter(club=access.club).timeline()
    return render(
        request,
        "sessions/timeline.html",
        {"club": access.club, "access": access, "meetings": meetings},
    )


@require_GET
def meeting_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    access, meeting = meeting_for_reader(request, slug, number)
    context = {
        "club": access.club,
        "access": access,
        "meeting": meeting,
        "sections": meeting.note_sections.all(),
        "can_write_notes": may_write_notes(access, meeting, request.user),
    }
    return render(request, "sessions/meeting_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest, slug: str) -> HttpResponse:
    access = club_for_organizer(request, slug)
    club = access.club
    with timezone.override(club.tz):
        initial = {
            "starts_at": services.next_free_slot(club, timezone.now()),
            "duration": club.meeting_duration,
            "place_name": club.place_name,
            "place_url": club.place_url,
        }
        form = MeetingForm(request.POST or None, club=club, initial=initial)
        if form.is_valid():
            data = form.cleaned_data
            try:
                meeting = services.schedule_meeting(
                    club=club,
                    suggestions=data["suggestions"],
                    source=data["source"],
                    starts_at=data["starts_at"],
                    duration=form.duration_delta(),
                    place_name=data["place_name"],
                    place_url=data["place_url"],
                    presenters=data["presenters"],
                )
            except RuleViolation as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Session #{meeting.number} is scheduled.")
                return redirect(meeting)
        status = 422 if form.errors else 200
        context = {"club": club, "form": form, "meeting": None}
        return render(request, "sessions/meeting_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    access, meeting = meeting_for_organizer(request, slug, number)
    club = access.club
    with timezone.override(club.tz):
        initial = {
            "starts_at": meeting.starts_at,
            "duration": int(meeting.duration.total_seconds() // 60),
            "place_name": meeting.place_name,
            "place_url": meeting.place_url,
            "presenters": list(meeting.presenters.all()),
        }
        form = MeetingForm(request.POST or None, club=club, editing=True, initial=initial)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_meeting(
                    meeting=meeting,
                    starts_at=data["starts_at"],
                    duration=form.duration_delta(),
                    place_name=data["place_name"],
                    place_url=data["place_url"],
                    presenters=data["presenters"],
                )
            except RuleViolation as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"Session #{meeting.number} saved.")
                return redirect(meeting)
        status = 422 if form.errors else 200
        context = {"club": club, "form": form, "meeting": meeting}
        return render(request, "sessions/meeting_form.html", context, status=status)


@login_required
@require_POST
def meeting_cancel(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    _, meeting = meeting_for_organizer(request, slug, number)
    try:
        services.cancel_meeting(meeting=meeting)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Session #{meeting.number} is cancelled; its papers are back on the list."
        )
    return redirect(meeting)


@login_required
@require_http_methods(["GET", "POST"])
def notes_edit(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Write the notes. "Preview" renders them (sanitized) without saving."""
    access, meeting = meeting_for_note_taker(request, slug, number)
    questions = services.questions_for(meeting)
    papers = list(meeting.suggestions.all())
    initial = {f"q{s.position}": s.body for s in meeting.note_sections.all()}
    form = NotesForm(request.POST or None, questions=questions, suggestions=papers, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = [
                (q, render_markdown(body)) for q, body in zip(questions, form.bodies(), strict=True)
            ]
        else:
            try:
                services.post_notes(
                    meeting=meeting,
                    author=request.user,
                    bodies=form.bodies(),
                    takeaways=form.takeaways(),
                )
            except RuleViolation as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "The notes are posted.")
                return redirect(meeting)
    context = {"club": access.club, "meeting": meeting, "form": form, "preview": preview}
    if request.htmx and "preview" in request.POST:
        return render(request, "sessions/notes_form.html#preview", context)
    status = 422 if form.errors else 200
    return render(request, "sessions/notes_form.html", context, status=status)
