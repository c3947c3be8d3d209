"""Whether the clauses that answer name who is asked for: a post's holder, a role's, a person's
name, an organisation of the kind asked. Each check returns the reason shown, or None."""
from __future__ import annotations

import re

from rag.answer.base import Asked
from rag.answer.lead import unit_clause
from rag.answer.quote import sentences_where
from rag.clean import to_simplified
from rag.query import Query
from rag.retrieve import Hit
from rag.units import find_responsibilities


def who_unnamed(query: Query, hits: list[Hit], corpus_text: str) -> str | None:
    """Why the top clauses do not name the person or organisation asked, or None."""
    # 冷水滩区专班办公室的主任: only 冷水滩区's own report can name its 主任.
    asked_rows = [h for h in hits[:3] if h.clause["title"] in query.simplified and h.clause["path"].endswith(h.clause["title"])]
    # "协助副市长的几位副组长分别是谁": the role before 是谁 is asked, not the post it assists.
    if query.asks_person and query.titles and (not query.role or any(t in query.role for t in query.titles)):
        said = [sentence for h in asked_rows or hits[:3] for sentence in sentences_naming(h.clause, query.titles)]
        if not said:
            return "方案没有写出该职务人员的姓名。"
        if not any(holder_named(sentence, title, query.simplified) for sentence in said for title in query.titles):
            return f"方案只写明“{said[0].strip()[:60]}”，没有写出该职务人员的姓名。"
    # A role (召集人) rather than a post, whose holder's name is asked (叫什么名字; 是谁 is answered
    # by the post that holds it): the clauses that speak of it must name the person. Its name is
    # the longest ending of the asked words that the corpus uses (…专班召集人 → 召集人).
    if query.asks_name and query.role and not query.titles:
        role = next((query.role[i:] for i in range(len(query.role) - 1) if query.role[i:] in corpus_text), "")
        said = [sentence for h in asked_rows or hits[:3] for sentence in sentences_naming(h.clause, (role,))] if role else []
        if said and not any(holder_named(sentence, role, "") for sentence in said):
            return f"方案只写明“{said[0].strip()[:60]}”，没有写出{role}的姓名。"
    # "由哪位县领导约谈？叫什么名字？": a name asked of no post or role the question names, which
    # the clause that answers must hold (a personal name, as jieba tags one).
    if query.asks_name and not query.titles and not query.role and not names_person(hits[0].clause["text_simplified"]):
        return "方案没有写出所问人员的姓名。"
    # "哪家施工单位承建", "which company operates it": the clause that answers must speak of one of that kind.
    if query.kind_asked and query.kind_asked not in hits[0].clause["text_simplified"]:
        return f"检索到的条款没有写明所问的{query.kind_asked}是哪一家。"
    return None


def lead_unnamed(asked: Asked) -> str | None:
    """"由哪个单位牵头" of a clause that names no unit at all (建强救援力量): the clause is the one the
    lead answer would quote (rag.answer.lead)."""
    query, hits = asked.query, asked.hits
    if query.asked != "lead" or query.unit_role != "牵头" or not hits:
        return None
    clause = (unit_clause(asked) or hits[0]).clause
    # A clause naming only 负责 units is answered with them (the lead answer says so); one that
    # names no unit and never says 牵头 cannot say who leads.
    if (clause["lead_units"] or clause["cooperating_units"] or clause["responsible_units"] or find_responsibilities(clause["text"])
            or "牵头" in clause["text_simplified"]):  # 常务副县长总牵头: a post leads
        return None
    return f"《{clause['doc_title']}》{clause['path']}「{to_simplified(clause['title'])}」没有写明牵头单位，也没有写明负责单位。"


def names_person(text: str) -> bool:
    """Whether `text` holds a personal name (李适时, 夏葛桢), as jieba tags one."""
    import jieba.posseg

    return any(word.flag == "nr" and 2 <= len(word.word) <= 4 for word in jieba.posseg.cut(text))


def sentences_naming(clause: dict, titles: tuple[str, ...]) -> list[str]:
    """The clause's sentences (simplified) that mention one of the asked titles or roles."""
    return sentences_where(clause["text_simplified"], lambda sentence: any(t in sentence for t in titles))


# A table cell's value after its label: "：李适时；" (a name jieba may not tag as one).
TABLE_CELL = re.compile(r"[：:]\s*[\u4e00-\u9fff]{2,4}(?:[；;，,。、\s]|$)")


def _before(text: str, at: int) -> str:
    """The two characters before a title: what office it is of (管理局局长, 公安局局长), unless
    they are a particle (分管的副市长) or the place's suffix."""
    context = text[max(0, at - 2):at]
    return "" if re.search(r"[的那这该位个是县市区]", context) else context


def holder_named(sentence: str, title: str, question: str) -> bool:
    """Whether `sentence` names the holder of the asked post or role: the title itself (县长, not
    the 副县长 the question did not ask for), of the same office as in the question, directly
    followed by a personal name ("市公安局局长夏葛桢") or as a table cell's label ("召集人：李适时；").
    "由分管副市长担任召集人" names a post, not a person."""
    import jieba.posseg

    # 生态环境局局长 is also written 生态环境局长: compare the office with the doubled 局 folded.
    sentence, question = (re.sub(rf"{title[0]}(?={re.escape(title)})", "", t) for t in (sentence, question))
    asked = question.find(title)
    office = _before(question, asked) if asked >= 0 else ""
    for found in re.finditer(re.escape(title), sentence):
        if not title.startswith("副") and sentence[max(0, found.start() - 1):found.start()] == "副":
            continue
        if office and sentence[max(0, found.start() - 2):found.start()] != office:
            continue
        if TABLE_CELL.match(sentence, found.end()):
            return True
        # A name jieba tags as one, directly or after a colon ("市公安局局长夏葛桢", "主任：夏葛桢").
        after = found.end() + len(re.match(r"[：:\s]*", sentence[found.end():]).group())
        following = next(iter(jieba.posseg.cut(sentence[after:after + 6])), None)
        if following is not None and following.flag == "nr" and 2 <= len(following.word) <= 4:
            return True
    return False
