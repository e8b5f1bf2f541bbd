"""The live vote load test's accounting (bench/live.py), without a server."""

from bench.live import fragment_counts, percentile, vote_to_screen


def test_fragment_counts_reads_each_candidate():
    body = b'<li data-suggestion="7" data-count="2"></li><li data-suggestion="9" data-count="0">'
    assert fragment_counts(body) == {7: 2, 9: 0}


def test_vote_shows_at_the_first_fetch_after_it_with_the_count():
    votes = [(10.0, 7)]
    fetches = {0: [(9.9, {7: 1}), (10.4, {7: 0}), (11.2, {7: 1})], 1: [(10.1, {7: 1})]}
    delays, unseen = vote_to_screen(votes, fetches)
    assert [round(d, 3) for d in sorted(delays)] == [0.1, 1.2]
    assert unseen == 0


def test_second_vote_for_a_paper_needs_the_second_count():
    votes = [(10.0, 7), (10.5, 7)]
    fetches = {0: [(10.6, {7: 1}), (11.0, {7: 2})]}
    delays, unseen = vote_to_screen(votes, fetches)
    assert [round(d, 3) for d in delays] == [0.6, 0.5]
    assert unseen == 0


def test_a_vote_never_shown_is_counted_unseen():
    delays, unseen = vote_to_screen([(10.0, 7)], {0: [(11.0, {7: 0})]})
    assert (delays, unseen) == ([], 1)


def test_percentile_nearest_rank():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([], 99) == 0.0
