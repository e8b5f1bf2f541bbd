"""Emails and webhooks, sent by the background worker (`manage.py db_worker`), never in a request.

Services call the `queue_*` functions; they enqueue after the transaction commits. A task
checks, when it runs, that what it announces is still true (a reminder is tied to the
session's start time at the moment it was queued: a moved session has queued a new one).
"""

import datetime as dt
import ipaddress
import logging
import socket
import urllib.error
import urllib.request
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from clubs.models import Club, Membership
from paperclub.output import webhook_body
from paperclub.text import multi_line, one_line, vote_word
from paperclub.when import when_text
from papers.models import Poll
from sessions.models import EmailFailure, Meeting, Rsvp, SentEmail

log = logging.getLogger(__name__)

REMINDER_LEAD = dt.timedelta(hours=24)
WEBHOOK_TIMEOUT = 5  # seconds
WEBHOOK_ATTEMPTS = 4
EMAIL_ATTEMPTS = 4
UNSUBSCRIBE_SALT = "paperclub.unsubscribe"


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def unsubscribe_token(membership: Membership, kind: str) -> str:
    return signing.dumps({"m": membership.pk, "k": kind}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("k") not in Membership.EMAIL_SWITCHES:
        return None
    return data.get("m"), data["k"]


def send_once(
    memberships, *, key: str, kind: str, subject: str, body, attach=None
) -> tuple[int, int]:
    """Email each member at most once for `key`. Returns (sent, failed).

    `body` is the text, or a function of the membership that writes it for that member.
    A send the mail server refused is recorded as an EmailFailure, which the club's
    organizers see on its emails page.
    """
    sent = failed = 0
    # A header is one line: the texts are clean already, and older rows are folded here.
    subject = one_line(subject)
    problem = None
    for membership in memberships:
        try:
            with transaction.atomic():
                record = SentEmail.objects.create(membership=membership, key=key)
        except IntegrityError:
            continue  # already sent
        link = absolute(reverse("unsubscribe", args=[unsubscribe_token(membership, kind)]))
        text = body(membership) if callable(body) else body
        message = EmailMessage(
            subject=subject,
            body=multi_line(
                f"{text}\n\n--\nStop these emails from {membership.club.name}: {link}\n"
            ),
            to=[membership.user.email],
            headers={
                "List-Unsubscribe": f"<{link}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        if attach:
            message.attach(*attach)
        try:
            message.send()
        except Exception as error:
            record.delete()  # so that the retry sends it
            log.exception("Could not email member %s about %s", membership.pk, key)
            failed += 1
            problem = (membership.club_id, error)
            continue
        sent += 1
    if problem is not None:
        club_id, error = problem
        EmailFailure.objects.create(
            club_id=club_id,
            key=key[:120],
            subject=subject[:300],
            error=one_line(f"{type(error).__name__}: {error}")[:500],
            failed=failed,
        )
    return sent, failed


def _finish(task_, args: tuple, attempt: int, outcome: tuple[int, int]) -> int:
    """Queue the task again, later, when some emails failed (the mail server was down).
    Members already emailed are skipped then: their emails are recorded."""
    sent, failed = outcome
    if failed:
        if attempt >= EMAIL_ATTEMPTS:
            log.error(
                "%s: %s emails still failing after %s attempts", task_.module_path, failed, attempt
            )
        else:
            delay = dt.timedelta(minutes=5 * 2 ** (attempt - 1))
            task_.using(run_after=timezone.now() + delay).enqueue(*args, attempt + 1)
    return sent


def _meeting_summary(meeting: Meeting) -> str:
    papers = "; ".join(s.display_title for s in meeting.suggestions.all())
    return f"{meeting.club.name} #{meeting.number}: {papers}"


@task()
def send_session_reminders(meeting_id: int, starts_at: str, attempt: int = 1) -> int:
    """A day before the session: to members who answered going or maybe, and to those who
    want every reminder (unless they said they are not going). Skipped when the session
    moved (a new reminder was queued), was cancelled, or has already started."""
    from sessions.feeds import calendar_bytes

    meeting = Meeting.objects.with_papers().filter(pk=meeting_id).first()
    if meeting is None or meeting.state != Meeting.State.SCHEDULED:
        return 0
    moved = meeting.starts_at != dt.datetime.fromisoformat(starts_at)
    if moved or meeting.starts_at <= timezone.now():
        return 0
    rsvps = Rsvp.objects.filter(meeting=meeting)
    answered = rsvps.filter(answer__in=["going", "maybe"]).values("membership")
    declined = rsvps.filter(answer="no").values("membership")
    members = (
        Membership.objects.filter(club=meeting.club_id)
        .exclude(reminders=Membership.Reminders.NONE)
        .filter(Q(reminders=Membership.Reminders.ALL) | Q(pk__in=answered))
        .exclude(pk__in=declined)
        .select_related("user", "club")
    )
    place = ", ".join(x for x in (meeting.place_name, meeting.place_url) if x)

    def body(membership) -> str:  # each member reads the time in their own zone
        when = when_text(meeting.starts_at, club_zone=meeting.club.tz, viewer=reader(membership))
        return (
            f"Reminder: {_meeting_summary(meeting)}\n"
            f"When: {when}\n"
            + (f"Where: {place}\n" if place else "")
            + f"Session page: {absolute(meeting.get_absolute_url())}"
        )

    ics = calendar_bytes(_meeting_summary(meeting), [meeting], absolute)
    outcome = send_once(
        members,
        # The moment itself, not its spelling: one key however the offset is written.
        key=f"reminder:{meeting.pk}:{int(meeting.starts_at.timestamp())}",
        kind="reminders",
        subject=f"Tomorrow: {_meeting_summary(meeting)}",
        body=body,
        attach=(f"session-{meeting.number}.ics", ics, "text/calendar"),
    )
    return _finish(send_session_reminders, (meeting_id, starts_at), attempt, outcome)


@task()
def send_poll_opened(poll_id: int, attempt: int = 1) -> int:
    poll = Poll.objects.select_related("club").filter(pk=poll_id).first()
    if poll is None or not poll.is_open():
        return 0

    def body(membership) -> str:
        when = when_text(poll.closes_at, club_zone=poll.club.tz, viewer=reader(membership))
        closes = f"Voting closes {when}." if poll.closes_at else "An organizer closes the poll."
        return (
            f"A poll is open: you have {poll.budget} {vote_word(poll.budget)}. {closes}\n"
            f"Vote: {absolute(poll.club.get_absolute_url())}#ballot"
        )

    outcome = send_once(
        _members(poll.club, "poll_emails"),
        key=f"poll-open:{poll.pk}",
        kind="polls",
        subject=f"{poll.club.name}: vote on what to read next",
        body=body,
    )
    return _finish(send_poll_opened, (poll_id,), attempt, outcome)


@task()
def send_poll_closing(poll_id: int, closes_at: str, attempt: int = 1) -> int:
    """A day before a poll closes, to members who have not voted yet."""
    poll = Poll.objects.select_related("club").filter(pk=poll_id).first()
    if poll is None or not poll.is_open() or poll.closes_at != dt.datetime.fromisoformat(closes_at):
        return 0
    members = _members(poll.club, "poll_emails").exclude(votes__poll=poll)
    outcome = send_once(
        members,
        key=f"poll-closing:{poll.pk}",
        kind="polls",
        subject=f"{poll.club.name}: the poll closes tomorrow",
        body=f"You have not voted yet. Vote: {absolute(poll.club.get_absolute_url())}#ballot",
    )
    return _finish(send_poll_closing, (poll_id, closes_at), attempt, outcome)


@task()
def send_notes_posted(meeting_id: int, attempt: int = 1) -> int:
    meeting = Meeting.objects.with_papers().filter(pk=meeting_id).first()
    if meeting is None or not meeting.has_notes:
        return 0
    outcome = send_once(
        _members(meeting.club, "notes_emails"),
        key=f"notes:{meeting.pk}",
        kind="notes",
        subject=f"Notes posted: {_meeting_summary(meeting)}",
        body=f"Read them: {absolute(meeting.get_absolute_url())}",
    )
    return _finish(send_notes_posted, (meeting_id,), attempt, outcome)


def reader(membership) -> zoneinfo.ZoneInfo:
    """The zone an email to this member is written in: the one in their profile."""
    return zoneinfo.ZoneInfo(membership.user.time_zone)


def _members(club: Club, flag: str):
    return Membership.objects.filter(club=club, **{flag: True}).select_related("user", "club")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is refused: the redirect could point anywhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirect refused: {msg}", headers, fp)


_webhook_opener = urllib.request.build_opener(_NoRedirects)


def _webhook_target_allowed(url: str) -> bool:
    """Webhooks go to the internet, not to this machine's own network (unless allowed).

    Raises OSError when the host name cannot be looked up (retried like any failure).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return True
    infos = socket.getaddrinfo(parts.hostname, parts.port or 443)
    return all(ipaddress.ip_address(info[4][0]).is_global for info in infos)


@task()
def post_webhook(club_id: int, text: str, attempt: int = 1) -> bool:
    """Post `text` to the club's webhook as Discord- and Slack-style JSON, escaped for each
    (`paperclub.output.webhook_body`): nothing in it formats the message or mentions anyone.

    A failure is logged and retried later with growing delays, up to WEBHOOK_ATTEMPTS
    times; nobody using the site ever sees it. Redirects are not followed."""
    club = Club.objects.filter(pk=club_id).first()
    if club is None or not club.webhook_url:
        return False
    body = webhook_body(text)
    request = urllib.request.Request(
        club.webhook_url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "PaperClub-webhook"},
    )
    try:
        if not _webhook_target_allowed(club.webhook_url):
            log.warning("Webhook of club %s points to a non-public address; not sent", club.slug)
            return False
        with _webhook_opener.open(request, timeout=WEBHOOK_TIMEOUT) as response:
            response.read(1024)
        return True
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        if isinstance(error, urllib.error.HTTPError):
            error.close()
        if attempt >= WEBHOOK_ATTEMPTS:
            log.error(
                "Webhook of club %s failed %s times, giving up: %s", club.slug, attempt, error
            )
            return False
        delay = dt.timedelta(seconds=30 * 2 ** (attempt - 1))
        log.warning("Webhook of club %s failed (%s); retrying in %s", club.slug, error, delay)
        post_webhook.using(run_after=timezone.now() + delay).enqueue(club_id, text, attempt + 1)
        return False


# Queueing, called by the services inside their transactions.


def _after_commit(fn) -> None:
    transaction.on_commit(fn)


def queue_session_reminder(meeting: Meeting) -> None:
    if meeting.state != Meeting.State.SCHEDULED or meeting.starts_at <= timezone.now():
        return
    run_after = max(meeting.starts_at - REMINDER_LEAD, timezone.now())
    args = (meeting.pk, meeting.starts_at.isoformat())
    _after_commit(lambda: send_session_reminders.using(run_after=run_after).enqueue(*args))


def queue_poll_emails(poll: Poll) -> None:
    _after_commit(lambda: send_poll_opened.enqueue(poll.pk))
    if poll.closes_at and poll.closes_at - REMINDER_LEAD > timezone.now():
        run_after = poll.closes_at - REMINDER_LEAD
        args = (poll.pk, poll.closes_at.isoformat())
        _after_commit(lambda: send_poll_closing.using(run_after=run_after).enqueue(*args))


def queue_notes_email(meeting: Meeting) -> None:
    _after_commit(lambda: send_notes_posted.enqueue(meeting.pk))


def announce(club: Club, text: str, *, poll: Poll | None = None) -> None:
    """Post to the club's linked Discord channel through the bot (with the vote buttons of
    `poll`), else to the club's webhook, if it has one."""
    from integrations.tasks import queue_channel_post

    if queue_channel_post(club, text, poll.pk if poll is not None else None):
        return
    if club.webhook_url:
        _after_commit(lambda: post_webhook.enqueue(club.pk, text))
