"""A document's number and date, from its own cover (通知 / 报头) when it has one."""
from __future__ import annotations

import re

from rag.answer.base import Asked, Composed, Refusal
from rag.answer.quote import citation
from rag.retrieve import Hit

COVERS = ("通知", "报头")


def compose_metadata(asked: Asked) -> Composed | Refusal:
    """The cover's lines that carry numbers (文号, 日期, 期号) or the issuer, quoted; a refusal
    naming the document when it has no cover."""
    store = asked.store
    doc_id = asked.query.plan[0] if asked.query.plan else asked.hits[0].clause["doc_id"]
    cover = next((c for c in store.clauses if c["doc_id"] == doc_id and c["path"] in COVERS), None)
    if cover is None:
        named = asked.query.plan[0] if asked.query.plan else None
        return Refusal(f"《{store.doc_title(named)}》的文本没有载明文号或印发日期。")
    lines = [line for line in cover["text"].split("\n") if re.search(r"\d", line) or "专班" in line]
    said = "\n".join(lines) if "\n".join(lines) in cover["text"] else cover["text"]
    c = citation(1, Hit(cover, 0.0), said)
    return Composed(f"根据《{c.title}》{c.path}：[1]\n\n> " + said.replace("\n", "\n> "), [c], "metadata")
