"""`make bench`: seed a large club into PostgreSQL, serve it with gunicorn, load it with wrk.

Run from the project folder as `python -m bench.run` with DJANGO_SETTINGS_MODULE=
bench.settings, DEBUG=0, a SECRET_KEY and a DATABASE_URL whose database name contains
"bench" (it is dropped and made again on every run); the Makefile's `bench` target sets
them. Prints a table, writes bench/results.json and the table in BENCHMARKS.md (a
partial run, with other --levels or --endpoints, writes bench/.run/results-partial.json
and leaves both alone). BENCHMARKS.md describes the method.

The functions at the top (parsing wrk's output, statistics, the vote accounting, the
table) are pure and tested in tests/test_bench_harness.py; Django is set up only by main().
"""

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RUN_DIR = BENCH / ".run"  # scratch files of the latest run (git-ignored)
RESULTS = BENCH / "results.json"
REPORT = ROOT / "BENCHMARKS.md"
LUA = BENCH / "load.lua"
HOST, PORT = "127.0.0.1", 8901
SLUG = "bench"

# endpoint: (the Lua script's mode, the floor it is compared with)
ENDPOINTS = {
    "vote_toggle": ("vote", "floor_insert"),
    "club_page": ("club_page", "floor_select"),
    "session_page": ("session_page", "floor_select"),
    "timeline": ("timeline", "floor_select"),
    "poll_page": ("poll_page", "floor_select"),
    "calendar": ("calendar", "floor_select"),
    "floor_select": ("floor_select", "floor_select"),
    "floor_insert": ("floor_insert", "floor_insert"),
}
# Floors first in each round, so each page is measured close in time to its floor.
ORDER = [
    "floor_select",
    "floor_insert",
    "vote_toggle",
    "club_page",
    "session_page",
    "timeline",
    "poll_page",
    "calendar",
]
PAIRS_VOTED, PAIRS_UNVOTED = 5, 5  # per member: toggled pairs that start voted / not voted
BUSY_LOAD = 1.0  # a one-minute load average above this before the run: figures are flagged
SWEEP = [20000, 200, 2000]  # club sizes (papers) of the sweep; the standard club last, so the
# database left behind is the one bench.profile expects
SWEEP_CLIENTS = 8

TARGETS = [
    # (description, check(results by (endpoint, clients), lost_votes) -> (met, figure))
    (
        "32 clients: vote toggle >= 60% of the INSERT floor's rps",
        lambda r, lost: _ratio_target(r, "vote_toggle", 32, 0.60),
    ),
    (
        "32 clients: club page >= 40% of the SELECT floor's rps",
        lambda r, lost: _ratio_target(r, "club_page", 32, 0.40),
    ),
    (
        "8 clients: vote toggle p99 < 100 ms",
        lambda r, lost: _p99_target(r, "vote_toggle", 8, 100),
    ),
    (
        "8 clients: club page p99 < 150 ms",
        lambda r, lost: _p99_target(r, "club_page", 8, 150),
    ),
    *(
        (
            f"32 clients: {name.replace('_', ' ')} >= 30% of the SELECT floor's rps",
            lambda r, lost, name=name: _ratio_target(r, name, 32, 0.30),
        )
        for name in ("session_page", "timeline", "poll_page")
    ),
    (
        "htmx vote response < 2 KB",
        lambda r, lost: _bytes_target(r, "vote_toggle", 2048),
    ),
    ("lost votes: 0", lambda r, lost: (lost == 0, f"{lost}")),
]


def flat_target(sweep: list[dict]) -> dict:
    """The club page at the sweep's largest club within 10% of its p50 at the smallest."""
    target = "8 clients: club page p50 at the largest club within 10% of the smallest"
    if len(sweep) < 2:
        return {"target": target, "met": None, "measured": "not measured"}
    ratio = sweep[-1]["p50_vs_smallest"]
    if ratio is None:
        return {"target": target, "met": None, "measured": "not measured"}
    return {"target": target, "met": ratio <= 1.10, "measured": f"{ratio:.2f}x"}


# --- Pure functions: wrk's output, statistics, the vote accounting, the table --------------


def parse_wrk_output(stdout: str) -> dict:
    """The JSON that load.lua's done() prints after "BENCH_JSON ": wrk's summary, and
    each thread's counts, clock readings, vote pair states and latencies."""
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON ") :])
            for thread in data["threads"]:
                # Lua has one kind of table: an empty list arrives as {}.
                thread["latencies_us"] = thread["latencies_us"] or []
            return data
    raise ValueError("wrk printed no BENCH_JSON line (did load.lua's done() run?)")


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p% of values at or below it."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(rank) - 1]


def run_stats(data: dict) -> dict:
    """Throughput and latency of one wrk run, from the threads' own counts and clocks.

    rps counts every response, from the first request sent to the last response read.
    """
    threads = [t for t in data["threads"] if t["responses"]]
    responses = sum(t["responses"] for t in threads)
    ok = sum(t["ok"] for t in threads)
    latencies = [x for t in threads for x in t["latencies_us"]]
    elapsed_s = 0.0
    if threads:
        elapsed_s = (max(t["last_us"] for t in threads) - min(t["first_us"] for t in threads)) / 1e6
    statuses: dict[str, int] = {}
    for t in threads:
        if t.get("refused"):
            statuses["409"] = statuses.get("409", 0) + t["refused"]
        for item in filter(None, t.get("other_statuses", "").split(",")):
            status, n = item.split(":")
            statuses[status] = statuses.get(status, 0) + int(n)
    errors = data["summary"]["errors"]
    return {
        "rps": responses / elapsed_s if elapsed_s > 0 else 0.0,
        "p50_ms": percentile(latencies, 50) / 1000,
        "p99_ms": percentile(latencies, 99) / 1000,
        "responses": responses,
        "ok": ok,
        "not_ok": statuses,
        "socket_errors": sum(errors[k] for k in ("connect", "read", "write", "timeout")),
        "body_bytes": round(sum(t["body_bytes"] for t in threads) / ok) if ok else 0,
        "elapsed_s": round(elapsed_s, 3),
        # wrk's own figures, with its coordinated-omission correction (not used above)
        "wrk_p50_ms": data["summary"].get("wrk_p50_us", 0) / 1000,
        "wrk_p99_ms": data["summary"].get("wrk_p99_us", 0) / 1000,
    }


def median_of_runs(runs: list[dict]) -> dict:
    """Each figure's median over the runs (taken figure by figure)."""
    return {
        key: statistics.median(run[key] for run in runs)
        for key in ("rps", "p50_ms", "p99_ms", "body_bytes")
    }


def vote_check(
    *,
    data: dict,
    plan: list[tuple[int, int, int, int]],
    db_after: set[tuple[int, int]],
    count_before: int,
    count_after: int,
) -> dict:
    """Compare what the load generator was told with what the database holds.

    `plan`: the run's toggled pairs as (connection, membership, suggestion, state before),
    in the plan file's order; thread n owns connection n's pairs and reports their last
    acknowledged states (1 = voted) in that order, its acknowledged adds and removes, and
    the pair of a request left unanswered when wrk stopped, if any: that one is in doubt
    (the client never learned the outcome), so either state is right for it.
    Lost: acknowledged states the database does not show, or a net change in the number
    of votes other than the acknowledged one (plus the in-doubt requests that took
    effect), whichever is more.
    """
    threads = {t["thread"]: t for t in data["threads"]}
    adds = sum(t["adds"] for t in threads.values())
    removes = sum(t["removes"] for t in threads.values())
    in_doubt = {t["in_flight"] for t in threads.values() if t.get("in_flight")}
    owned: dict[int, list[tuple[int, int, int]]] = {}
    for connection, membership, suggestion, state in plan:
        owned.setdefault(connection, []).append((membership, suggestion, state))
    mismatched, checked, doubt_effect = [], 0, 0
    for connection, pairs in owned.items():
        thread = threads.get(connection)
        # A thread that reported nothing leaves its pairs as they were.
        states = thread["states"] if thread else "".join(str(p[2]) for p in pairs)
        if len(states) != len(pairs):
            raise ValueError(f"thread {connection} reported {len(states)} pairs, owns {len(pairs)}")
        for (membership, suggestion, _), state in zip(pairs, states, strict=True):
            in_db = (membership, suggestion) in db_after
            if f"{membership}:{suggestion}" in in_doubt:
                # Either outcome is right; if the toggle took effect, the count moved too.
                if in_db != (state == "1"):
                    doubt_effect += 1 if in_db else -1
                continue
            checked += 1
            if in_db != (state == "1"):
                mismatched.append(f"{membership}:{suggestion}")
    count_mismatch = (adds - removes + doubt_effect) - (count_after - count_before)
    lost = max(len(mismatched), abs(count_mismatch))
    return {
        "acked_adds": adds,
        "acked_removes": removes,
        "db_change": count_after - count_before,
        "pairs_checked": checked,
        "pairs_mismatched": mismatched[:20],
        "in_doubt": len(in_doubt),
        "in_doubt_applied": doubt_effect,
        "lost": lost,
    }


HX_TRIGGER = re.compile(r"<[^>]*\bhx-trigger=\"([^\"]*)\"[^>]*>")
HX_ATTRIBUTE = re.compile(r'\b(hx-get|id)="([^"]*)"')


def follow_ups(page: str, events: list[str]) -> list[str]:
    """The regions of `page` that fetch themselves again (hx-get) when one of `events` (the
    names in a response's HX-Trigger header) reaches the body: the requests a click
    answered with those events makes the browser send next. Each is named by its id (the
    HX-Target the browser sends)."""
    found = []
    for match in HX_TRIGGER.finditer(page):
        triggers = [t.strip().split(" ")[0] for t in match.group(1).split(",")]
        attributes = dict(HX_ATTRIBUTE.findall(match.group(0)))
        if "hx-get" in attributes and any(event in triggers for event in events):
            found.append(attributes.get("id", ""))
    return found


def busy(load: float) -> bool:
    """Whether the machine was doing other work: the figures then measure the sharing."""
    return load > BUSY_LOAD


def build_results(
    medians: dict[tuple[str, int], dict],
    probes: dict[str, dict],
    loads: dict[int, dict] | None = None,
) -> list[dict]:
    """One row per endpoint and client count, with its ratio to its floor's rps. The vote
    counts clicks: a click that makes the page send more requests (`requests_per_click` in
    its probe) is served once every that many requests, and its queries are all of them.
    `loads`: the load average before and after each client level."""
    rows = []
    for (endpoint, clients), m in sorted(
        medians.items(), key=lambda item: (item[0][1], ORDER.index(item[0][0]))
    ):
        floor = medians.get((ENDPOINTS[endpoint][1], clients))
        per_click = probes[endpoint].get("requests_per_click", 1)
        rps = m["rps"] / per_click
        load = (loads or {}).get(clients, {})
        rows.append(
            {
                "endpoint": endpoint,
                "concurrency": clients,
                "rps": round(rps, 1),
                "p50_ms": round(m["p50_ms"] * per_click, 2),
                "p99_ms": round(m["p99_ms"] * per_click, 2),
                "queries": probes[endpoint]["queries"],
                "bytes": int(m["body_bytes"]) or probes[endpoint]["bytes"],
                "ratio_to_floor": (
                    round(rps / floor["rps"], 3) if floor and floor["rps"] else None
                ),
                "requests_per_click": per_click,
                "load_before": load.get("before"),
                "load_after": load.get("after"),
            }
        )
    return rows


def sweep_rows(medians: dict[int, dict]) -> list[dict]:
    """The club page at each size of the sweep, with its p50 against the smallest club's."""
    if not medians:
        return []
    smallest = medians[min(medians)]
    return [
        {
            "endpoint": "club_page",
            "papers": papers,
            "concurrency": SWEEP_CLIENTS,
            "rps": round(m["rps"], 1),
            "p50_ms": round(m["p50_ms"], 2),
            "p99_ms": round(m["p99_ms"], 2),
            "p50_vs_smallest": round(m["p50_ms"] / smallest["p50_ms"], 3)
            if smallest["p50_ms"]
            else None,
        }
        for papers, m in sorted(medians.items())
    ]


def format_sweep(rows: list[dict], *, markdown: bool = False) -> str:
    if not rows:
        return ""
    head = ["club page, papers", "clients", "req/s", "p50 ms", "p99 ms", "p50 vs smallest"]
    lines = [
        [
            f"{r['papers']:,}",
            str(r["concurrency"]),
            f"{r['rps']:,.1f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            "" if r["p50_vs_smallest"] is None else f"{r['p50_vs_smallest']:.2f}",
        ]
        for r in rows
    ]
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "|".join(["--:"] * len(head)) + "|"]
        return "\n".join(out + ["| " + " | ".join(line) + " |" for line in lines])
    return "\n".join("  ".join(cells) for cells in [head, *lines])


def _row(results: dict, endpoint: str, clients: int) -> dict | None:
    return results.get((endpoint, clients))


def _ratio_target(results, endpoint, clients, minimum):
    row = _row(results, endpoint, clients)
    if row is None or row["ratio_to_floor"] is None:
        return None, "not measured"
    return row["ratio_to_floor"] >= minimum, f"{row['ratio_to_floor']:.0%} of the floor"


def _p99_target(results, endpoint, clients, limit_ms):
    row = _row(results, endpoint, clients)
    if row is None:
        return None, "not measured"
    return row["p99_ms"] < limit_ms, f"p99 {row['p99_ms']:.1f} ms"


def _bytes_target(results, endpoint, limit):
    rows = [r for (e, _), r in results.items() if e == endpoint]
    if not rows:
        return None, "not measured"
    size = max(r["bytes"] for r in rows)
    return size < limit, f"{size:,} bytes"


def check_targets(rows: list[dict], lost_votes: int, *, load_start: float = 0.0) -> list[dict]:
    """Each target met or not; none is judged (met None, the figure flagged) when the
    machine was busy before the run started: the figures then measure the sharing."""
    by_key = {(r["endpoint"], r["concurrency"]): r for r in rows}
    checks = []
    for description, check in TARGETS:
        met, figure = check(by_key, lost_votes)
        if busy(load_start) and description != "lost votes: 0":
            met, figure = None, f"{figure} (machine busy: load {load_start:.2f} before the run)"
        checks.append({"target": description, "met": met, "measured": figure})
    return checks


def format_table(rows: list[dict], *, markdown: bool = False) -> str:
    headers = [
        "endpoint", "clients", "req/s", "p50 ms", "p99 ms", "queries", "bytes", "x floor", "load",
    ]  # fmt: skip
    lines = [
        [
            r["endpoint"],
            str(r["concurrency"]),
            f"{r['rps']:,.1f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
            str(r["queries"]),
            f"{r['bytes']:,}",
            "" if r["ratio_to_floor"] is None else f"{r['ratio_to_floor']:.2f}",
            "" if r.get("load_before") is None else f"{r['load_before']:.1f}",
        ]
        for r in rows
    ]
    if markdown:
        out = ["| " + " | ".join(headers) + " |", "|" + "|".join(["---"] + ["--:"] * 8) + "|"]
        out += ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max([len(h), *(len(line[i]) for line in lines)]) for i, h in enumerate(headers)]

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([fmt(headers), fmt(["-" * w for w in widths]), *map(fmt, lines)])


def format_targets(checks: list[dict], *, markdown: bool = False) -> str:
    marks = {True: "PASS", False: "FAIL", None: "n/a"}
    if markdown:
        out = ["| target | measured | |", "|---|---|---|"]
        out += [f"| {c['target']} | {c['measured']} | {marks[c['met']]} |" for c in checks]
        return "\n".join(out)
    return "\n".join(f"  {marks[c['met']]:4}  {c['target']}: {c['measured']}" for c in checks)


def vote_plan(
    members: list[tuple[int, int, str, str]],
    voted: set[tuple[int, int]],
    candidates: list[int],
    seed: int = 7,
) -> list[tuple[int, str, str, int, int]]:
    """The (membership, suggestion) pairs the vote load toggles, PAIRS_VOTED that start
    voted and PAIRS_UNVOTED that do not, per member: member index, session key, CSRF
    secret, membership id, suggestion id. Listed slot by slot, so that a connection's
    consecutive requests come from different members. With 20 votes each and a budget of
    30, toggling 5 more never reaches the budget: every vote is accepted."""
    rng = random.Random(seed)
    per_member = []
    for index, (_, membership, key, csrf) in enumerate(members):
        mine = [s for s in candidates if (membership, s) in voted]
        others = [s for s in candidates if (membership, s) not in voted]
        picked = rng.sample(mine, PAIRS_VOTED) + rng.sample(others, PAIRS_UNVOTED)
        rng.shuffle(picked)
        per_member.append([(index, key, csrf, membership, s) for s in picked])
    return [pairs[slot] for slot in range(PAIRS_VOTED + PAIRS_UNVOTED) for pairs in per_member]


def plan_lines(plan, voted: set[tuple[int, int]], clients: int) -> str:
    """The plan file for one run: each member's pairs go to connection (member index % clients)."""
    return "".join(
        f"{index % clients}\t{key}\t{csrf}\t{membership}\t{suggestion}\t"
        f"{int((membership, suggestion) in voted)}\n"
        for index, key, csrf, membership, suggestion in plan
    )


def read_members(path: Path) -> list[tuple[int, int, str, str]]:
    """The seed's members file: user id, membership id, session key, CSRF secret."""
    members = []
    for line in path.read_text().splitlines():
        user, membership, key, csrf = line.split("\t")
        members.append((int(user), int(membership), key, csrf))
    return members


def write_report(path: Path, table: str, targets: str, machine: str) -> bool:
    """Put the latest table between the markers in BENCHMARKS.md. False if there are none."""
    if not path.exists():
        return False
    text = path.read_text()
    block = f"<!-- bench:latest -->\n{machine}\n\n{table}\n\n{targets}\n<!-- /bench:latest -->"
    new, n = re.subn(r"<!-- bench:latest -->.*?<!-- /bench:latest -->", block, text, flags=re.S)
    if n:
        path.write_text(new)
    return bool(n)


# --- The run: database, server, load -------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def recreate_database(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name or name in ("paperclub", "test_paperclub"):
        sys.exit(f"Refusing to drop {name!r}: the benchmark's database needs 'bench' in its name.")
    admin = urlsplit(url)._replace(path="/postgres").geturl()
    try:
        conn = psycopg.connect(admin, autocommit=True)
    except psycopg.OperationalError as error:
        sys.exit(f"PostgreSQL is not reachable ({error}). Start it, or set BENCH_DB_URL.")
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def start_server(workers: int, threads: int) -> subprocess.Popen:
    """gunicorn on a cold cache: the Redis database of the bench's settings is emptied, so
    no page cached from an earlier seed is served."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.BENCH_REDIS_URL).flushdb()
    command = [
        sys.executable, "-m", "gunicorn", "paperclub.wsgi",
        "--bind", f"{HOST}:{PORT}",
        "--workers", str(workers),
        "--error-logfile", str(RUN_DIR / "gunicorn.log"),
        "--no-control-socket",  # gunicorn's default socket path is shared by all its servers
    ]  # fmt: skip
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    return subprocess.Popen(command, cwd=ROOT, start_new_session=True)


def wait_until_up(server: subprocess.Popen, member: tuple, paper_id: int) -> None:
    request = urllib.request.Request(
        f"http://{HOST}:{PORT}/bench/floor/select/?pk={paper_id}",
        headers={"Cookie": f"sessionid={member[2]}; csrftoken={member[3]}"},
    )
    for _ in range(100):
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped; see {RUN_DIR / 'gunicorn.log'}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200 and b"True" in response.read():
                    return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"gunicorn did not answer on {HOST}:{PORT}; see {RUN_DIR / 'gunicorn.log'}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def wrk(mode: str, clients: int, seconds: int, env: dict) -> dict:
    """One wrk run of `seconds` at `clients` connections (one per thread)."""
    run_env = {**os.environ, **env, "BENCH_MODE": mode, "BENCH_CONNECTIONS": str(clients)}
    command = [
        "wrk", "-t", str(clients), "-c", str(clients), "-d", f"{seconds}s",
        "--timeout", "10s", "-s", str(LUA), f"http://{HOST}:{PORT}/",
    ]  # fmt: skip
    finished = subprocess.run(
        command, env=run_env, capture_output=True, text=True, timeout=seconds + 60
    )
    if finished.returncode != 0:
        sys.exit(f"wrk failed ({finished.returncode}): {finished.stderr.strip()}")
    return parse_wrk_output(finished.stdout)


def wait_until_idle(member: tuple, paper_id: int) -> None:
    """Let the server finish what wrk left behind before the next run (or the vote count).

    When wrk stops, each connection may have a request in flight, which a worker still
    takes from the accept queue and serves. A request made now queues behind them all;
    once it is answered, wait until no other database session is busy either.
    """
    from django.db import connection

    request = urllib.request.Request(
        f"http://{HOST}:{PORT}/bench/floor/select/?pk={paper_id}",
        headers={"Cookie": f"sessionid={member[2]}; csrftoken={member[3]}"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()
    quiet, limit = 0, time.monotonic() + 30
    with connection.cursor() as cursor:
        while quiet < 3 and time.monotonic() < limit:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                "AND state IN ('active', 'idle in transaction')"
            )
            quiet = quiet + 1 if cursor.fetchone()[0] == 0 else 0
            time.sleep(0.05)


def machine_description(pg_version: str, workers: int, threads: int) -> dict:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = found.group(1) if found else cpu
    version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0]
    import django

    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True)
    code = head.stdout.strip() or "unknown"
    if dirty.stdout.strip():
        code += " with uncommitted changes"
    return {
        "code": code,
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "postgresql": pg_version,
        "python": platform.python_version(),
        "django": django.get_version(),
        "wrk": version.strip(),
        "gunicorn": f"{workers} {'gthread' if threads > 1 else 'sync'} workers"
        + (f" x {threads} threads" if threads > 1 else ""),
    }


def probe(
    members, plan, poll_id: int, candidates: list[int], paper_id: int, closed_polls: list[int]
) -> dict:
    """Queries and body bytes of one request to each endpoint, in this process through
    Django's test client (same settings, same database, same member's cookies as the load).
    Each request is made twice and the second one counted: the workers are warm too."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from papers.models import Vote

    _, membership, key, csrf = members[-1]  # a member, not one of the first organizers
    planned = {s for _, _, _, m, s in plan if m == membership}
    voted = set(
        Vote.objects.filter(poll_id=poll_id, membership_id=membership).values_list(
            "suggestion_id", flat=True
        )
    )
    spare = next(s for s in candidates if s not in planned and s not in voted)
    vote_url = f"/c/{SLUG}/polls/{poll_id}/vote/{spare}/"
    htmx = {
        "HTTP_X_CSRFTOKEN": csrf,
        "HTTP_ORIGIN": f"http://{HOST}:{PORT}",
        "HTTP_HX_REQUEST": "true",
        "HTTP_HX_CURRENT_URL": f"http://{HOST}:{PORT}/c/{SLUG}/",
        "HTTP_HX_TARGET": f"suggestion-{spare}",
    }
    requests = {
        "vote_toggle": ("post", vote_url, {"approve": "1"}, htmx),
        "club_page": ("get", f"/c/{SLUG}/", None, {}),
        "session_page": ("get", f"/c/{SLUG}/sessions/150/", None, {}),
        "timeline": ("get", f"/c/{SLUG}/sessions/", None, {}),
        "poll_page": ("get", f"/c/{SLUG}/polls/{closed_polls[0]}/", None, {}),
        "calendar": ("get", f"/c/{SLUG}/calendar.ics", None, {}),
        "floor_select": ("get", f"/bench/floor/select/?pk={paper_id}", None, {}),
        "floor_insert": ("post", "/bench/floor/insert/", {"approve": "1"}, htmx),
    }
    found = {}
    for endpoint, (method, path, data, extra) in requests.items():
        client = Client(enforce_csrf_checks=True, HTTP_HOST=f"{HOST}:{PORT}")
        if endpoint != "calendar":  # calendar apps carry no cookies
            client.cookies["sessionid"] = key
            client.cookies["csrftoken"] = csrf
        for _ in range(2):
            if endpoint == "vote_toggle":  # start from "not voted" each time
                client.post(vote_url, {"approve": "0"}, **htmx)
            with CaptureQueriesContext(connection) as queries:
                response = getattr(client, method)(path, data, **extra)
            # Read now: the next request through the client empties the query log.
            found[endpoint] = {"queries": len(queries), "bytes": len(response.content)}
            if response.status_code != 200:
                sys.exit(f"{endpoint}: {method.upper()} {path} answered {response.status_code}")
        if endpoint == "vote_toggle":
            # What the click makes the page send next: regions listening for its events.
            events = list(json.loads(response.headers.get("HX-Trigger") or "{}"))
            page = client.get(f"/c/{SLUG}/").content.decode()
            regions = follow_ups(page, events)
            for region in regions:
                with CaptureQueriesContext(connection) as queries:
                    client.get(f"/c/{SLUG}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET=region)
                found[endpoint]["queries"] += len(queries)
            found[endpoint]["follow_ups"] = regions
            found[endpoint]["requests_per_click"] = 1 + len(regions)
            client.post(vote_url, {"approve": "0"}, **htmx)  # leave it as it was
    return found


def size_sweep(url: str, sizes: list[int], options, members_file: Path) -> list[dict]:
    """The club page at 8 clients for clubs of each size: a fresh database seeded with that
    many papers, a fresh server, a warm-up and `options.runs` short runs each."""
    from django.db import connection

    from papers.models import Paper

    medians = {}
    for papers in sizes:
        log(f"size sweep: seeding a club with {papers:,} papers")
        connection.close()  # the database is dropped under it
        recreate_database(url)
        manage("migrate", "--noinput", "-v0")
        manage("seed_bench", "--members-file", str(members_file), "--papers", str(papers))
        members = read_members(members_file)
        paper_max = Paper.objects.order_by("-pk").values_list("pk", flat=True).first()
        env = {"BENCH_MEMBERS": str(members_file), "BENCH_SLUG": SLUG, "BENCH_PAPERS": "1"}
        server = start_server(options.workers, options.threads)
        try:
            wait_until_up(server, members[-1], paper_max)
            if options.warmup > 0:
                wrk("club_page", SWEEP_CLIENTS, options.warmup, env)
            runs = []
            for _ in range(options.runs):
                runs.append(run_stats(wrk("club_page", SWEEP_CLIENTS, options.sweep_seconds, env)))
                wait_until_idle(members[-1], paper_max)
                log(
                    f"club_page     papers={papers:<6} {runs[-1]['rps']:8.1f} req/s  "
                    f"p50 {runs[-1]['p50_ms']:7.1f} ms  p99 {runs[-1]['p99_ms']:7.1f} ms"
                )
        finally:
            stop_server(server)
        medians[papers] = median_of_runs(runs)
    return sweep_rows(medians)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,8,32", help="client counts (default 1,8,32)")
    parser.add_argument("--seconds", type=int, default=5, help="length of each run")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up before the first run")
    parser.add_argument("--runs", type=int, default=3, help="runs per endpoint and level")
    parser.add_argument(
        "--endpoints", default=",".join([*ORDER, "live_vote"]), help="live_vote: bench/live.py"
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument(
        "--reuse-db", action="store_true", help="keep the seeded database (same SECRET_KEY)"
    )
    parser.add_argument("--no-report", action="store_true", help="leave BENCHMARKS.md alone")
    parser.add_argument(
        "--sweep",
        default=",".join(map(str, SWEEP)),
        help="club sizes (papers) for the club page sweep; empty: no sweep",
    )
    parser.add_argument("--sweep-seconds", type=int, default=3, help="length of a sweep run")
    options = parser.parse_args()
    levels = [int(x) for x in options.levels.split(",")]
    endpoints = [e for e in ORDER if e in options.endpoints.split(",")]

    if os.environ.get("DJANGO_SETTINGS_MODULE") != "bench.settings":
        sys.exit("Run with DJANGO_SETTINGS_MODULE=bench.settings (make bench sets it).")
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (make bench installs it when run as root).")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database named paperclub_bench.")
    RUN_DIR.mkdir(exist_ok=True)
    members_file = RUN_DIR / "members.tsv"
    started = time.monotonic()

    if not (options.reuse_db and members_file.exists()):
        log("recreating the database, migrating, seeding, collecting static files")
        recreate_database(url)
        manage("migrate", "--noinput", "-v0")
        manage("seed_bench", "--members-file", str(members_file))
        manage("collectstatic", "--noinput", "-v0")

    import django

    django.setup()
    from django.db import connection

    from papers.models import Paper, Poll, Suggestion, Vote
    from sessions.models import Meeting

    members = read_members(members_file)
    poll = Poll.objects.get(club__slug=SLUG, closed_at__isnull=True)
    candidates = list(
        Suggestion.objects.filter(club__slug=SLUG, state="open")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    paper_max = Paper.objects.order_by("-pk").values_list("pk", flat=True).first()
    held = Meeting.objects.filter(club__slug=SLUG, state="held").count()
    closed_polls = list(
        Poll.objects.filter(club__slug=SLUG, closed_at__isnull=False).values_list("pk", flat=True)[
            :50
        ]
    )

    def votes_now() -> set[tuple[int, int]]:
        return set(Vote.objects.filter(poll=poll).values_list("membership_id", "suggestion_id"))

    plan = vote_plan(members, votes_now(), candidates)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    machine = machine_description(pg_version, options.workers, options.threads)
    log(f"machine: {machine}")
    # Other work on the machine skews every figure; the ratios to the floors less so.
    load_start = os.getloadavg()[0]

    server = start_server(options.workers, options.threads)
    try:
        wait_until_up(server, members[-1], paper_max)
        probes = probe(members, plan, poll.pk, candidates, paper_max, closed_polls)
        log("queries and bytes per request: " + json.dumps(probes))
        env = {
            "BENCH_MEMBERS": str(members_file),
            "BENCH_PLAN": str(RUN_DIR / "plan.tsv"),
            "BENCH_SLUG": SLUG,
            "BENCH_POLL": str(poll.pk),
            "BENCH_SESSIONS": str(held),
            # Closed polls' result pages, the newest first.
            "BENCH_CLOSED_POLLS": ",".join(map(str, closed_polls)),
            "BENCH_PAPERS": str(paper_max),
            # The requests a vote click makes the page send after it, sent by wrk too.
            "BENCH_FOLLOWUPS": ",".join(probes["vote_toggle"].get("follow_ups", [])),
        }
        runs: dict[tuple[str, int], list[dict]] = {}
        checks: list[dict] = []
        problems: list[str] = []

        def one_run(endpoint: str, clients: int, seconds: int, measured: bool) -> None:
            mode = ENDPOINTS[endpoint][0]
            if mode == "vote":
                voted = votes_now()
                (RUN_DIR / "plan.tsv").write_text(plan_lines(plan, voted, clients))
                run_plan = [
                    (index % clients, m, s, int((m, s) in voted)) for index, _, _, m, s in plan
                ]
            data = wrk(mode, clients, seconds, env)
            wait_until_idle(members[-1], paper_max)
            stats = run_stats(data)
            if mode == "vote":
                after = votes_now()
                check = vote_check(
                    data=data,
                    plan=run_plan,
                    db_after=after,
                    count_before=len(voted),
                    count_after=len(after),
                )
                checks.append({"clients": clients, "measured": measured, **check})
                if check["lost"]:
                    problems.append(f"vote_toggle at {clients}: {check}")
            if stats["not_ok"] or stats["socket_errors"]:
                problems.append(
                    f"{endpoint} at {clients}: not 2xx {stats['not_ok']} of "
                    f"{stats['responses']}, {stats['socket_errors']} socket errors"
                )
            label = "run" if measured else "warm-up"
            log(
                f"{endpoint:13} c={clients:<3} {label:7} {stats['rps']:8.1f} req/s  "
                f"p50 {stats['p50_ms']:7.1f} ms  p99 {stats['p99_ms']:7.1f} ms"
            )
            if measured:
                runs.setdefault((endpoint, clients), []).append(stats)

        loads: dict[int, dict] = {}
        for clients in levels:
            loads[clients] = {"before": round(os.getloadavg()[0], 2)}
            for round_ in range(options.runs):
                for endpoint in endpoints:
                    if round_ == 0 and options.warmup > 0:
                        one_run(endpoint, clients, options.warmup, measured=False)
                    one_run(endpoint, clients, options.seconds, measured=True)
            loads[clients]["after"] = round(os.getloadavg()[0], 2)
            log(f"load average {loads[clients]['before']:.2f} before c={clients}, "
                f"{loads[clients]['after']:.2f} after")  # fmt: skip
    finally:
        stop_server(server)
    live_entry = None
    if "live_vote" in options.endpoints.split(","):  # after the rest: it closes their poll
        from bench import live

        live_entry = live.run(
            members=members, slug=SLUG, workers=options.workers, run_dir=RUN_DIR, log=log
        )
        if live_entry["lost_votes"]:
            problems.append(f"live_vote: {live_entry['lost_votes']} lost votes")

    sizes = [int(x) for x in options.sweep.split(",") if x.strip()]
    sweep = size_sweep(url, sizes, options, members_file) if sizes else []

    machine["load_average"] = {"start": load_start, "end": os.getloadavg()[0]}
    machine["busy"] = busy(load_start)
    medians = {key: median_of_runs(value) for key, value in runs.items()}
    rows = build_results(medians, probes, loads)
    lost_votes = sum(c["lost"] for c in checks)
    targets = check_targets(rows, lost_votes, load_start=load_start)
    if sweep:
        flat = flat_target(sweep)
        if busy(load_start):
            flat.update(
                met=None, measured=f"{flat['measured']} (machine busy: load {load_start:.2f})"
            )
        targets.append(flat)
    config = {
        "levels": levels,
        "seconds": options.seconds,
        "warmup": options.warmup,
        "runs": options.runs,
    }
    # A partial run (other levels or endpoints) leaves the complete run's results alone.
    complete = levels == [1, 8, 32] and endpoints == ORDER
    results_path = RESULTS if complete else RUN_DIR / "results-partial.json"
    results_path.write_text(
        json.dumps(
            {
                "results": rows,
                "size_sweep": sweep,
                "lost_votes": lost_votes,
                "targets": targets,
                "vote_checks": checks,
                "machine": machine,
                "config": config,
                "runs": {f"{e}@{c}": v for (e, c), v in runs.items()},
            },
            indent=2,
        )
        + "\n"
    )
    print()
    print(format_table(rows))
    print()
    if sweep:
        print(format_sweep(sweep))
        print()
    print(f"lost votes: {lost_votes} (acknowledged votes the database does not show)")
    print(format_targets(targets))
    if live_entry is not None:
        live.record(live_entry, RESULTS)
        log(f"live_vote: {json.dumps(live_entry)} (in {RESULTS.relative_to(ROOT)})")
    described = (
        f"Code: {machine['code']}. "
        f"Machine: {machine['cpus']} CPUs ({machine['cpu']}), PostgreSQL {machine['postgresql']}, "
        f"Python {machine['python']}, Django {machine['django']}, {machine['wrk']}, "
        f"gunicorn {machine['gunicorn']}; load average {load_start:.1f} at the start, "
        f"{machine['load_average']['end']:.1f} at the end. Runs of {options.seconds:g} s after a "
        f"{options.warmup:g} s warm-up, median of {options.runs}; "
        f"lost votes: {lost_votes}. Written {time.strftime('%Y-%m-%d')}."
    )
    if busy(load_start):
        print(
            f"\nThe machine was busy before the run (load average {load_start:.2f} > "
            f"{BUSY_LOAD}): no target is judged, and {REPORT.name} is left alone."
        )
    elif complete and not options.no_report:
        table = format_table(rows, markdown=True)
        if sweep:
            table += "\n\n" + format_sweep(sweep, markdown=True)
        if write_report(REPORT, table, format_targets(targets, markdown=True), described):
            log(f"updated the table in {REPORT.name}")
    log(f"wrote {results_path.relative_to(ROOT)} in {time.monotonic() - started:.0f} s")
    if problems:
        print("\nPROBLEMS:\n  " + "\n  ".join(problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
