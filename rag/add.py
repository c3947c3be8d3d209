"""`rag add FILE`: a new plan document into the corpus the way a user would add it, in one step.

What the text says about itself is read from it — the title (a covering notice's 《…》), the
document number (〔2022〕43号, 2024年第1期), the date, the region named in the title — and the
user's flags win over any of it. The entry is validated by loading the corpus with it before
the manifest is written, so a file that cannot be read changes nothing and the current index
keeps serving; the ingest that follows embeds only the new clauses.
"""
from __future__ import annotations

import re
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rag.clean import to_simplified
from rag.gazetteer import china_places, places_named, short_form
from rag.load import ManifestError, decode, load_corpus, read_manifest

NOTICE_TITLE = re.compile(r"印发.*?《(?P<title>[^》]+)》")
DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,10}〔\d{4}〕\d+号|\d{4}年第\d+期")
DATE = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)年(?P<m>\d{1,2})月(?P<d>\d{1,2})日")
KIND = re.compile(r"(实施方案|工作方案|总体方案|行动方案|专项方案|考评办法|考核办法|实施办法|管理办法|实施细则|工作要点|"
                  r"工作专报|专报|规划|意见|方案|办法|细则|要点|通知)$")
HEAD_LINES = 12  # a document's own title, number and date stand in its first lines


class AddError(Exception):
    """The document cannot be added: the message names the file and what to fix."""


@dataclass
class Entry:
    id: str
    source: str
    title: str
    region: str
    level: str
    kind: str
    script: str
    date: str | None = None
    doc_number: str | None = None

    def toml(self) -> str:
        lines = ["", "[[documents]]"]
        for key, value in vars(self).items():
            if value:
                lines.append(f"{key} = {toml_string(value)}")
        return "\n".join(lines) + "\n"


def toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def infer(text: str, source: str, title: str | None = None, region: str | None = None, kind: str | None = None,
          date: str | None = None, taken: set[str] = frozenset()) -> Entry:
    """The manifest entry for a document's text; every argument given overrides what is read."""
    head = [line.strip() for line in text.splitlines() if line.strip()][:HEAD_LINES]
    if not head:
        raise AddError(f"{source}: 文件没有文字内容 (the file has no text)")
    simplified = to_simplified("\n".join(head))
    first = to_simplified(head[0])
    if title is None:
        notice = NOTICE_TITLE.search(first)
        title = notice["title"] if notice else first.strip("　 ")
    if region is None:
        named = [china_places()[p] for p in places_named(to_simplified(title))]
        if not named:
            raise AddError(f"{source}: 标题“{title}”里没有地名，请用 --region 指定地区 (no region in the title; pass --region)")
        region = named[0]
    number = DOC_NUMBER.search(simplified)
    dated = DATE.search(simplified)
    if date is None and dated:
        date = f"{dated['y']}-{int(dated['m']):02d}-{int(dated['d']):02d}"
    found_kind = KIND.search(title)
    script = "traditional" if sum(a != b for a, b in zip(text, to_simplified(text))) > len(text) / 200 else "simplified"
    return Entry(id=new_id(region, title, taken), source=source, title=title, region=region, level=region[-1],
                 kind=kind or (found_kind.group(1) if found_kind else "方案"), script=script, date=date,
                 doc_number=number.group(0) if number else None)


def new_id(region: str, title: str, taken: set[str]) -> str:
    """A short readable slug: the region's pinyin initials and the title's (包头市…考评办法 → bt-szzfjs)."""
    from pypinyin import Style, lazy_pinyin

    def initials(text: str) -> str:
        return "".join(p[0] for p in lazy_pinyin(re.sub(r"[^\u4e00-\u9fff]", "", text), style=Style.FIRST_LETTER) if p)

    core = re.sub(r"\d{4}年", "", title.removeprefix(region))
    base = f"{initials(short_form(region))}-{initials(core)[:8] or 'doc'}"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def add_document(path: Path, corpus: Path, **given: str | None) -> Entry:
    """Copy `path` into the corpus (unless it is there), append its entry and return it; raises
    AddError, with the manifest and the corpus folder unchanged, when it cannot be loaded."""
    path = path.expanduser().resolve()
    if not path.is_file():
        raise AddError(f"{path}: 文件不存在 (no such file)")
    try:
        manifest = read_manifest(corpus)
    except ManifestError as exc:
        raise AddError(str(exc)) from None
    if any(e.get("source") == path.name for e in manifest):
        raise AddError(f"{path.name}: 清单中已有这个文件 (already in the manifest)")
    target = corpus / path.name
    if target.exists() and target.resolve() != path:
        raise AddError(f"{target}: 语料目录中已有同名的另一个文件 (another file of that name is in the corpus)")
    try:
        text, _ = decode(path.read_bytes())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AddError(f"{path}: 无法读取为文本 (cannot be read as text): {exc}") from None
    entry = infer(text, path.name, taken={e.get("id", "") for e in manifest}, **given)
    copied = target != path
    if copied:
        shutil.copyfile(path, target)
    manifest_path = corpus / "manifest.toml"
    before = manifest_path.read_text(encoding="utf-8")
    manifest_path.write_text(before.rstrip("\n") + "\n" + entry.toml(), encoding="utf-8")
    try:
        tomllib.loads(manifest_path.read_text(encoding="utf-8"))
        _, problems = load_corpus(corpus, doc_id=entry.id)
        fatal = [p for p in problems if p.fatal]
        if fatal:
            raise AddError("；".join(f"{p.source}: {p.message}" for p in fatal))
    except (AddError, ManifestError, tomllib.TOMLDecodeError) as exc:
        manifest_path.write_text(before, encoding="utf-8")
        if copied:
            target.unlink()
        raise AddError(str(exc)) from None
    return entry
