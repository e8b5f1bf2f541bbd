"""The output sweep: hostile values in every user-writable field, read back from every output
format by a real parser of that format, with nothing live in any of them.

Each value is written into every text field a person can fill in (straight into the
database, cut to the column's length, so the test holds whatever the forms let through; the
notes go through posting, which renders and sanitizes them). Then the HTML pages, the Atom
feed, the iCalendar files, the Markdown and BibTeX exports, the emails and the webhook JSON
are parsed: html.parser, feedparser, icalendar, markdown-it-py, bibtexparser, the email
package and json. Counted in the README ("Security and reliability").
"""

import datetime as dt
import email
import json
import re
from collections import Counter
from email import policy
from html.parser import HTMLParser

import bibtexparser
import feedparser
import icalendar
import pytest
from django.core import mail
from django.db import connection, models
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from markdown_it import MarkdownIt
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from accounts.models import User
from clubs.models import RULES_MAX, Club, Membership
from clubs.services import create_club, join_club
from paperclub.output import webhook_body
from paperclub.text import one_line, strip_control
from papers.models import TEXT_MAX, Paper, PaperLink, Poll, Suggestion, Track, TrackEntry
from papers.polls import open_poll
from papers.services import add_to_track, create_track, suggest_paper
from sessions.models import Material, Meeting, NoteSection
from sessions.services import post_notes, questions_for, schedule_meeting, update_meeting
from sessions.tasks import send_notes_posted, send_poll_opened, send_session_reminders
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

# The hostile corpus: markup and script in HTML and Markdown form, links to other schemes,
# header and calendar line injection, control and direction characters, template syntax,
# BibTeX and iCalendar specials, chat mentions, and a very long line.
HOSTILE = {
    "script": "<script>alert(1)</script>",
    "img-onerror": "<img src=x onerror=alert(1)>",
    "svg-onload": '<svg/onload=alert(1)><a href="javascript:alert(2)">x</a>',
    "attribute-break": '" onmouseover="alert(1)" x=\'',
    "markdown-js-link": "[click](javascript:alert(1))",
    "markdown-data-link": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "markdown-image": "![](http://track.example/pixel.png) ![x](https://t.example/a.gif)",
    "markdown-link": "[docs](http://evil.example/) <https://evil.example/auto>",
    "autolink-js": "<javascript:alert(1)> www.evil.example",
    "htmx-attribute": '<div hx-get="/admin/" hx-trigger="load">x</div>',
    "header-injection": "Subject\r\nBcc: victim@example.com\r\nX-Injected: 1",
    "calendar-injection": "a\nEND:VEVENT\nBEGIN:VEVENT\nUID:evil\nBEGIN:VALARM",
    "nul": "nul\x00byte",
    "rtl-override": "Invoice \u202egnp.exe",
    "template": "{{ settings.SECRET_KEY }} {% debug %} ${7*7} #{7*7}",
    "bibtex": "}{ @misc{evil, title={x}} \\ % # ~ ^ & _ $",
    "icalendar-specials": "a;b,c\\d:e\\nf",
    "mentions": "@everyone @here <@123> <!channel> <!here>",
    "entities": "&lt;script&gt; &#x3C;b&#x3E; &amp;",
    "long-line": "word " * 4000,
}
BENIGN = "Plain words"

# Every text field a person can fill in (club settings, papers, suggestions, sessions,
# notes, materials, tracks, profiles). Notes bodies are posted through the service.
FIELDS: list[tuple[type[models.Model], str]] = [
    (Club, "name"),
    (Club, "description"),
    (Club, "rules"),
    (Club, "place_name"),
    (Paper, "title"),
    (Paper, "authors"),
    (Paper, "abstract"),
    (Suggestion, "title"),  # the club's copy of the paper's details
    (Suggestion, "authors"),
    (Suggestion, "pitch"),
    (Suggestion, "takeaway"),
    (PaperLink, "label"),
    (Meeting, "place_name"),
    (NoteSection, "question"),
    (Material, "label"),
    (Track, "title"),
    (Track, "description"),
    (TrackEntry, "summary"),
    (TrackEntry, "further_reading"),
    (User, "display_name"),
]


# TextFields whose limit is a CheckConstraint (paperclub.text.length_limit), not max_length.
TEXT_LIMITS = {
    (Club, "rules"): RULES_MAX,
    (Track, "description"): TEXT_MAX,
    (TrackEntry, "summary"): TEXT_MAX,
    (TrackEntry, "further_reading"): TEXT_MAX,
}


def fit(model: type[models.Model], field: str, value: str) -> str:
    limit = model._meta.get_field(field).max_length or TEXT_LIMITS.get((model, field))
    return value[:limit] if limit else value


def build(django_user_model, slug: str, value: str) -> dict:
    """A public club with a webhook, a held session with notes, a coming session, a poll,
    a track and links, and then `value` in every field of FIELDS."""
    skip_nul = connection.vendor == "postgresql" and "\x00" in value  # text columns refuse NUL
    stored = BENIGN if skip_nul else value
    organizer = make_user(django_user_model, f"organizer-{slug}@example.com")
    member = make_user(django_user_model, f"member-{slug}@example.com")
    club = create_club(
        creator=organizer, name="Club", slug=slug, webhook_url="https://hooks.example/x"
    )
    membership = join_club(club=club, user=member)
    Membership.objects.filter(club=club).update(
        reminders=Membership.Reminders.ALL, notes_emails=True, poll_emails=True
    )
    held = suggest_paper(
        club=club,
        suggested_by=member,
        link=f"https://papers.example/{slug}/1",
        title="T",
        pitch="p",
    )
    coming = suggest_paper(
        club=club,
        suggested_by=member,
        link=f"https://papers.example/{slug}/2",
        title="U",
        pitch="p",
    )
    PaperLink.objects.create(suggestion=held, url="https://code.example/", label="Code")
    past = schedule_meeting(
        club=club,
        suggestions=[held],
        starts_at=timezone.now() - dt.timedelta(days=2),
        place_url="https://meet.example/room",
    )
    Material.objects.create(
        meeting=past, kind=Material.Kind.values[0], url="https://slides.example/", label="S"
    )
    post_notes(
        meeting=past,
        author=organizer,
        bodies=[stored] * len(questions_for(past)),
        takeaways={held.pk: fit(Suggestion, "takeaway", stored)},
    )
    future = schedule_meeting(
        club=club, suggestions=[coming], starts_at=timezone.now() + dt.timedelta(days=3)
    )
    track = create_track(club=club, title="Track")
    add_to_track(track=track, suggestion=held)
    poll = open_poll(club=club, opened_by=organizer)

    for model, field in FIELDS:
        rows = model.objects.all()
        if model is User:
            rows = rows.filter(pk__in=[organizer.pk, member.pk])
        elif model is not Paper:
            rows = rows.filter(**{_club_path(model): club.pk})
        else:
            rows = rows.filter(suggestions__club=club)
        model.objects.filter(pk__in=list(rows.values_list("pk", flat=True))).update(
            **{field: fit(model, field, stored)}
        )
    future.refresh_from_db()
    return {
        "club": Club.objects.get(pk=club.pk),
        "organizer": organizer,
        "member": member,
        "membership": membership,
        "past": past,
        "future": future,
        "track": track,
        "poll": poll,
        "held": held,
        "value": value,
        "stored": stored,
    }


def _club_path(model) -> str:
    return {
        Club: "pk",
        Suggestion: "club",
        PaperLink: "suggestion__club",
        Meeting: "club",
        NoteSection: "meeting__club",
        Material: "meeting__club",
        Track: "club",
        TrackEntry: "track__club",
    }[model]


@pytest.fixture(params=list(HOSTILE), ids=list(HOSTILE))
def world(request, django_user_model):
    return build(django_user_model, "hostile", HOSTILE[request.param])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# HTML


RISKY_TAGS = {
    "script", "iframe", "frame", "object", "embed", "img", "svg", "math", "style", "base",
    "meta", "link", "form", "input", "textarea", "button", "select", "video", "audio",
    "source", "picture",
}  # fmt: skip
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "poster", "background", "srcset", "xlink:href",
    "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete", "data-ranking-url",
}  # fmt: skip
UNSAFE_SCHEMES = ("javascript:", "data:", "vbscript:")


class Elements(HTMLParser):
    """The page's elements and attributes as a browser's tokenizer reads them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.inline_script = ""
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        self._in_script = tag == "script" and attributes.get("type") != "application/json"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_script += data


def elements(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


def nothing_executes(html: str) -> None:
    page = elements(html)
    assert page.inline_script.strip() == ""
    for tag, attributes in page.tags:
        if tag == "script":
            assert attributes.get("src", "").startswith("/static/")
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in URL_ATTRIBUTES:
                squeezed = "".join(value.split()).lower()
                assert not squeezed.startswith(UNSAFE_SCHEMES), (tag, name, value)


def shape(html: str) -> Counter:
    """What a page can run: its risky elements and its htmx attributes, counted."""
    counts = Counter()
    for tag, attributes in elements(html).tags:
        if tag in RISKY_TAGS:
            counts[tag] += 1
        counts.update(f"{tag}[{name}]" for name in attributes if name.startswith("hx-"))
    return counts


def pages(w: dict) -> dict[str, str]:
    slug, club = w["club"].slug, w["club"]
    past, future, track = w["past"], w["future"], w["track"]
    return {
        "club": club.get_absolute_url(),
        "club-page-2": f"{club.get_absolute_url()}?page=2",
        "club-settings": reverse("clubs:edit", args=[slug]),
        "members": reverse("clubs:members", args=[slug]),
        "notifications": reverse("clubs:notifications", args=[slug]),
        "timeline": reverse("meetings:timeline", args=[slug]),
        "held-session": past.get_absolute_url(),
        "coming-session": future.get_absolute_url(),
        "notes-form": reverse("meetings:notes", args=[slug, past.number]),
        "materials-form": reverse("meetings:materials", args=[slug, past.number]),
        "session-form": reverse("meetings:edit", args=[slug, future.number]),
        "poll": reverse("papers:poll", args=[slug, w["poll"].pk]),
        "suggestion-edit": reverse("papers:suggestion_edit", args=[slug, w["held"].pk]),
        "tracks": reverse("papers:tracks", args=[slug]),
        "track": reverse("papers:track", args=[slug, track.pk]),
        "search": f"{reverse('papers:search', args=[slug])}?q=T",
        "profile": reverse("profile"),
    }


def test_html_pages_run_nothing_the_user_wrote(world, django_user_model):
    benign = build(django_user_model, "benign", BENIGN)  # the shape each page must keep
    benign_client = signed_in(benign["organizer"])
    benign_shapes = {
        name: shape(benign_client.get(url).content.decode()) for name, url in pages(benign).items()
    }
    client = signed_in(world["organizer"])
    htmx = {"HX-Request": "true"}
    for name, url in pages(world).items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        nothing_executes(html)
        assert shape(html) == benign_shapes[name], name
        nothing_executes(client.get(url, headers=htmx).content.decode())


# Atom


def test_atom_feed_sends_plain_text_as_text_and_notes_as_sanitized_html(world, client):
    club = world["club"]
    body = client.get(reverse("meetings:notes_feed", args=[club.slug])).content

    feed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)

    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.feed.title_detail.type == "text/plain"
    assert feed.feed.title == one_line(f"{club.name}: session notes")
    assert feed.feed.subtitle_detail.type == "text/plain"
    (entry,) = feed.entries
    assert entry.title_detail.type == "text/plain"
    assert "\n" not in entry.title
    assert entry.summary_detail.type == "text/plain"
    takeaway = one_line(fit(Suggestion, "takeaway", world["stored"]))
    assert entry.summary == (takeaway or f"Notes of session #{world['past'].number}.")
    (content,) = entry.content
    assert content.type == "text/html"
    nothing_executes(content.value)
    assert shape(content.value) == Counter()  # no risky element, no htmx attribute


# iCalendar


EVENT_PROPERTIES = {
    "UID", "SEQUENCE", "DTSTAMP", "LAST-MODIFIED", "DTSTART", "DTEND", "SUMMARY", "STATUS",
    "LOCATION", "URL", "DESCRIPTION",
}  # fmt: skip


def test_calendars_keep_each_value_inside_its_own_property(world, client):
    club = world["club"]
    urls = [
        reverse("meetings:calendar", args=[club.slug]),
        reverse("meetings:meeting_calendar", args=[club.slug, world["future"].number]),
    ]
    for url in urls:
        calendar = icalendar.Calendar.from_ical(client.get(url).content)

        assert {component.name for component in calendar.walk()} <= {"VCALENDAR", "VEVENT"}
        assert "\n" not in str(calendar.get("X-WR-CALNAME", ""))
        events = calendar.walk("VEVENT")
        assert events
        for event in events:
            assert set(event) <= EVENT_PROPERTIES
            assert event["UID"].startswith("session-")
            assert str(event["URL"]).startswith("http")
            meeting = Meeting.objects.get(pk=int(event["UID"].split("-")[1].split("@")[0]))
            titles = "; ".join(s.display_title for s in meeting.suggestions.all())
            expected = one_line(f"{club.name} #{meeting.number}: {titles}")
            assert str(event["SUMMARY"]) == expected
            if "LOCATION" in event:
                assert "\n" not in str(event["LOCATION"])
            description = str(event["DESCRIPTION"]).split("\n")
            assert description[-1].startswith("Session page: http")


# Markdown export


def test_markdown_export_renders_no_html_image_or_other_scheme(world, client):
    club = world["club"]
    text = client.get(reverse("papers:export_markdown", args=[club.slug])).content.decode()
    md = MarkdownIt("commonmark", {"linkify": True}).enable(["linkify", "table", "strikethrough"])
    md.validateLink = lambda url: True  # see every link, even those a renderer would drop

    tokens = md.parse(text)
    inline = [child for token in tokens for child in (token.children or [])]

    assert [t.type for t in tokens + inline if t.type in ("html_block", "html_inline")] == []
    assert [t for t in inline if t.type == "image"] == []
    for token in inline:
        if token.type == "link_open":
            # GitHub links bare web and email addresses; nothing else is a link.
            href = str(token.attrs["href"]).lower()
            assert href.startswith(("http://", "https://", "mailto:")), token.attrs


# BibTeX export

LATEX = get_default_latex_context_db()
LATEX.add_context_category(
    "paperclub-escapes",
    macros=[
        MacroTextSpec(name, char)
        for name, char in {
            "textbraceleft": "{",
            "textbraceright": "}",
            "textbackslash": "\\",
            "textasciitilde": "~",
            "textasciicircum": "^",
        }.items()
    ],
    prepend=True,
)


def latex_text(value: str) -> str:
    return LatexNodes2Text(latex_context=LATEX, math_mode="verbatim").latex_to_text(value)


def test_bibtex_export_parses_to_the_same_entries_with_fields_as_written(world, client):
    club = world["club"]
    text = client.get(reverse("papers:export_bibtex", args=[club.slug])).content.decode()

    library = bibtexparser.parse_string(text)

    assert library.failed_blocks == []
    assert len(library.entries) == club.suggestions.count()
    titles = {" ".join(strip_control(s.display_title).split()) for s in club.suggestions.all()}
    read = {latex_text(entry["title"].strip("{}")) for entry in library.entries}
    if not any(ligature in world["stored"] for ligature in ("--", "``", "''")):
        assert read == titles


# Email


def test_emails_have_one_line_headers_and_the_text_as_written(world):
    future = world["future"]
    mail.outbox = []

    send_session_reminders.call(future.pk, future.starts_at.isoformat())
    send_notes_posted.call(world["past"].pk)
    send_poll_opened.call(world["poll"].pk)

    assert len(mail.outbox) >= 3
    for sent in mail.outbox:
        raw = sent.message().as_bytes()
        parsed = email.message_from_bytes(raw, policy=policy.default)
        assert set(parsed.keys()) <= {
            "Content-Type", "MIME-Version", "Content-Transfer-Encoding", "Subject", "From",
            "To", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post",
        }  # fmt: skip
        assert parsed["Subject"].strip() == one_line(sent.subject)  # folded when long
        assert parsed["To"] == sent.to[0]
        for name, value in parsed.items():
            assert "\n" not in str(value) and "\r" not in str(value), name
        body = parsed.get_body(("plain",)).get_content()
        assert "\x00" not in body
        assert one_line(world["club"].name) in " ".join(body.split())


# Webhook JSON


def test_webhook_json_mentions_nobody_and_formats_nothing(
    world, django_capture_on_commit_callbacks
):
    future = world["future"]
    DBTaskResult.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        update_meeting(
            meeting=future,
            starts_at=future.starts_at + dt.timedelta(hours=1),
            duration=future.ends_at - future.starts_at,
            place_name=future.place_name,
            place_url="",
            presenters=[],
        )
    (row,) = DBTaskResult.objects.filter(task_path="sessions.tasks.post_webhook")
    payload = json.loads(webhook_body(row.args_kwargs["args"][1]))

    assert payload["allowed_mentions"] == {"parse": []}
    assert payload["mrkdwn"] is False
    content, text = payload["content"], payload["text"]
    assert len(content) <= 2000
    escapes_removed = re.sub(r"\\\\", "", content)  # an escaped backslash is plain text
    for markup in ("@everyone", "@here", "<@", "<!", "](", "**", "`", "||"):
        assert not re.search(r"(?<!\\)" + re.escape(markup), escapes_removed), markup
    assert "<" not in text and ">" not in text
    assert "\x00" not in content and "\r" not in content


# Discord bot messages


def test_discord_messages_mention_nobody_and_format_nothing(world):
    from integrations import messages

    candidate = suggest_paper(
        club=world["club"],
        suggested_by=world["member"],
        link="https://papers.example/hostile/3",
        title="V",
        pitch="p",
    )
    Suggestion.objects.filter(pk=candidate.pk).update(
        title=fit(Suggestion, "title", world["stored"])
    )
    poll = Poll.objects.select_related("club").get(pk=world["poll"].pk)
    poll.show_live_results = True  # the counts and titles in the message text too
    future = Meeting.objects.with_papers().get(pk=world["future"].pk)
    poll_message = messages.poll_message(poll)
    texts = [poll_message["content"], messages.next_session_text(future)]

    assert poll_message["allowed_mentions"] == {"parse": []}
    for content in texts:
        assert len(content) <= 2000
        # Our own timestamps are the only markup; then nothing the user wrote formats.
        plain = re.sub(r"<t:[0-9]+:[FR]>", "", re.sub(r"\\\\", "", content))
        for markup in ("@everyone", "@here", "<@", "<#", "](", "**", "`", "||"):
            assert not re.search(r"(?<!\\)" + re.escape(markup), plain), markup
        assert "\x00" not in content and "\r" not in content
    assert poll_message["components"]  # the candidate's button
    for row in poll_message["components"]:
        for component in row["components"]:
            assert 0 < len(component.get("label", "")) <= messages.LABEL_MAX
            assert "\n" not in component.get("label", "")


def test_sweep_size():
    # Reported in the README's "Security and reliability" section.
    outputs = 8  # HTML, Atom, iCalendar, Markdown, BibTeX, email, webhook JSON, Discord
    assert (len(HOSTILE), len(FIELDS), outputs) == (20, 20, 8)
