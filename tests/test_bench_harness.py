"""The benchmark harness (bench/, `make bench`): its floor views stay out of production,
and the arithmetic of bench/run.py is right on canned wrk output (no wrk, no server)."""

import json

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve

from bench import run

WRK_STDOUT = """Running 5s test @ http://127.0.0.1:8901/
  2 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.10ms    1.02ms  12.00ms   90.00%
  4 requests in 5.00s, 2.00KB read
Requests/sec:      0.80
Transfer/sec:    409.60B
BENCH_JSON {"summary":{"duration_us":5000000,"requests":4,"bytes":2048,"errors":{"connect":0,\
"read":0,"write":0,"status":1,"timeout":0},"wrk_p50_us":3000,"wrk_p99_us":12000},"threads":[\
{"thread":0,"responses":3,"ok":3,"body_bytes":4500,"adds":2,"removes":1,"refused":0,\
"other_statuses":"","first_us":1000000,"last_us":2000000,"in_flight":"","states":"101",\
"latencies_us":[2000,4000,3000]},\
{"thread":1,"responses":1,"ok":0,"body_bytes":0,"adds":0,"removes":0,"refused":1,\
"other_statuses":"","first_us":1500000,"last_us":3000000,"in_flight":"12:7","states":"01",\
"latencies_us":[12000]}]}
"""

# (connection, membership, suggestion, state before the run), in the plan file's order.
PLAN = [(0, 10, 5, 0), (0, 11, 5, 1), (0, 10, 6, 0), (1, 12, 6, 0), (1, 12, 7, 1)]


@pytest.mark.parametrize("path", ["/bench/floor/select/", "/bench/floor/insert/"])
def test_floor_views_not_mounted_in_production(path):
    with pytest.raises(Resolver404):
        resolve(path)


def test_bench_app_not_installed_in_production():
    assert "bench" not in settings.INSTALLED_APPS
    assert settings.ROOT_URLCONF == "paperclub.urls"


def test_parse_wrk_output_reads_done_json():
    data = run.parse_wrk_output(WRK_STDOUT)

    assert data["summary"]["requests"] == 4
    assert [t["thread"] for t in data["threads"]] == [0, 1]
    assert data["threads"][1]["in_flight"] == "12:7"


def test_parse_wrk_output_without_json_fails():
    with pytest.raises(ValueError, match="BENCH_JSON"):
        run.parse_wrk_output("Running 5s test @ http://127.0.0.1:8901/\n")


def test_parse_wrk_output_empty_latencies_become_a_list():
    stdout = "BENCH_JSON " + json.dumps(
        {"summary": {}, "threads": [{"thread": 0, "responses": 0, "latencies_us": {}}]}
    )

    assert run.parse_wrk_output(stdout)["threads"][0]["latencies_us"] == []


def test_run_stats_rps_and_percentiles():
    stats = run.run_stats(run.parse_wrk_output(WRK_STDOUT))

    # 4 responses from the first request sent (1.0 s) to the last response read (3.0 s).
    assert stats["rps"] == 2.0
    assert stats["p50_ms"] == 3.0  # nearest rank: 2nd of 2, 3, 4, 12 ms
    assert stats["p99_ms"] == 12.0
    assert stats["ok"] == 3
    assert stats["not_ok"] == {"409": 1}
    assert stats["body_bytes"] == 1500


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))

    assert run.percentile(values, 50) == 50
    assert run.percentile(values, 99) == 99
    assert run.percentile([7], 99) == 7
    assert run.percentile([], 50) == 0.0


def test_vote_check_no_loss_when_the_database_shows_every_acknowledged_vote():
    # Thread 0 ends with (10,5) and (10,6) voted, (11,5) not; (12,7) is in doubt.
    db_after = {(10, 5), (10, 6), (12, 7)}

    check = run.vote_check(
        data=run.parse_wrk_output(WRK_STDOUT),
        plan=PLAN,
        db_after=db_after,
        count_before=2,
        count_after=3,
    )

    assert check["lost"] == 0
    assert check["acked_adds"] == 2
    assert check["acked_removes"] == 1
    assert check["in_doubt"] == 1
    assert check["pairs_checked"] == 4


def test_vote_check_accepts_an_unanswered_request_that_took_effect():
    # The request in flight when wrk stopped (un-voting 12:7) was served after all.
    db_after = {(10, 5), (10, 6)}

    check = run.vote_check(
        data=run.parse_wrk_output(WRK_STDOUT),
        plan=PLAN,
        db_after=db_after,
        count_before=2,
        count_after=2,
    )

    assert check["lost"] == 0
    assert check["in_doubt_applied"] == -1


def test_vote_check_counts_an_acknowledged_vote_missing_from_the_database():
    db_after = {(10, 5), (12, 7)}  # (10, 6) was acknowledged but is not there

    check = run.vote_check(
        data=run.parse_wrk_output(WRK_STDOUT),
        plan=PLAN,
        db_after=db_after,
        count_before=2,
        count_after=2,
    )

    assert check["lost"] == 1
    assert check["pairs_mismatched"] == ["10:6"]


def test_vote_check_counts_a_take_back_that_did_not_stick():
    db_after = {(10, 5), (10, 6), (11, 5), (12, 7)}  # (11, 5) was taken back

    check = run.vote_check(
        data=run.parse_wrk_output(WRK_STDOUT),
        plan=PLAN,
        db_after=db_after,
        count_before=2,
        count_after=4,
    )

    assert check["lost"] == 1
    assert check["pairs_mismatched"] == ["11:5"]


def test_plan_lines_give_each_member_one_connection():
    plan = [(0, "k0", "c0", 10, 5), (1, "k1", "c1", 11, 5), (2, "k2", "c2", 12, 5)]

    lines = run.plan_lines(plan, voted={(11, 5)}, clients=2)

    assert lines == "0\tk0\tc0\t10\t5\t0\n1\tk1\tc1\t11\t5\t1\n0\tk2\tc2\t12\t5\t0\n"


def test_build_results_ratio_to_floor():
    medians = {
        ("floor_insert", 8): {"rps": 400.0, "p50_ms": 20.0, "p99_ms": 40.0, "body_bytes": 9},
        ("vote_toggle", 8): {"rps": 100.0, "p50_ms": 80.0, "p99_ms": 120.0, "body_bytes": 1500},
    }
    probes = {
        "floor_insert": {"queries": 3, "bytes": 9},
        "vote_toggle": {"queries": 19, "bytes": 1},
    }

    rows = run.build_results(medians, probes)

    assert [r["endpoint"] for r in rows] == ["floor_insert", "vote_toggle"]
    assert rows[1] == {
        "endpoint": "vote_toggle",
        "concurrency": 8,
        "rps": 100.0,
        "p50_ms": 80.0,
        "p99_ms": 120.0,
        "queries": 19,
        "bytes": 1500,
        "ratio_to_floor": 0.25,
        "requests_per_click": 1,
        "load_before": None,
        "load_after": None,
    }


def test_build_results_count_a_click_and_the_requests_it_triggers():
    medians = {
        ("floor_insert", 8): {"rps": 400.0, "p50_ms": 20.0, "p99_ms": 40.0, "body_bytes": 9},
        ("vote_toggle", 8): {"rps": 200.0, "p50_ms": 10.0, "p99_ms": 30.0, "body_bytes": 1500},
    }
    probes = {
        "floor_insert": {"queries": 3, "bytes": 9},
        "vote_toggle": {"queries": 12, "bytes": 1, "requests_per_click": 2},
    }

    vote = run.build_results(medians, probes, {8: {"before": 0.2, "after": 1.9}})[1]

    assert (vote["rps"], vote["ratio_to_floor"], vote["p50_ms"]) == (100.0, 0.25, 20.0)
    assert (vote["load_before"], vote["load_after"]) == (0.2, 1.9)


def test_follow_ups_are_the_regions_listening_for_the_clicks_events():
    page = (
        '<p id="ballot-status" hx-get="/c/x/" hx-trigger="voteCast from:body, rankingChanged '
        'from:body" hx-target="this">'
        '<ol id="suggestions" hx-get="/c/x/" hx-trigger="suggestionAdded from:body">'
        '<li id="more" hx-get="/c/x/?page=2" hx-trigger="revealed">'
    )

    assert run.follow_ups(page, ["voteCast"]) == ["ballot-status"]
    assert run.follow_ups(page, ["rankingChanged"]) == ["ballot-status"]
    assert run.follow_ups(page, []) == []


def test_the_club_page_makes_no_request_after_a_vote():
    from pathlib import Path

    page = (Path(run.ROOT) / "templates" / "clubs" / "club_detail.html").read_text()

    assert run.follow_ups(page, ["voteCast"]) == []


def test_targets_are_not_judged_when_the_machine_was_busy_before_the_run():
    rows = [{"endpoint": "vote_toggle", "concurrency": 8, "ratio_to_floor": 0.9,
             "p99_ms": 10.0, "bytes": 100}]  # fmt: skip

    checks = run.check_targets(rows, lost_votes=0, load_start=2.5)

    vote = next(c for c in checks if c["target"] == "8 clients: vote toggle p99 < 100 ms")
    assert vote["met"] is None
    assert "machine busy: load 2.50" in vote["measured"]
    assert next(c for c in checks if c["target"] == "lost votes: 0")["met"] is True


def test_size_sweep_compares_each_club_with_the_smallest():
    medians = {
        200: {"rps": 100.0, "p50_ms": 40.0, "p99_ms": 80.0},
        20000: {"rps": 90.0, "p50_ms": 46.0, "p99_ms": 90.0},
    }

    rows = run.sweep_rows(medians)

    assert [(r["papers"], r["p50_vs_smallest"]) for r in rows] == [(200, 1.0), (20000, 1.15)]
    assert run.flat_target(rows)["met"] is False
    assert run.flat_target(rows[:1])["met"] is None


def test_targets_report_pass_and_fail():
    common = {"concurrency": 8, "ratio_to_floor": 0.5}
    rows = [
        {"endpoint": "vote_toggle", "p99_ms": 90.0, "bytes": 1500, **common},
        {"endpoint": "club_page", "p99_ms": 200.0, "bytes": 300000, **common},
    ]

    checks = {c["target"]: c["met"] for c in run.check_targets(rows, lost_votes=0)}

    assert checks["8 clients: vote toggle p99 < 100 ms"] is True
    assert checks["8 clients: club page p99 < 150 ms"] is False
    assert checks["htmx vote response < 2 KB"] is True
    assert checks["lost votes: 0"] is True
    assert checks["32 clients: vote toggle >= 60% of the INSERT floor's rps"] is None
