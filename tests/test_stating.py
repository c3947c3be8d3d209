"""The calibrated judgement of whether a sentence states the figure or time asked (rag.answer.stating)."""
from __future__ import annotations

from rag.answer.stating import Candidate, candidates, probabilities, states_answer


def test_where_a_sentence_stands_outweighs_how_many_words_it_shares():
    """A paraphrase's answer: the one figure of the top clause, though it shares few words with the
    question. A near miss's: one figure among many, in a lower clause, with the same words shared."""
    alone_on_top = Candidate(0, "比例不得低于20%;", 0.40, 1)
    among_many_below = Candidate(1, "比例不得低于20%;", 0.40, 8)
    assert states_answer([alone_on_top], 0.5)
    assert not states_answer([among_many_below], 0.5)
    p_top, p_below = probabilities([alone_on_top, among_many_below])
    assert p_top > 0.5 > p_below


def test_the_best_covering_sentence_is_the_candidate():
    better, worse = probabilities([Candidate(0, "a", 0.5, 2), Candidate(0, "b", 0.3, 2)])
    assert better > 0.5 > worse


def test_candidates_read_each_sentence_in_its_place():
    """The heading a clause stands under counts for its sentences (打好蓝天保卫战 is not in the sentence)."""
    covered = lambda words, text: sum(w in text for w in words) / len(words)  # noqa: E731
    found = candidates([["比例不得低于20%;"], []], ["打好蓝天保卫战", ""], [["蓝天", "比例"]], covered)
    assert [(c.hit, c.coverage, c.figures_in_clause) for c in found] == [(0, 1.0, 1)]
