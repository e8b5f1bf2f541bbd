"""Where one request's time goes, for each endpoint `make bench` measures.

After a `make bench` (which leaves the seeded database and bench/.run/members.tsv):

    DEBUG=0 DJANGO_SETTINGS_MODULE=bench.settings SECRET_KEY=anything-long-enough \\
      DATABASE_URL=postgres://postgres@127.0.0.1:5432/paperclub_bench \\
      uv run python -m bench.profile [endpoint ...] [--requests N] [--pyinstrument]

Each request goes through Django's test client in this process (all middleware, same
settings) as one of the club's members, signed in by the client (CSRF checks off). The
time is split into SQL (the database's answer, measured around each query, also when a
template evaluates a queryset), template rendering (less that SQL), and the rest (view
code, middleware, building the response). `--pyinstrument` adds a profile of the slowest
endpoint given (`uv run --with pyinstrument ...`).
"""

import argparse
import statistics
import time
from contextlib import contextmanager

from bench.run import HOST, PORT, RUN_DIR, SLUG, read_members


@contextmanager
def timed_templates(totals: dict):
    """Add the time spent in Template.render (outermost calls only) to totals["render"];
    totals["depth"] > 0 while a template renders."""
    from django.template.backends.django import Template

    original = Template.render

    def render(self, *args, **kwargs):
        totals["depth"] += 1
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            totals["depth"] -= 1
            if totals["depth"] == 0:
                totals["render"] += time.perf_counter() - started

    Template.render = render
    try:
        yield
    finally:
        Template.render = original


def main() -> None:
    import django

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("endpoints", nargs="*")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--pyinstrument", action="store_true")
    options = parser.parse_args()
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    # One member voting many times a second: past the per-member limit, which is not what
    # is measured here (the load in bench/run.py spreads votes over 500 members).
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "vote": "100000/m/user,100000/m/ip"}

    from accounts.models import User
    from papers.models import Poll, Suggestion, Vote

    user_id, membership, _, _ = read_members(RUN_DIR / "members.tsv")[-1]
    poll = Poll.objects.get(club__slug=SLUG, closed_at__isnull=True)
    voted = set(
        Vote.objects.filter(poll=poll, membership_id=membership).values_list(
            "suggestion_id", flat=True
        )
    )
    spare = (
        Suggestion.objects.filter(club__slug=SLUG, state="open")
        .exclude(pk__in=voted)
        .values_list("pk", flat=True)
        .first()
    )
    closed = Poll.objects.filter(club__slug=SLUG, closed_at__isnull=False).first()
    htmx = {"HTTP_HX_REQUEST": "true"}
    vote_url = f"/c/{SLUG}/polls/{poll.pk}/vote/{spare}/"
    client = Client(HTTP_HOST=f"{HOST}:{PORT}")
    client.force_login(User.objects.get(pk=user_id))  # a session signed with this SECRET_KEY
    anonymous = Client(HTTP_HOST=f"{HOST}:{PORT}")

    def take_back():
        client.post(vote_url, {"approve": "0"}, **htmx)

    # endpoint: (the request, what undoes it, not timed)
    endpoints = {
        "vote_toggle": (lambda: client.post(vote_url, {"approve": "1"}, **htmx), take_back),
        # The region a vote made the page fetch after it until round two (one click, two
        # requests); since then the vote's answer carries it.
        "ballot_status": (
            lambda: client.get(f"/c/{SLUG}/", HTTP_HX_TARGET="ballot-status", **htmx),
            None,
        ),
        "club_page": (lambda: client.get(f"/c/{SLUG}/"), None),
        "session_page": (lambda: client.get(f"/c/{SLUG}/sessions/150/"), None),
        "timeline": (lambda: client.get(f"/c/{SLUG}/sessions/"), None),
        "poll_page": (lambda: client.get(f"/c/{SLUG}/polls/{closed.pk}/"), None),
        "calendar": (lambda: anonymous.get(f"/c/{SLUG}/calendar.ics"), None),
        "floor_select": (lambda: client.get("/bench/floor/select/?pk=1"), None),
    }
    chosen = options.endpoints or list(endpoints)
    slowest, slowest_ms = None, 0.0
    print(f"{'endpoint':13} {'total ms':>9} {'SQL ms':>8} {'queries':>8} {'render ms':>10} "
          f"{'other ms':>9}  slowest query")  # fmt: skip
    for name in chosen:
        call, undo = endpoints[name]
        for _ in range(3):  # warm caches, as the server's workers are
            call()
            if undo:
                undo()
        totals, rows = {"render": 0.0, "depth": 0, "sql_in_render": 0.0}, []
        queries: list[tuple[float, str]] = []

        def timer(execute, sql, params, many, context, queries=queries, totals=totals):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                took = time.perf_counter() - started
                queries.append((took, sql))
                if totals["depth"]:  # a lazy queryset, evaluated by the template
                    totals["sql_in_render"] += took

        for _ in range(options.requests):
            queries.clear()
            totals.update(render=0.0, sql_in_render=0.0)
            with connection.execute_wrapper(timer), timed_templates(totals):
                started = time.perf_counter()
                response = call()
                total = time.perf_counter() - started
            if undo:
                undo()
            assert response.status_code == 200, (name, response.status_code)
            sql = sum(t for t, _ in queries)
            render = totals["render"] - totals["sql_in_render"]
            rows.append((total, sql, render, len(queries), max(queries)))
        total = statistics.median(r[0] for r in rows) * 1000
        sql = statistics.median(r[1] for r in rows) * 1000
        render = statistics.median(r[2] for r in rows) * 1000
        top = statistics.median_high(r[4] for r in rows)
        print(
            f"{name:13} {total:9.1f} {sql:8.1f} {rows[0][3]:8} {render:10.1f} "
            f"{total - sql - render:9.1f}  {top[0] * 1000:.1f} ms: {top[1][:90]}"
        )
        if total > slowest_ms:
            slowest, slowest_ms = name, total
    if options.pyinstrument and slowest:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        with profiler:
            for _ in range(options.requests):
                endpoints[slowest][0]()
        print(profiler.output_text(unicode=True, color=False))


if __name__ == "__main__":
    main()
