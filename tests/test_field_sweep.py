"""Every form field the site serves, times the hostile corpus, as the role that may use the form.

Discovered, not listed: every page of the authorization matrix is fetched as its user, its
<form>s are read with an HTML parser, and each form is posted with a browser's values
except one field set to one hostile value (tests/hostile.py). A new form anywhere is swept
the next time the suite runs. Every cell must answer below 500; a refusal (4xx) must leave
every table as it was; an accepted value must be stored by the input rule (tests/sweep.py).

Each page's GET parameters (`next`, `page`, `q`, and the fields of its GET forms) get the
same corpus. Each cell runs in a savepoint that is rolled back, so cells share one world.
"""

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.urls import resolve

from papers.models import Suggestion
from papers.polls import close_poll
from papers.services import add_to_track, create_track
from tests.hostile import CORPUS
from tests.sweep import (
    Control,
    changed_rows,
    encode,
    forms_of,
    kind_of,
    path_of,
    rule_breaches,
    snapshot,
)
from tests.test_authorization_matrix import RULES, not_allowed, url_for, world  # noqa: F401

pytestmark = pytest.mark.django_db

# Set-by-the-page controls (hidden, radio, select...) get these; typed ones all of CORPUS.
FORGED = [v for v in CORPUS if v.name in {"crlf", "nul", "invalid-utf8", "huge", "script"}]

# Valid values for fields a page leaves empty, so that the rest of the form is accepted
# and the one hostile field decides the outcome.
FILL = {
    "link": "2401.09999",
    "title": "A paper for the sweep",
    "pitch": "Worth an evening.",
    "name": "Sweep club",
    "reason": "The club asked for it.",
    "q0": "What we said.",
    "text": "1. [Sweep paper](https://arxiv.org/abs/2401.09998)",
    "display_name": "Sweeper",
    "summary": "Why it is here.",
    "guild_id": "111111111111111111",
    "channel_id": "222222222222222222",
}
FILL_FIRST = {"suggestions"}  # choices a form needs one of, which the page leaves unticked
FILL_BY_TYPE = {"email": "sweep@example.com"}

# Pages whose forms, filled as a browser would, are refused for a reason of the world the
# sweep runs in, not of the values: the cells are still swept for 5xx and half-writes.
REFUSED_AS_IS = {
    "papers:poll_open": "the club already has an open poll",
    "papers:live_new": "the club already has an open poll: the form asks to close it first",
    "clubs:leave": "the organizer is the club's last organizer",
    "clubs:member_role": "the form demotes the last organizer",
    "clubs:member_remove": "the organizer cannot remove themselves as last organizer",
    "papers:poll_override": "the closed poll had no votes, so nothing can win it",
    "papers:import": "the preview writes nothing; its confirmation is a second form",
}

# POST routes no page of the world shows a form for, and why.
NOT_ON_A_PAGE = {
    "papers:ranking": "the world's polls are approval polls (tests/papers/test_ranked_polls.py)",
    "integrations:discord_interactions": "Discord posts it, signed (tests/integrations/)",
}

PAGES = sorted(name for name, methods in RULES.items() if methods["GET"] is not not_allowed)
# (url name, who looks at it, which club)
VIEWS = [(name, "organizer", "public") for name in PAGES]
VIEWS += [("clubs:detail", "outsider", "public"), ("clubs:invite", "outsider", "private")]
VIEWS += [("papers:poll", "organizer", "private")]  # closed: the override form
VIEWS += [("clubs:detail", "organizer", "private")]  # the private feeds' reset button
VIEWS += [("papers:suggestion_edit", "organizer", "open")]  # the withdraw button
VIEWS += [("papers:track", "organizer", "second track")]  # the entries' move buttons

SWEPT: dict[tuple, dict] = {}  # form kind -> the page it was swept on, and its cells
VISITED: set[tuple] = set()


@pytest.fixture
def swept_world(request):
    people, clubs = request.getfixturevalue("world")
    # The private club's poll is closed, so its page shows the override form.
    close_poll(poll=clubs["private"]["poll"], closed_by=people["organizer"])
    # A second track of two papers, so the pages show their move buttons (the first
    # keeps one, so its page still offers a paper to add).
    public = clubs["public"]
    second = Suggestion.objects.get(club=public["club"], state=Suggestion.State.OPEN)
    track = create_track(club=public["club"], title="Alignment")
    add_to_track(track=track, suggestion=public["suggestion"])
    add_to_track(track=track, suggestion=second)
    clubs["open"] = {**public, "suggestion": second}
    clubs["second track"] = {**public, "track": track}
    return people, clubs


def filled(form) -> list[tuple[str, bytes]]:
    pairs = []
    for control in form.controls.values():
        sent = control.sent
        if control.typed and not any(v.strip() for v in sent):
            value = FILL.get(control.name) or FILL_BY_TYPE.get(control.kind)
            if control.kind == "url":  # one link per field: a form may refuse a repeat
                value = f"https://example.com/{control.name}"
            if value is None and control.name.startswith("takeaway"):
                value = "Attention is enough."
            sent = [value] if value else sent
        if control.name in FILL_FIRST and not sent and control.values:
            sent = control.values[:1]
        if control.kind == "select" and not any(sent):  # "---------": pick a real choice
            sent = [v for v in control.values if v][:1] or sent
        pairs += [(control.name, v.encode()) for v in sent]
    if form.last_button:
        pairs.append((form.last_button[0], form.last_button[1].encode()))
    return pairs


def send(client: Client, form, pairs) -> int:
    headers = {"HTTP_HX_REQUEST": "true"} if form.htmx else {}
    cache.clear()  # rate limits count in the cache: each cell starts with none spent
    response = client.post(
        path_of(form.action),
        data=encode(pairs),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )
    return response.status_code


class _Undo(Exception):
    """Raised at the end of each cell to roll its savepoint back."""


def run_cell(client, form, pairs, before) -> tuple[int, str | None]:
    """Post once inside a savepoint and roll it back: the status, and what went wrong."""
    outcome: tuple[int, str | None] = (500, "did not run")
    try:
        with transaction.atomic():
            outcome = _cell(client, form, pairs, before)
            raise _Undo
    except _Undo:
        pass
    return outcome


def _cell(client, form, pairs, before) -> tuple[int, str | None]:
    writes = []

    def watch(execute, sql, params, many, context):
        if sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE") and "django_" not in sql:
            writes.append(sql)
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(watch):
            status = send(client, form, pairs)
    except Exception as error:  # the test client re-raises a view's exception
        return 500, f"raised {type(error).__name__}: {str(error)[:200]}"
    if status >= 500:
        return status, f"answered {status}"
    if not writes:  # nothing was written, so nothing changed: no need to compare
        return status, None
    changed = changed_rows(before, snapshot())
    if status >= 400 and changed:
        return status, f"answered {status} but wrote {[m._meta.label for m, _ in changed]}"
    problems = [p for model, row in changed for p in rule_breaches(model, row)]
    return status, f"stored {problems}" if problems else None


@pytest.mark.parametrize(("name", "role", "visibility"), VIEWS)
def test_every_field_of_every_form_on_the_page(swept_world, name, role, visibility):
    people, clubs = swept_world
    VISITED.add((name, role, visibility))
    client = Client()
    client.force_login(people[role])
    url = url_for(name, clubs[visibility])
    page = client.get(url)
    assert page.status_code in (200, 410), page.status_code
    before = snapshot()
    failures = query_failures(client, url, page)
    if "html" not in page["Content-Type"]:
        assert failures == []
        return
    for form in forms_of(page.content.decode(), f"http://testserver{url}"):
        if form.method != "post":
            continue
        target = resolve(path_of(form.action).split("?")[0])
        kind = kind_of(form, target.view_name)
        if kind in SWEPT:
            continue
        swept = SWEPT[kind] = {"page": name, "fields": 0, "cells": 1}
        baseline = filled(form)
        status, problem = run_cell(client, form, baseline, before)
        if problem:
            failures.append(f"{target.view_name} as sent: {problem}")
        if status >= 400 and target.view_name not in REFUSED_AS_IS:
            failures.append(f"{target.view_name} refused the page's own values ({status})")
        controls = list(form.controls.values())
        if form.last_button and form.last_button[0] not in form.controls:
            controls.append(Control(form.last_button[0], "button"))
        for control in controls:
            if control.name == "csrfmiddlewaretoken":
                continue
            others = [(n, v) for n, v in baseline if n != control.name]
            values = CORPUS if control.typed else FORGED
            swept["fields"] += 1
            swept["cells"] += len(values)
            for value in values:
                _, problem = run_cell(client, form, [*others, (control.name, value.raw)], before)
                if problem:
                    failures.append(f"{target.view_name} {control.name}={value.name}: {problem}")
    assert failures == []


# GET parameters people and links carry, and those of the page's own GET forms.
QUERY_NAMES = ["next", "page", "q"]


def query_failures(client, url: str, page) -> list[str]:
    """The page asked for with each hostile value in each of its GET parameters."""
    names = list(QUERY_NAMES)
    if "html" in page.get("Content-Type", ""):
        for form in forms_of(page.content.decode(), f"http://testserver{url}"):
            if form.method == "get":
                names += [n for n in form.controls if n not in names]
    failures = []
    for value in CORPUS:
        query = encode([(n, value.raw) for n in names])
        try:
            status = client.get(f"{url}?{query}").status_code
        except Exception as error:
            failures.append(f"GET {url} {value.name}: raised {type(error).__name__}: {error}")
            continue
        if status >= 500:
            failures.append(f"GET {url} {value.name}: answered {status}")
    return failures


def test_every_post_route_was_swept():
    """Runs last: the forms swept above reach every POST route of the matrix."""
    if len(VISITED) < len(VIEWS):
        pytest.skip("only part of the sweep ran in this session")
    posted = {name for name, methods in RULES.items() if methods["POST"] is not not_allowed}
    reached = {kind[0] for kind in SWEPT}
    fields = sum(s["fields"] for s in SWEPT.values())
    cells = sum(s["cells"] for s in SWEPT.values())
    print(f"field sweep: {len(SWEPT)} forms, {fields} fields, {cells} cells")  # for the README
    assert posted - reached == set(NOT_ON_A_PAGE)


def test_sweep_size():
    """Reported in the README's "Security and reliability" section."""
    assert (len(CORPUS), len(FORGED), len(VIEWS)) == (14, 5, len(PAGES) + 6)
