"""The one in-memory view of a built index: clauses, sections and the look-ups over them.

Retrieval, the answer layer and the UI all need "the clause at this path", "the section above
this item", "the other places this text appears"; building those once, here, keeps the three
from each indexing `clauses.json` their own way.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import cached_property

from rag.clean import to_simplified
from rag.gazetteer import PLACE_TITLE, Gazetteer, short_form
from rag.query import YEAR
from rag.sections import build_sections
from rag.units import normalize_unit

ANNEX_PATH = re.compile(r"附件\d+")
PLAN_TITLE_ENDINGS = ("方案", "表", "办法", "规划", "要点", "细则")  # an annex titled so is a plan of its own


class Store:
    """Clause records (as `rag parse --json` and the index write them) and their indexes."""

    def __init__(self, clauses: list[dict]) -> None:
        self.clauses = clauses
        self.by_path = {(c["doc_id"], c["path"]): c for c in clauses}
        self.by_id = {c["id"]: c for c in clauses}
        self.sections = {(s["doc_id"], s["path"]): s for s in build_sections(clauses)}
        self.section_above = {(s["doc_id"], child): s for s in self.sections.values() for child in s["children"]}
        self.twins: dict[str, list[int]] = {}
        for i, clause in enumerate(clauses):
            self.twins.setdefault(clause["text_key"], []).append(i)
        # Rows named by a place (【县市区动态】宁远县): a question that names the place is about its row.
        self.place_rows: dict[str, list[int]] = {}
        for i, clause in enumerate(clauses):
            title = to_simplified(clause["title"])
            if clause["path"].endswith(clause["title"]) and PLACE_TITLE.fullmatch(title):
                self.place_rows.setdefault(title, []).append(i)
        self.gazetteer = Gazetteer(clauses, self.place_rows)
        # The year a document is about: the one its text names most (2023 for the 2023 plan, whose
        # sentences do not repeat it); a document that names no year has none.
        years: dict[str, Counter] = {}
        for c in clauses:
            years.setdefault(c["doc_id"], Counter()).update(YEAR.findall(c["text"]))
        self.document_year = {doc_id: found.most_common(1)[0][0] for doc_id, found in years.items() if found}
        self.documents: dict[str, dict] = {}
        for c in clauses:
            self.documents.setdefault(c["doc_id"], {"title": c["doc_title"], "region": c["region"], "kind": c["kind"],
                                                    "source": c["source"]})
        # Titles count: 蓝山县 is named only as the title of its row in the newsletter.
        self.corpus_text = "\n".join(c["text_simplified"] + "\n" + to_simplified(c["title"]) for c in clauses) + "\n" + \
            "\n".join(sorted({to_simplified(c["doc_title"]) for c in clauses}))
        # Every unit the plans name, in matching form (公安局, 统计局, 润恒自来水公司), longest first.
        self.unit_names = sorted({n for c in clauses for u in c["lead_units"] + c["cooperating_units"] + c["responsible_units"]
                                  if len(n := normalize_unit(u)) >= 3}, key=len, reverse=True)
        documents = sorted({(c["doc_id"], "", c["doc_title"], c["region"]) for c in clauses})
        annexes = sorted((s["doc_id"], s["path"], s["title"], s["region"]) for s in self.sections.values()
                         if ANNEX_PATH.fullmatch(s["path"]) and s["title"].endswith(PLAN_TITLE_ENDINGS))
        # (doc_id, annex path or "", title, region) of every plan: each document and each annex that is
        # a plan of its own (003 附件2–7, e.g. 平江县打好防范化解风险阻击仗工作方案).
        self.plans: list[tuple[str, str, str, str]] = documents + annexes

    @cached_property
    def pinyin_words(self) -> frozenset[str]:
        """The corpus's words of two to four characters spelled in toneless pinyin (puhua: 普华), so
        that an English question's pinyin word the plans use is not taken for an unknown place."""
        import jieba
        from pypinyin import lazy_pinyin

        words = {w for w in jieba.cut(self.corpus_text) if 2 <= len(w) <= 4 and re.fullmatch(r"[\u4e00-\u9fff]+", w)}
        return frozenset("".join(lazy_pinyin(w)) for w in words)

    def record(self, doc_id: str, path: str, scope: str = "clause") -> dict | None:
        """The clause a citation names, or with scope "section" the clause and everything under it."""
        if scope == "section":
            return self.sections.get((doc_id, path))
        return self.by_path.get((doc_id, path))

    def cited_text(self, doc_id: str, path: str) -> str | None:
        """What a citation of `path` covers: a heading covers its numbered items (二、(二) covers 1.–15.)."""
        found = self.record(doc_id, path, "section") or self.record(doc_id, path)
        return found["text"] if found else None

    def parent_section(self, clause: dict) -> dict | None:
        """The section a clause is a direct item of (宁远县 → 【县市区动态】), if any."""
        return self.section_above.get((clause["doc_id"], clause["path"]))

    def items(self, section: dict) -> list[dict]:
        """A section's direct items, in order."""
        return [self.by_path[(section["doc_id"], p)] for p in section["children"]]

    def doc_title(self, doc_id: str) -> str:
        return self.documents[doc_id]["title"]

    def example_questions(self) -> list[str]:
        """Questions this corpus answers, written from its own clauses: who leads a task, the same
        task in two regions, the parts of a plan (for the UI's buttons and the help text)."""
        tasks = [c for c in self.clauses if len(c["lead_units"]) == 1 and 4 <= len(c["title"]) <= 12
                 and not c["responsibility"].startswith("牵头单位：") and c["title"] != c["path"]]
        examples = [f"{short_form(c['region'])}{to_simplified(c['title'])}由谁牵头？" for c in tasks[:1]]
        # Parallel plans of two regions number the same task alike (二、(四)1 in both).
        by_path: dict[str, dict[str, dict]] = {}
        for c in self.clauses:
            if c["lead_units"] or c["responsible_units"]:
                by_path.setdefault(c["path"], {}).setdefault(c["region"], c)
        shared = next((sides for sides in by_path.values() if len(sides) >= 2
                       and 4 <= len(next(iter(sides.values()))["title"]) <= 12), None)
        if shared:
            (first, clause), (second, _) = list(shared.items())[:2]
            examples.append(f"{short_form(first)}和{short_form(second)}的{to_simplified(clause['title'])}各由谁牵头？")
        examples.append(f"《{next(iter(self.documents.values()))['title']}》由哪几个部分组成？")
        return examples
