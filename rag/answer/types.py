"""What an answer is: its text, whether it refuses, its citations, and how it was made.

The LLM layer, the UI, the CLI and the eval read only these types, so they never depend on
how the answer was composed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from rag.clean import to_simplified


def simplified_units(units: list[str]) -> str:
    return "、".join(to_simplified(u) for u in units)


@dataclass
class Citation:
    n: int
    doc_id: str
    source: str
    title: str
    path: str
    clause_title: str
    lead_units: list[str]
    cooperating_units: list[str]
    responsible_units: list[str]
    quote: str
    text: str
    region: str = ""
    also: list[dict] = field(default_factory=list)
    scope: str = "clause"  # "section": the clause with everything numbered under it (rag.sections)

    def label(self) -> str:
        """《title》path「clause title」, as every answer names a clause."""
        return f"《{self.title}》{self.path}「{to_simplified(self.clause_title)}」"

    def units_sentence(self) -> str:
        """"牵头单位：…；配合单位：…", or "" for a clause that names no unit."""
        parts = []
        if self.lead_units:
            parts.append(f"牵头单位：{simplified_units(self.lead_units)}")
        if self.cooperating_units:
            parts.append(f"配合单位：{simplified_units(self.cooperating_units)}")
        if self.responsible_units:
            parts.append(f"负责单位：{simplified_units(self.responsible_units)}")
        return "；".join(parts)

    def units_english(self) -> str:
        """"Lead: 城管局; cooperating: 发改局": an English frame, the unit names as the plan writes them."""
        roles = (("Lead", self.lead_units), ("cooperating", self.cooperating_units), ("responsible", self.responsible_units))
        return "; ".join(f"{role}: {simplified_units(units)}" for role, units in roles if units)

    def units_note(self) -> str:
        """The units in brackets after a label, or nothing for a clause that names none."""
        units = self.units_sentence()
        return f"（{units}）" if units else ""


@dataclass(frozen=True)
class Route:
    """The route an answer took and why: the router's choice, recorded with the answer."""

    name: str
    reason: str


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    mode: str = "grounded"
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[dict] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    notice: str = ""
    kind: str = ""  # how it was composed: lead, number, general, compare, structure, across, metadata
    route: dict[str, str] = field(default_factory=dict)  # {name, reason}: which route answered and why
    resolved_question: str = ""  # a follow-up in a conversation, rewritten as the standalone question answered

    def to_dict(self) -> dict:
        return asdict(self)
