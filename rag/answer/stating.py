"""Whether a retrieved sentence states the figure or time a question asks for: a calibrated score.

A single lexical floor (the sentence covers 0.45 of the question's topic words) refused most
paraphrases, whose words the answering sentence does not share, and still answered near misses
whose words it does share. Where the sentence stands says more than its words alone: a
paraphrase's answer is usually the best-covering figure sentence of the top clause, in a clause
that states few figures; a near miss's is one of many figures, or stands in a lower clause. The
four signals are weighed by a logistic model fit on the labelled development sets
(`eval/fit_answerability.py` prints the weights below and its leave-one-set-out table). It is
fit on Chinese questions; on the tuning sets' English questions, whose Chinese words come from
the glossary, it answers one more than the lexical floor did and loses none, so both languages
are judged alike.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.clean import to_simplified

# Fit on eval/cases, own_words, dev, fresh, fresh2 and fresh3 (2026-12-02: 408 Chinese figure and
# time questions, 1,079 candidate sentences; `python eval/fit_answerability.py`).
WEIGHTS = {"coverage": 2.25, "in_top_clause": 1.51, "figures_in_clause": -1.32, "best_covering": 1.85}
BIAS = -3.47
FIGURES_COUNTED = 10  # a clause stating ten figures or more counts as ten


@dataclass(frozen=True)
class Candidate:
    """A sentence of one of the top clauses that states what is asked."""

    hit: int  # the clause's rank among the hits (0: the top clause)
    sentence: str
    coverage: float  # the IDF-weighted share of the question's topic words it covers, read in its place
    figures_in_clause: int  # how many sentences of its clause state what is asked

    def features(self, best: float) -> dict[str, float]:
        return {"coverage": self.coverage, "in_top_clause": float(self.hit == 0),
                "figures_in_clause": min(self.figures_in_clause, FIGURES_COUNTED) / FIGURES_COUNTED,
                "best_covering": float(self.coverage >= best - 1e-9)}


def candidates(stating: Sequence[Sequence[str]], where: Sequence[str], word_lists: Sequence[list[str]],
               coverage: Callable[[list[str], str], float]) -> list[Candidate]:
    """Every stating sentence of the top clauses (`stating[i]` for hit i), each read with where its
    clause stands (document, headings, title), covered by the better of the question's word lists."""
    return [Candidate(i, sentence, max(coverage(words, to_simplified(sentence) + "\n" + where[i]) for words in word_lists),
                      len(sentences))
            for i, sentences in enumerate(stating) for sentence in sentences]


def probabilities(found: list[Candidate]) -> list[float]:
    """For each candidate, the calibrated probability that it states the answer."""
    best = max((c.coverage for c in found), default=0.0)
    return [1.0 / (1.0 + math.exp(-(BIAS + sum(WEIGHTS[name] * value for name, value in c.features(best).items()))))
            for c in found]


def states_answer(found: list[Candidate], floor: float) -> bool:
    """Whether some candidate answers: its probability reaches `floor`."""
    return any(p >= floor for p in probabilities(found))
