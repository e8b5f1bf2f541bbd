"""Ranked-ballot counting, checked against published elections and by property."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papers.ranked import METHODS, Round, instant_runoff, schulze

RULE = (
    "the paper that stood in fewer earlier polls goes through; if still tied, "
    "the one suggested first"
)


def cast(*groups: tuple[int, str]) -> list[list[str]]:
    """Ballots from (how many, "ACB") pairs, one letter or word per candidate."""
    return [list(order) for count, order in groups for _ in range(count)]


def table(pairs: dict, candidates) -> list[list[int | None]]:
    """A pairwise dict as rows, None on the diagonal, as the Wikipedia article prints it."""
    return [[pairs.get((a, b)) for b in candidates] for a in candidates]


# Wikipedia, "Schulze method", the example with 45 voters and 5 candidates.
WIKIPEDIA = cast(
    (5, "ACBED"),
    (5, "ADECB"),
    (8, "BEDAC"),
    (3, "CABED"),
    (7, "CAEBD"),
    (2, "CBADE"),
    (7, "DCEBA"),
    (8, "EBADC"),
)


def test_schulze_wikipedia_example_elects_e():
    result = schulze("ABCDE", WIKIPEDIA, tie_order="ABCDE")

    assert result.winner == "E"
    assert result.ranking == ("E", "A", "C", "B", "D")
    assert result.ballots == 45
    assert result.tie_break == ""
    assert result.rounds == ()


def test_schulze_wikipedia_example_pairwise_preferences():
    result = schulze("ABCDE", WIKIPEDIA, tie_order="ABCDE")

    assert table(result.pairwise, "ABCDE") == [
        [None, 20, 26, 30, 22],
        [25, None, 16, 33, 18],
        [19, 29, None, 17, 24],
        [15, 12, 28, None, 14],
        [23, 27, 21, 31, None],
    ]


def test_schulze_wikipedia_example_strongest_paths():
    result = schulze("ABCDE", WIKIPEDIA, tie_order="ABCDE")

    assert table(result.strongest, "ABCDE") == [
        [None, 28, 28, 30, 24],
        [25, None, 28, 33, 24],
        [25, 29, None, 29, 24],
        [25, 28, 28, None, 24],
        [25, 28, 28, 31, None],
    ]


# Wikipedia's Tennessee capital election: each city's voters prefer the cities nearest them.
TENNESSEE = [
    *[["Memphis", "Nashville", "Chattanooga", "Knoxville"]] * 42,
    *[["Nashville", "Chattanooga", "Knoxville", "Memphis"]] * 26,
    *[["Chattanooga", "Knoxville", "Nashville", "Memphis"]] * 15,
    *[["Knoxville", "Chattanooga", "Nashville", "Memphis"]] * 17,
]
CITIES = ["Memphis", "Nashville", "Chattanooga", "Knoxville"]


def test_irv_tennessee_elects_knoxville_in_three_rounds():
    result = instant_runoff(CITIES, TENNESSEE, tie_order=CITIES)

    assert result.winner == "Knoxville"
    assert result.ranking == ("Knoxville", "Memphis", "Nashville", "Chattanooga")
    assert result.rounds == (
        Round(
            1,
            {"Memphis": 42, "Nashville": 26, "Knoxville": 17, "Chattanooga": 15},
            0,
            "Chattanooga",
            None,
            "No majority; “Chattanooga” has the fewest votes (15) and is eliminated.",
        ),
        Round(
            2,
            {"Memphis": 42, "Knoxville": 32, "Nashville": 26},
            0,
            "Nashville",
            None,
            "No majority; “Nashville” has the fewest votes (26) and is eliminated.",
        ),
        Round(
            3,
            {"Knoxville": 58, "Memphis": 42},
            0,
            None,
            "Knoxville",
            "“Knoxville” has 58 of 100 votes, a majority.",
        ),
    )
    assert result.tie_break == ""
    assert result.strongest == {}


def test_irv_round_counts_list_the_most_votes_first():
    result = instant_runoff(CITIES, TENNESSEE, tie_order=CITIES)

    assert list(result.rounds[0].counts) == ["Memphis", "Nashville", "Knoxville", "Chattanooga"]


def test_schulze_tennessee_elects_the_condorcet_winner_nashville():
    result = schulze(CITIES, TENNESSEE, tie_order=CITIES)

    assert result.winner == "Nashville"
    assert result.ranking == ("Nashville", "Chattanooga", "Knoxville", "Memphis")
    assert result.pairwise[("Nashville", "Memphis")] == 58
    assert result.pairwise[("Nashville", "Chattanooga")] == 68
    assert result.pairwise[("Nashville", "Knoxville")] == 68


def test_irv_fills_in_the_pairwise_counts_too():
    result = instant_runoff(CITIES, TENNESSEE, tie_order=CITIES)

    assert result.pairwise == schulze(CITIES, TENNESSEE, tie_order=CITIES).pairwise


# A majority cycle: A beats B 67-33, B beats C 68-32, C beats A 65-35.
CYCLE = cast((35, "ABC"), (33, "BCA"), (32, "CAB"))


def test_schulze_cycle_is_broken_at_its_weakest_link():
    result = schulze("ABC", CYCLE, tie_order="CBA")

    assert table(result.pairwise, "ABC") == [
        [None, 67, 35],
        [33, None, 68],
        [65, 32, None],
    ]
    assert table(result.strongest, "ABC") == [
        [None, 67, 67],
        [65, None, 68],
        [65, 65, None],
    ]
    assert result.winner == "A"
    assert result.ranking == ("A", "B", "C")
    assert result.tie_break == ""


def test_irv_counts_a_majority_of_the_ballots_still_in_play():
    ballots = cast((4, "A"), (3, "B"), (2, "CB"), (2, "D"))

    result = instant_runoff("ABCD", ballots, tie_order="ABDC")

    assert [(r.counts, r.exhausted, r.eliminated, r.elected) for r in result.rounds] == [
        ({"A": 4, "B": 3, "D": 2, "C": 2}, 0, "C", None),
        ({"B": 5, "A": 4, "D": 2}, 0, "D", None),
        ({"B": 5, "A": 4}, 2, None, "B"),
    ]
    assert result.rounds[-1].note == "“B” has 5 of 9 votes, a majority."
    assert result.winner == "B"
    assert result.ballots == 11


def test_irv_tie_for_fewest_eliminates_the_last_in_tie_order():
    names = {1: "Attention", 2: "BERT", 3: "CLIP", 4: "DPO"}
    ballots = [[1]] * 4 + [[2]] * 3 + [[3, 2]] * 2 + [[4]] * 2

    result = instant_runoff(
        [1, 2, 3, 4], ballots, tie_order=[1, 2, 3, 4], names=names, tie_rule=RULE
    )

    assert result.rounds[0].eliminated == 4
    assert result.rounds[0].note == (
        "No majority; “CLIP” and “DPO” tie for fewest with 2 votes; "
        f"“DPO” is eliminated by the tie-break ({RULE})."
    )
    assert result.tie_break == (
        "In round 1, “CLIP” and “DPO” tied for fewest with 2 votes; "
        f"“DPO” was eliminated by the tie-break ({RULE})."
    )


def test_irv_tie_break_without_a_rule_names_the_order():
    result = instant_runoff("AB", cast((1, "A"), (1, "B")), tie_order="BA")

    assert result.tie_break == (
        "In round 1, “B” and “A” tied with 1 vote each; “B” won by the tie-break order."
    )


def test_irv_final_two_tied_elects_the_first_in_tie_order():
    ballots = cast((2, "AC"), (2, "BC"), (1, "C"))

    result = instant_runoff("ABC", ballots, tie_order="BAC", tie_rule=RULE)

    assert result.winner == "B"
    assert result.ranking == ("B", "A", "C")
    assert result.rounds[-1] == Round(
        2,
        {"B": 2, "A": 2},
        1,
        None,
        "B",
        f"“B” and “A” tie with 2 votes each; “B” wins by the tie-break ({RULE}).",
    )
    assert result.tie_break == (
        f"In round 2, “B” and “A” tied with 2 votes each; “B” won by the tie-break ({RULE})."
    )


@pytest.mark.parametrize("count", [instant_runoff, schulze])
def test_single_candidate_wins_without_a_tie(count):
    result = count([7], [[7], [7, 8], [8]], tie_order=[7], names={7: "LoRA"})

    assert result.winner == 7
    assert result.ranking == (7,)
    assert result.ballots == 2
    assert result.tie_break == ""


def test_irv_single_candidate_has_one_round():
    result = instant_runoff([7], [[7], [7]], tie_order=[7], names={7: "LoRA"})

    assert result.rounds == (Round(1, {7: 2}, 0, None, 7, "“LoRA” has 2 of 2 votes, a majority."),)


@pytest.mark.parametrize("count", [instant_runoff, schulze])
def test_no_ballots_elects_the_first_in_tie_order(count):
    result = count("ABC", [[], ["Z"]], tie_order="CAB", tie_rule=RULE)

    assert result.winner == "C"
    assert result.ranking == ("C", "A", "B")
    assert result.ballots == 0
    assert result.pairwise == {(a, b): 0 for a in "ABC" for b in "ABC" if a != b}


def test_irv_no_ballots_says_the_tie_break_decided():
    result = instant_runoff("ABC", [], tie_order="CAB", tie_rule=RULE)

    expected = f"No ballots were cast, so “C”, “A” and “B” tie; “C” wins by the tie-break ({RULE})."
    assert result.tie_break == expected
    assert result.rounds == (Round(1, {"C": 0, "A": 0, "B": 0}, 0, None, "C", expected),)


def test_schulze_no_ballots_says_the_tie_break_decided():
    result = schulze("ABC", [], tie_order="CAB", tie_rule=RULE)

    assert result.tie_break == (
        "No ballots were cast, so “C”, “A” and “B” tie as Schulze winners; "
        f"“C” wins by the tie-break ({RULE})."
    )


def test_no_ballots_with_one_candidate_needs_no_tie_break():
    result = instant_runoff([1], [], tie_order=[1], names={1: "LoRA"})

    assert result.winner == 1
    assert result.tie_break == ""
    assert result.rounds[0].note == "No ballots were cast; “LoRA” is the only candidate."


@pytest.mark.parametrize("count", [instant_runoff, schulze])
def test_no_candidates_has_no_winner(count):
    result = count([], [["A"], []], tie_order=[])

    assert (result.winner, result.ranking, result.pairwise, result.ballots) == (None, (), {}, 0)


@pytest.mark.parametrize("count", [instant_runoff, schulze])
def test_unknown_candidates_repeats_and_empty_ballots_are_ignored(count):
    messy = [["X", "A", "A", "B"], ["B", "B"], [], ["Y"], ["A", "Y", "B", "A"]]
    clean = [["A", "B"], ["B"], ["A", "B"]]

    result = count("ABC", messy, tie_order="ABC")

    assert result == count("ABC", clean, tie_order="ABC")
    assert result.ballots == 3


def test_schulze_tie_between_winners_is_settled_by_tie_order():
    # A and B beat C; between themselves, one voter each way.
    result = schulze("ABC", cast((1, "ABC"), (1, "BAC")), tie_order="BAC", tie_rule=RULE)

    assert result.winner == "B"
    assert result.ranking == ("B", "A", "C")
    assert (
        result.tie_break
        == f"“B” and “A” tie as Schulze winners; “B” wins by the tie-break ({RULE})."
    )


def test_schulze_tie_below_the_winner_is_reported_once():
    # A beats everyone; B and C split evenly.
    ballots = cast((2, "ABC"), (1, "ACB"))
    ballots.append(["C"])

    result = schulze("ABC", ballots, tie_order="CBA")

    assert result.ranking == ("A", "C", "B")
    assert result.tie_break == (
        "Ties for lower places were settled by the tie-break order: “C” and “B” for 2nd place."
    )


@pytest.mark.parametrize("count", [instant_runoff, schulze])
def test_tie_order_must_list_every_candidate_once(count):
    with pytest.raises(ValueError, match="tie_order"):
        count("ABC", [], tie_order="AB")
    with pytest.raises(ValueError, match="tie_order"):
        count("AB", [], tie_order="ABC")


@pytest.mark.parametrize("count", [instant_runoff, schulze])
def test_duplicate_candidates_are_refused(count):
    with pytest.raises(ValueError, match="twice"):
        count("ABA", [], tie_order="AB")


def test_methods_name_label_description_and_function():
    assert {name: (label, function) for name, (label, _about, function) in METHODS.items()} == {
        "irv": ("Instant-runoff voting", instant_runoff),
        "schulze": ("Schulze method", schulze),
    }
    assert all(len(about) > 200 for _label, about, _function in METHODS.values())


# Properties. Candidates are 0..n-1; a ballot is any non-empty prefix of an ordering.


@st.composite
def elections(draw):
    n = draw(st.integers(1, 6))
    candidates = list(range(n))
    ballot = st.permutations(candidates).flatmap(
        lambda order: st.integers(1, n).map(lambda k: order[:k])
    )
    ballots = draw(st.lists(ballot, max_size=25))
    return candidates, ballots, draw(st.permutations(candidates))


PROPERTY = settings(max_examples=200, deadline=None)
BOTH = st.sampled_from([instant_runoff, schulze])


def prefers(ballot, a, b) -> bool:
    return a in ballot and (b not in ballot or ballot.index(a) < ballot.index(b))


def head_to_head(candidates, ballots) -> dict:
    return {
        (a, b): sum(prefers(ballot, a, b) for ballot in ballots)
        for a in candidates
        for b in candidates
        if a != b
    }


def widest_paths(candidates, d) -> dict:
    """Strongest paths exactly as in Wikipedia's pseudo-code."""
    p = {pair: d[pair] if d[pair] > d[pair[::-1]] else 0 for pair in d}
    for i in candidates:
        for j in candidates:
            if j != i:
                for k in candidates:
                    if k not in (i, j):
                        p[j, k] = max(p[j, k], min(p[j, i], p[i, k]))
    return p


@PROPERTY
@given(elections(), BOTH)
def test_pairwise_counts_match_a_direct_count(election, count):
    candidates, ballots, tie_order = election

    result = count(candidates, ballots, tie_order=tie_order)

    assert result.pairwise == head_to_head(candidates, ballots)


@PROPERTY
@given(elections())
def test_schulze_strongest_paths_match_the_textbook_algorithm(election):
    candidates, ballots, tie_order = election

    result = schulze(candidates, ballots, tie_order=tie_order)

    assert result.strongest == widest_paths(candidates, head_to_head(candidates, ballots))


@PROPERTY
@given(elections())
def test_schulze_ranking_never_puts_a_candidate_below_one_it_beats(election):
    candidates, ballots, tie_order = election

    result = schulze(candidates, ballots, tie_order=tie_order)

    p = result.strongest
    for position, lower in enumerate(result.ranking):
        for higher in result.ranking[:position]:
            assert p[higher, lower] >= p[lower, higher]


@PROPERTY
@given(elections())
def test_condorcet_winner_always_wins_schulze(election):
    candidates, ballots, tie_order = election
    d = head_to_head(candidates, ballots)
    condorcet = [a for a in candidates if all(d[a, b] > d[b, a] for b in candidates if b != a)]

    result = schulze(candidates, ballots, tie_order=tie_order)

    if condorcet:
        assert result.winner == condorcet[0]


@PROPERTY
@given(elections(), BOTH)
def test_majority_first_choice_wins_both_methods(election, count):
    candidates, ballots, tie_order = election
    majority = [a for a in candidates if 2 * sum(b[0] == a for b in ballots) > len(ballots)]

    result = count(candidates, ballots, tie_order=tie_order)

    if majority:
        assert result.winner == majority[0]


@PROPERTY
@given(elections(), BOTH)
def test_ranking_is_every_candidate_once_winner_first(election, count):
    candidates, ballots, tie_order = election

    result = count(candidates, ballots, tie_order=tie_order)

    assert sorted(result.ranking) == candidates
    assert result.winner == result.ranking[0]
    assert result.ballots == len(ballots)


@PROPERTY
@given(elections(), BOTH, st.data())
def test_ballot_order_does_not_change_the_result(election, count, data):
    candidates, ballots, tie_order = election
    shuffled = data.draw(st.permutations(ballots))

    result = count(candidates, shuffled, tie_order=tie_order, tie_rule=RULE)

    assert result == count(candidates, ballots, tie_order=tie_order, tie_rule=RULE)


@PROPERTY
@given(elections())
def test_irv_rounds_account_for_every_ballot(election):
    candidates, ballots, tie_order = election

    result = instant_runoff(candidates, ballots, tie_order=tie_order)

    continuing = set(candidates)
    for number, round_ in enumerate(result.rounds, start=1):
        assert round_.number == number
        assert set(round_.counts) == continuing
        assert sum(round_.counts.values()) + round_.exhausted == len(ballots)
        assert (round_.eliminated is None) == (round_ is result.rounds[-1])
        continuing.discard(round_.eliminated)
    assert result.rounds[-1].elected == result.winner
