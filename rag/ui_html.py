"""The HTML the app renders: citation cards, unit tags, and the clause tree of the browser tab.

Everything here escapes what it shows: clause text and anything a user typed is text, never
markup. The functions are pure, so they are tested without a running app.
"""
from __future__ import annotations

import html

from rag.clean import to_simplified
from rag.store import Store

CSS = """
.cite { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; margin-bottom: 2px; }
.cite-head { font-weight: 600; }
.cite-path { color: var(--body-text-color-subdued); margin: 2px 0 4px; }
.cite-text, .clause-text { white-space: pre-wrap; max-height: 14em; overflow-y: auto; font-size: 0.92em; margin-top: 4px; }
.tag { display: inline-block; border-radius: 10px; padding: 0 8px; margin: 1px 2px; font-size: 0.85em; }
.tag.lead { background: #fde2e1; color: #8a1c1c; }
.tag.coop { background: #e1ecfd; color: #1c3f8a; }
.tag.resp { background: #fdf3d6; color: #6b4e00; }
.tag.region { background: #e3f4e6; color: #1d5e2c; }
.also { font-size: 0.85em; color: var(--body-text-color-subdued); }
mark { background: #ffe066; color: #1f1f1f; }
.doc-head { font-weight: 600; margin: 10px 0 4px; }
.clause { border-left: 2px solid var(--border-color-primary); padding: 2px 8px; margin: 2px 0; }
.clause.selected { border-left: 4px solid #e8a400; background: rgba(255, 193, 7, 0.12); }
.clause .path { font-weight: 600; margin-right: 6px; }
"""


def highlight(text: str, needle: str) -> str:
    """`text` as HTML with every occurrence of `needle` in <mark>; all of it escaped."""
    if not needle:
        return html.escape(text)
    return f"<mark>{html.escape(needle)}</mark>".join(html.escape(part) for part in text.split(needle))


def unit_tags(record: dict) -> str:
    """Lead, cooperating and responsible units as coloured tags."""
    kinds = (("lead_units", "牵头", "lead"), ("cooperating_units", "配合", "coop"), ("responsible_units", "负责", "resp"))
    return "".join(f'<span class="tag {css}">{label} · {html.escape(to_simplified(u))}</span>'
                   for key, label, css in kinds for u in record.get(key) or [])


def citation_card(c: dict) -> str:
    """One citation: document, clause path, region and units, then the clause with the quote marked."""
    also = "".join(f'<div class="also">同见：{html.escape(a["source"])} {html.escape(a["path"])}</div>' for a in c["also"])
    return (f'<div class="cite"><div class="cite-head">[{c["n"]}] 《{html.escape(c["title"])}》</div>'
            f'<div class="cite-path">{html.escape(c["path"])}「{html.escape(to_simplified(c["clause_title"]))}」'
            f'{"（含其下各项）" if c.get("scope") == "section" else ""}'
            f'<span class="tag region">{html.escape(c["region"])}</span></div>'
            f'<div>{unit_tags(c)}</div><div class="cite-text">{highlight(c["text"], c["quote"])}</div>{also}</div>')


class Corpus:
    """The clause tree of every indexed document, for the browser tab."""

    def __init__(self, store: Store) -> None:
        clauses = store.clauses
        self.clauses = clauses
        self.by_id = store.by_id
        # What a search matches: path, title, text and units, all in simplified script.
        self.searchable = {c["id"]: to_simplified(" ".join([c["path"], c["title"], c["text_simplified"], *c["lead_units"],
                                                           *c["cooperating_units"], *c["responsible_units"]]))
                           for c in clauses}
        self.documents = store.documents

    def doc_choices(self) -> list[tuple[str, str]]:
        return [(f"{d['title']}（{d['region']}）", doc_id) for doc_id, d in self.documents.items()]

    def clause_choices(self, doc_id: str) -> list[tuple[str, str]]:
        return [(f"{c['path']}  {to_simplified(c['title'])}", c["id"]) for c in self.clauses if c["doc_id"] == doc_id]

    def search(self, query: str) -> list[dict]:
        """Clauses whose path, title, text or units contain the query, in either script."""
        needle = to_simplified(query.strip())
        return [c for c in self.clauses if needle in self.searchable[c["id"]]]

    @staticmethod
    def clause_html(c: dict, selected: bool = False, mark: str = "", expanded: bool = False) -> str:
        """One clause of the tree, indented by depth; the selected one open and highlighted."""
        depth = len(c["heading_path"])
        title = "" if c["title"] == c["path"] else html.escape(to_simplified(c["title"]))
        return (f'<div class="clause{" selected" if selected else ""}" style="margin-left: {depth * 1.2}em">'
                f'<details{" open" if selected or expanded else ""}><summary>'
                f'<span class="path">{html.escape(c["path"])}</span>{title} {unit_tags(c)}'
                f'</summary><div class="clause-text">{highlight(c["text"], mark)}</div></details></div>')

    def doc_head(self, doc_id: str) -> str:
        d = self.documents[doc_id]
        return (f'<div class="doc-head">《{html.escape(d["title"])}》 <span class="tag region">{html.escape(d["region"])}</span>'
                f' {html.escape(d["kind"])} · {html.escape(d["source"])}</div>')

    def tree_html(self, doc_id: str, selected_id: str | None = None, quote: str = "") -> str:
        """A document's clause tree; the selected clause open, with the cited span marked."""
        body = "".join(self.clause_html(c, c["id"] == selected_id, quote if c["id"] == selected_id else "")
                       for c in self.clauses if c["doc_id"] == doc_id)
        return self.doc_head(doc_id) + body

    def results_html(self, query: str, matches: list[dict]) -> str:
        """Search results grouped by document, each clause with the query marked."""
        if not matches:
            return f"<p>没有条款包含“{html.escape(query)}”。</p>"
        parts = [f"<p>共 {len(matches)} 条条款包含“{html.escape(query)}”。在上方“条款”中选择一条，查看它在文档中的位置。</p>"]
        current = None
        for c in matches:
            if c["doc_id"] != current:
                current = c["doc_id"]
                parts.append(self.doc_head(current))
            shown = query.strip() if query.strip() in c["text"] else to_simplified(query.strip())
            parts.append(self.clause_html(c, mark=shown, expanded=True))
        return "".join(parts)
