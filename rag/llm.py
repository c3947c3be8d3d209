"""Optional LLM answers, written over the same citations the grounded composer found.

The grounded answer (rag.answer) stays the default and the fallback. When an LLM backend is
configured, `llm_stream` sends it the grounded answer's numbered clauses and the question,
streams what it writes, and then checks it: every [n] must be one of the given clauses, at
least one must be cited, and every unit name and every number must occur in a cited clause.
An answer that fails, a server that is down or slow, or a local model that runs past its time
limit gives the grounded answer back with mode "fallback" and a notice saying why. Refused
grounded answers are never sent to an LLM.

The backends (OpenAI-compatible server, local transformers model) are in `rag.llm_backends`.

Prompts are the versioned Chinese files in `prompts/` (system, answer, compare, refuse).
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from rag.answer.types import Answer, Citation
from rag.clean import to_simplified
from rag.config import PROJECT_ROOT
from rag.llm_backends import DEFAULTS, LLMBackend, LLMUnavailable
from rag.units import find_responsibilities, normalize_unit

PROMPTS_DIR = PROJECT_ROOT / "prompts"
REFUSAL = "语料中未找到能回答该问题的内容"
CITE = re.compile(r"[\[［【]\s*(\d{1,3}(?:\s*[,，、\-–~]\s*\d{1,3})*)\s*[\]］】]")
LIST_MARKER = re.compile(r"(?m)^\s*(?:[-*+>|]|\d{1,2}[.、)）](?!\d))\s*")
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:\s*(?:%|‰|万|亿))?")
# Unit-like tokens: names ending in 局/办/委/院/队/中心/公司/部门 (and a few more), not the
# words that merely contain those characters (局面, 办理, 委托, 院校, 队伍, 中心城区).
UNIT = re.compile(r"[\u4e00-\u9fff]+?(?:局(?![面势])|办公室|办(?![理法好实事成公])|委员会|委(?![托员屈])|院(?![校落])|"
                  r"队(?![伍列])|中心(?!城)|公司|部门|支行|分行|银行|妇联|工商联|科协|残联|工会)")
LEAD_LIKE = re.compile(r"[部组会站所厅处科室位联道行区]$")
CJK = re.compile(r"[\u4e00-\u9fff]")
CHUNK_SPLIT = re.compile(r"[^\u4e00-\u9fff]+")
# A unit name in a clause starts after punctuation, a county/city prefix or a joining word.
UNIT_START = set("由和与及等的在是为对向各县市区省")
LEAD = re.compile(r"(?:分别|分別|共同)?牵头")
LEAD_NAMED = re.compile(r"牵头(?:单位|部门)(?:是|为|：|:)\s*([^，。；;：:\n）)]+)")
LEAD_SEGMENT_SPLIT = re.compile(r"[、和及与由或]|会同")
THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S)
WIDTH = str.maketrans("０１２３４５６７８９．％", "0123456789.%")


# -- prompts --------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def load_prompt(name: str, folder: Path = PROMPTS_DIR) -> tuple[int, str]:
    """(version, body) of prompts/<name>.md; the first line must be `# version: N`."""
    path = folder / f"{name}.md"
    first, _, body = path.read_text(encoding="utf-8").partition("\n")
    match = re.fullmatch(r"#\s*version:\s*(\d+)\s*", first)
    if not match:
        raise ValueError(f"{path}: the first line must be '# version: N'")
    return int(match.group(1)), body.strip()


def prompt_version() -> str:
    """e.g. 'system1-answer1-compare1-refuse1', recorded with every LLM answer."""
    return "-".join(f"{name}{load_prompt(name)[0]}" for name in ("system", "answer", "compare", "refuse"))


def _inert(text: str) -> str:
    """Content placed between delimiters cannot close or open one."""
    return text.replace("<", "＜").replace(">", "＞")


def clause_block(c: Citation, clause_chars: int) -> str:
    """One numbered clause as the model sees it: [n] 《title》path「clause title」, units, text."""
    text = c.text.strip()
    if len(text) > clause_chars:
        text = ("…" + c.quote.strip() + "…") if c.quote and len(c.quote) <= clause_chars else text[:clause_chars] + "…"
    units = c.units_sentence()
    head = f"[{c.n}] 《{to_simplified(c.title)}》{c.path}「{to_simplified(c.clause_title)}」"
    lines = [head] + ([f"（{units}）"] if units else []) + [to_simplified(text)]
    return f'<条款 编号="{c.n}">\n' + _inert("\n".join(lines)) + "\n</条款>"


def build_messages(grounded: Answer, max_clauses: int = 5, clause_chars: int = 1200) -> tuple[list[dict[str, str]], list[Citation]]:
    """The chat messages for a grounded answer, and the citations they number."""
    given = grounded.citations[:max_clauses]
    task = "compare" if grounded.kind == "compare" else "answer"
    body = load_prompt(task)[1]
    values = {"question": _inert(grounded.question), "clauses": "\n\n".join(clause_block(c, clause_chars) for c in given),
              "refuse": load_prompt("refuse")[1]}
    user = re.sub(r"\{(question|clauses|refuse)\}", lambda m: values[m.group(1)], body)
    return [{"role": "system", "content": load_prompt("system")[1]}, {"role": "user", "content": user}], given


# -- verification ---------------------------------------------------------------------------
def visible(text: str) -> str:
    """What the user sees: a reasoning model's <think> block is dropped."""
    return THINK.sub("", text).lstrip()


def cited_numbers(text: str) -> list[int]:
    found: list[int] = []
    for match in CITE.finditer(text.translate(WIDTH)):
        for part in re.split(r"\s*[,，、]\s*", match.group(1)):
            bounds = [int(x) for x in re.split(r"\s*[\-–~]\s*", part)]
            for n in range(bounds[0], bounds[-1] + 1) if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] < 20 else bounds:
                if n not in found:
                    found.append(n)
    return found


def evidence(c: Citation) -> str:
    """Everything the model was shown about one clause, simplified, for the checks."""
    units = "、".join(c.lead_units + c.cooperating_units + c.responsible_units)
    twins = " ".join(f"{a.get('source', '')} {a.get('path', '')}" for a in c.also)
    return to_simplified(f"《{c.title}》{c.path}「{c.clause_title}」{c.source} {twins}{units}\n{c.text}").translate(WIDTH)


def _unit_ok(token: str, corpus: str, known: set[str]) -> bool:
    """A unit-like token of the answer is in the cited clauses (as written or as a known unit).

    The token may carry words before the name ("由城管局", "整治城管局"): it passes when its
    longest suffix found in the clauses starts a unit name there (after punctuation, a place
    prefix or a joining word). "市场管理局" does not pass on "应急管理局".
    """
    if token in corpus or normalize_unit(token) in known or normalize_unit(token) in corpus:
        return True
    for start in range(1, len(token) - 1):
        suffix = token[start:]
        if normalize_unit(suffix) in known:
            return True
        for match in re.finditer(re.escape(suffix), corpus):
            if match.start() == 0 or not CJK.match(corpus[match.start() - 1]) or corpus[match.start() - 1] in UNIT_START:
                return True
        if suffix in corpus:
            return False  # the longest suffix found is the tail of another unit's name
    return False


def _number_ok(number: str, corpus: str) -> bool:
    digits, unit = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(.*)", number).groups()
    pattern = rf"(?<![\d.]){re.escape(digits)}(?![\d])" + (rf"(?:\.0+)?\s*{re.escape(unit)}" if unit else "")
    return re.search(pattern, corpus) is not None


def verify(text: str, citations: list[Citation]) -> str | None:
    """None when the answer keeps to the given clauses, else the reason (Chinese) it does not."""
    simplified = to_simplified(visible(text)).translate(WIDTH).strip()
    if not simplified:
        return "LLM 没有返回内容"
    numbers = cited_numbers(simplified)
    if not numbers:
        if REFUSAL in simplified:
            return "LLM 认为所给条款不能回答该问题"
        return "LLM 回答没有标注所依据的条款"
    given = {c.n: c for c in citations}
    missing = [n for n in numbers if n not in given]
    if missing:
        return "LLM 回答引用了不存在的条款 " + "".join(f"[{n}]" for n in missing)
    cited = [given[n] for n in numbers]
    corpus = "\n".join(evidence(c) for c in cited)
    body = LIST_MARKER.sub("", CITE.sub("。", simplified))
    known = {normalize_unit(u) for c in cited for u in c.lead_units + c.cooperating_units + c.responsible_units}
    known |= {normalize_unit(u) for c in cited for r in find_responsibilities(c.text)
              for u in r.lead_units + r.cooperating_units + r.responsible_units}
    for chunk in CHUNK_SPLIT.split(body):
        for token in UNIT.findall(chunk):
            if not _unit_ok(token, corpus, known):
                name = re.split(r"[由和与及等的在是为对向]", token)[-1]
                return f"LLM 回答中的单位“{name if len(name) >= 2 else token}”不见于所引条款"
    leads = {normalize_unit(u) for c in cited for u in c.lead_units}
    leads |= {normalize_unit(u) for c in cited for r in find_responsibilities(c.text) for u in r.lead_units}
    if leads:
        # "X、Y牵头" / "由X牵头" and "牵头单位是X": every X must be a lead unit of a cited clause.
        segments = [re.split(r"[，。；：,;:\n（(！？!?]", body[:m.start()])[-1] for m in LEAD.finditer(body)]
        segments += [m.group(1) for m in LEAD_NAMED.finditer(body)]
        for segment in segments:
            for part in LEAD_SEGMENT_SPLIT.split(re.sub(r"[（(][^）)]*[）)]?", "", segment)):
                name = re.sub(r"(?:等|分别|共同|依职责|按职责|负责)+$", "", part.strip())
                if not (UNIT.search(name) or LEAD_LIKE.search(name)):
                    continue
                if not any(normalize_unit(name[i:]) in leads for i in range(len(name) - 1)):
                    shown = re.split(r"[由是为的]", name)[-1]
                    return f"LLM 回答称“{shown if len(shown) >= 2 else name}”牵头，但所引条款的牵头单位是{'、'.join(sorted(leads))}"
    for number in NUMBER.findall(body):
        if not _number_ok(number, corpus):
            return f"LLM 回答中的数字“{number}”不见于所引条款"
    return None


# -- answering ------------------------------------------------------------------------------
def sources(citations: list[Citation]) -> str:
    """The cited clauses' labels, and where the same text also appears (as the grounded answer)."""
    lines = [f"[{c.n}] {c.label()}" for c in citations]
    lines += [f"[{c.n}] 同见 " + "；".join(f"{a['source']} {a['path']}" for a in c.also) for c in citations if c.also]
    return "\n".join(lines)


def llm_stream(grounded: Answer, backend: LLMBackend) -> Iterator[Answer]:
    """Yields growing Answers while tokens arrive (mode "llm"), then the final verified Answer
    (mode "llm"), or the grounded answer with mode "fallback" and a notice.

    Streamed text is shown before it is verified; the last Answer yielded is authoritative.
    """
    if grounded.refused or not grounded.citations:
        yield grounded
        return
    if grounded.kind in ("structure", "across"):  # a count or a selection no single clause states
        yield replace(grounded, notice=_join(grounded.notice, "列举类问题直接列出条款，未调用 LLM"))
        return
    settings = DEFAULTS.get(backend.name.split(":", 1)[0], DEFAULTS["openai"])
    max_clauses = getattr(backend, "max_clauses", settings["max_clauses"])
    clause_chars = getattr(backend, "clause_chars", settings["clause_chars"])
    messages, given = build_messages(grounded, max_clauses, clause_chars)
    started = time.perf_counter()
    timings = dict(grounded.timings_ms)

    def fallback(reason: str) -> Answer:
        timings["llm"] = (time.perf_counter() - started) * 1000
        timings["total"] = grounded.timings_ms.get("total", 0.0) + timings["llm"]
        return replace(grounded, mode="fallback", timings_ms=timings,
                       notice=_join(grounded.notice, f"{reason}，已改用基于条款的回答"))

    text, shown = "", ""
    try:
        for piece in backend.stream(messages):
            if not piece:
                continue
            if "llm_first_token" not in timings:
                timings["llm_first_token"] = (time.perf_counter() - started) * 1000
            text += piece
            if visible(text) != shown:
                shown = visible(text)
                yield replace(grounded, answer=shown, mode="llm", citations=given, timings_ms=dict(timings),
                              notice=f"{backend.name} 正在生成，完成后核对引用、单位和数字")
    except LLMUnavailable as error:
        yield fallback(str(error))
        return
    except Exception as error:  # a backend bug must not take the answer down with it
        yield fallback(f"LLM 出错（{type(error).__name__}: {str(error)[:200]}）")
        return
    final = visible(text).strip()
    reason = verify(final, given)
    if reason:
        yield fallback(reason)
        return
    cited = [c for c in given if c.n in cited_numbers(to_simplified(final))]
    timings["llm"] = (time.perf_counter() - started) * 1000
    timings["total"] = grounded.timings_ms.get("total", 0.0) + timings["llm"]
    yield replace(grounded, answer=f"{final}\n\n{sources(cited)}", mode="llm", citations=cited, timings_ms=timings,
                  notice=f"由 {backend.name} 依据所引条款生成（提示词 {prompt_version()}），已核对引用、单位和数字")


def _join(*notices: str) -> str:
    return "；".join(n for n in notices if n)
