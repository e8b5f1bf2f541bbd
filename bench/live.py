"""The live vote under load (BENCHMARKS.md, "The live vote"), the `live_vote` part of
`make bench`: 200 watchers poll the live poll's fragment every second, as the shared
screen and the ballots do, while 30 voters vote within one minute.

It serves the app with gunicorn as the rest of the bench does, on its own port and with
the shared cache in Redis (`BENCH_REDIS_URL`, a database of its own, emptied first): the
fragment's state version lives there, as in production, so every worker sees every vote.

Measured:
- vote to screen: for each acknowledged vote and each watcher, the time from the vote's
  answer to the first fragment that watcher received afterwards showing the paper's count
  at least as high as the votes for it acknowledged so far (p50, p99);
- the server's requests per second, and the CPU its gunicorn processes used (from /proc);
- lost votes: acknowledged votes the database does not hold.

The pure functions (parsing a fragment, the latency accounting) are tested in
tests/test_bench_live.py; `run()` is called by bench/run.py with Django set up.
"""

import asyncio
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

WATCHERS, VOTERS, VOTES_EACH, VOTING_SECONDS = 200, 30, 3, 60
POLL_PERIOD = 1.0  # hx-trigger="every 1s"
PORT = 8902
COUNT = re.compile(rb'data-suggestion="(\d+)" data-count="(\d+)"')


# --- Pure functions -------------------------------------------------------------------------


def fragment_counts(body: bytes) -> dict[int, int]:
    """Each candidate's count as the fragment shows it."""
    return {int(s): int(n) for s, n in COUNT.findall(body)}


def percentile(values: list[float], p: float) -> float:
    """Nearest rank, as bench/run.py's."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def vote_to_screen(
    votes: list[tuple[float, int]], fetches: dict[int, list[tuple[float, dict[int, int]]]]
) -> tuple[list[float], int]:
    """Delays (seconds) from each acknowledged vote (answer time, paper) to its showing in
    each watcher's fetches (answer time, counts), and how many (vote, watcher) pairs never
    saw it. A vote shows once the paper's count reaches the votes for it acknowledged up
    to and including that one (votes are only added during the run)."""
    delays, unseen = [], 0
    acked: dict[int, int] = {}
    needed = []
    for at, paper in sorted(votes):
        acked[paper] = acked.get(paper, 0) + 1
        needed.append((at, paper, acked[paper]))
    for seen in fetches.values():
        seen = sorted(seen, key=lambda f: f[0])
        for at, paper, count in needed:
            delay = next((t - at for t, c in seen if t >= at and c.get(paper, 0) >= count), None)
            if delay is None:
                unseen += 1
            else:
                delays.append(delay)
    return delays, unseen


# --- The load ------------------------------------------------------------------------------


async def _request(raw: bytes) -> tuple[float, int, bytes]:
    """One HTTP/1.1 exchange on a new connection (sync workers close each one)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(raw)
    await writer.drain()
    data = await reader.read(-1)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return time.monotonic(), status, body


def _get(path: str, member: tuple) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nConnection: close\r\n"
        f"HX-Request: true\r\nCookie: sessionid={member[2]}; csrftoken={member[3]}\r\n\r\n"
    ).encode()


def _post(path: str, member: tuple, body: str, current: str) -> bytes:
    origin = f"http://127.0.0.1:{PORT}"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nConnection: close\r\n"
        f"Cookie: sessionid={member[2]}; csrftoken={member[3]}\r\nX-CSRFToken: {member[3]}\r\n"
        f"Origin: {origin}\r\nHX-Request: true\r\nHX-Current-URL: {origin}{current}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


async def _load(plan: dict) -> dict:
    start = time.monotonic() + 1.0
    end = start + VOTING_SECONDS + 3.0  # the last votes' showing, after the minute
    fetches: dict[int, list[tuple[float, dict[int, int]]]] = {}
    timings: list[float] = []
    statuses: dict[int, int] = {}
    votes: list[tuple[float, int]] = []

    async def watcher(index: int, member: tuple, path: str) -> None:
        seen = fetches.setdefault(index, [])
        await asyncio.sleep(start - time.monotonic() + random.random() * POLL_PERIOD)
        while time.monotonic() < end:
            sent = time.monotonic()
            try:
                received, status, body = await _request(_get(path, member))
            except OSError:
                received, status, body = time.monotonic(), 0, b""
            statuses[status] = statuses.get(status, 0) + 1
            timings.append(received - sent)
            if status == 200:
                seen.append((received, fragment_counts(body)))
            await asyncio.sleep(max(0.0, sent + POLL_PERIOD - time.monotonic()))

    async def voter(member: tuple, moments: list[float], papers: list[int]) -> None:
        for moment, paper in zip(moments, papers, strict=True):
            await asyncio.sleep(max(0.0, start + moment - time.monotonic()))
            path = plan["vote_path"].format(paper=paper)
            try:
                received, status, _ = await _request(
                    _post(path, member, "approve=1", plan["ballot_path"])
                )
            except OSError:
                received, status = time.monotonic(), 0
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                votes.append((received, paper))
                plan["acked"].append((member[1], paper))

    rng = random.Random(16)
    tasks = []
    for i, member in enumerate(plan["watchers"]):
        variant = "screen" if i == 0 else "ballot"  # one shared screen, the rest ballots
        tasks.append(watcher(i, member, f"{plan['state_path']}?for={variant}"))
    for member in plan["voters"]:
        moments = sorted(rng.uniform(0, VOTING_SECONDS) for _ in range(VOTES_EACH))
        tasks.append(voter(member, moments, rng.sample(plan["shortlist"], VOTES_EACH)))
    cpu_before = time.process_time()
    await asyncio.gather(*tasks)
    return {
        "fetches": fetches,
        "votes": votes,
        "timings": timings,
        "statuses": statuses,
        "seconds": time.monotonic() - start,
        "generator_cpu_s": time.process_time() - cpu_before,
    }


# --- The server ----------------------------------------------------------------------------


def _cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of the processes, from /proc/<pid>/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _server_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [master, *(int(p) for p in children.read_text().split())] if children.exists() else []


def _postgres_cpu() -> float:
    pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    mine = []
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "postgres":
                mine.append(pid)
        except OSError:
            pass
    return _cpu_seconds(mine)


def run(*, members: list[tuple], slug: str, workers: int, run_dir: Path, log) -> dict:
    """Open a live poll in the bench club, serve, load, and return the results.json entry."""
    import redis
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from clubs.models import Club
    from papers import live, polls
    from papers.models import Poll, Vote

    redis.Redis.from_url(settings.BENCH_REDIS_URL).flushdb()  # the bench's own database number
    club = Club.objects.get(slug=slug)
    organizer = club.memberships.filter(role="organizer").select_related("user").first().user
    current = Poll.objects.filter(club=club).unclosed().first()
    if current is not None:  # the week-long poll the rest of the bench voted in
        polls.close_poll(poll=current, closed_by=organizer)
    shortlist = live.default_shortlist(club)
    poll = live.open_live_poll(club=club, opened_by=organizer, shortlist=shortlist, minutes=5)
    plan = {
        "watchers": members[:WATCHERS],
        "voters": members[WATCHERS : WATCHERS + VOTERS],
        "shortlist": shortlist,
        "state_path": f"/c/{slug}/polls/{poll.pk}/live/state/",
        "ballot_path": f"/v/{poll.live_code}/",
        "vote_path": f"/c/{slug}/polls/{poll.pk}/ballot/{{paper}}/",
        "acked": [],
    }
    command = [
        sys.executable, "-m", "gunicorn", "paperclub.wsgi",
        "--bind", f"127.0.0.1:{PORT}", "--workers", str(workers),
        "--error-logfile", str(run_dir / "gunicorn-live.log"), "--no-control-socket",
    ]  # fmt: skip
    server = subprocess.Popen(command, start_new_session=True)
    try:
        for _ in range(100):
            try:
                asyncio.run(_request(_get(plan["state_path"], members[0])))
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1.0)  # every worker booted
        load_start = os.getloadavg()
        cpu_before, pg_before = _cpu_seconds(_server_pids(server.pid)), _postgres_cpu()
        log(f"live_vote: {WATCHERS} watchers, {VOTERS} voters, {VOTING_SECONDS} s")
        data = asyncio.run(_load(plan))
        cpu_used = _cpu_seconds(_server_pids(server.pid)) - cpu_before
        pg_used = _postgres_cpu() - pg_before
        load_end = os.getloadavg()
        # The countdown at zero: the next fragment read closes the poll, with no job.
        type(poll).objects.filter(pk=poll.pk).update(closes_at=timezone.now())
        # The cached fragments hold the closing time just moved: a new state version, in
        # the cache the server shares with this process (bench.settings).
        live.bump_state(poll.pk)
        _, status, body = asyncio.run(_request(_get(plan["state_path"], members[0])))
        closed_by_read = status == 200 and b"The vote is closed" in body
    finally:
        server.terminate()
        server.wait(timeout=20)
    connection.close()
    held = set(Vote.objects.filter(poll=poll).values_list("membership_id", "suggestion_id"))
    lost = sum(1 for pair in plan["acked"] if pair not in held)
    delays, unseen = vote_to_screen(data["votes"], data["fetches"])
    requests = sum(data["statuses"].values())
    entry = {
        "endpoint": "live_vote",
        "watchers": WATCHERS,
        "voters": VOTERS,
        "vote_to_screen_p50_ms": round(percentile(delays, 50) * 1000, 1),
        "vote_to_screen_p99_ms": round(percentile(delays, 99) * 1000, 1),
        "rps": round(requests / data["seconds"], 1),
        "lost_votes": lost,
        "votes_acknowledged": len(data["votes"]),
        "vote_screen_pairs_unseen": unseen,
        "fragment_p50_ms": round(percentile(data["timings"], 50) * 1000, 1),
        "fragment_p99_ms": round(percentile(data["timings"], 99) * 1000, 1),
        "statuses": {str(k): v for k, v in sorted(data["statuses"].items())},
        "server_cpu_cores": round(cpu_used / data["seconds"], 2),
        "postgres_cpu_cores": round(pg_used / data["seconds"], 2),
        "generator_cpu_cores": round(data["generator_cpu_s"] / data["seconds"], 2),
        "workers": workers,
        "seconds": round(data["seconds"], 1),
        "closed_at_zero_by_a_read": closed_by_read,
        "load_average": {"start": round(load_start[0], 2), "end": round(load_end[0], 2)},
    }
    log("live_vote: " + json.dumps(entry))
    return entry


def record(entry: dict, results: Path) -> None:
    """Put the entry in results.json, in place of an earlier live_vote entry."""
    data = json.loads(results.read_text()) if results.exists() else {"results": []}
    rows = [row for row in data.get("results", []) if row.get("endpoint") != "live_vote"]
    data["results"] = [*rows, entry]
    results.write_text(json.dumps(data, indent=2) + "\n")
