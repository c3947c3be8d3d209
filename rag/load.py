"""Read the corpus: the manifest and the document files it names.

A broken entry must not take the others down: each problem is reported with the file it
concerns, and every readable document is still returned.
"""
from __future__ import annotations

import os
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED_KEYS = ("id", "source", "title", "region", "level", "kind")


class ManifestError(Exception):
    """The manifest itself cannot be read: nothing in the corpus can be trusted."""


@dataclass(frozen=True)
class Annex:
    number: int
    title: str
    same_as: str | None = None


@dataclass
class Document:
    """One plan document: manifest metadata plus its decoded text."""

    id: str
    source: str
    title: str
    region: str
    level: str
    kind: str
    script: str = "simplified"
    date: str | None = None
    doc_number: str | None = None
    issuer: str | None = None
    same_as: str | None = None
    annexes: list[Annex] = field(default_factory=list)
    text: str = ""
    encoding: str = "utf-8"


@dataclass(frozen=True)
class Problem:
    """A document that could not be loaded (or loaded with a caveat), and why."""

    source: str
    message: str
    fatal: bool = True


def max_document_bytes() -> int:
    """The largest document file read (RAG_MAX_DOC_MB, default 20): a plan is a few hundred KB; a
    file far larger is a mistake (a scan, a dump) that would cost minutes and gigabytes to parse."""
    return int(float(os.environ.get("RAG_MAX_DOC_MB") or 20) * 2**20)


def read_manifest(corpus: Path) -> list[dict]:
    path = corpus / "manifest.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: 找不到清单文件 (manifest not found)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: 清单格式错误 (broken manifest): {exc}") from None
    entries = data.get("documents")
    if not isinstance(entries, list):
        raise ManifestError(f"{path}: 清单缺少 [[documents]] 表 (no [[documents]] tables)")
    return entries


def decode(raw: bytes) -> tuple[str, str]:
    """UTF-8, else GB18030 (the usual encoding of Chinese government files); raises
    UnicodeDecodeError if neither gives text. GB18030 maps almost any bytes to some character, so
    a decoding full of private-use, unassigned or control characters (a binary file, Big5 read
    as GB18030) is refused rather than indexed as mojibake."""
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    odd = sum(unicodedata.category(ch) in ("Co", "Cn", "Cs") or (unicodedata.category(ch) == "Cc" and ch not in "\r\n\t")
              for ch in text)
    if odd > max(2, len(text) // 1000):
        raise UnicodeDecodeError("gb18030", raw, 0, len(raw), f"{odd} 个私用区、未分配或控制字符 (private-use or unassigned)")
    return text, "gb18030"


def _document(entry: dict, corpus: Path) -> tuple[Document | None, Problem | None]:
    source = str(entry.get("source", "?"))
    missing = [key for key in REQUIRED_KEYS if not entry.get(key)]
    if missing:
        return None, Problem(source, f"清单条目缺少字段 (manifest entry lacks): {', '.join(missing)}")
    path = (corpus / source).resolve()
    if not path.is_relative_to(corpus.resolve()):
        return None, Problem(source, f"文档 {entry['id']} 的 source 指向语料文件夹之外，已拒绝读取 "
                                     f"(source must be a file inside the corpus folder)")
    try:
        size = path.stat().st_size
        if size > max_document_bytes():
            return None, Problem(source, f"文件过大（{size / 2**20:.1f} MB，上限 {max_document_bytes() / 2**20:.0f} MB，"
                                         f"可用 RAG_MAX_DOC_MB 调整）(file too large)")
        raw = path.read_bytes()
    except OSError as exc:
        return None, Problem(source, f"无法读取文件 (cannot read file): {exc.strerror or exc}")
    if not raw.strip():
        return None, Problem(source, "文件为空 (empty file)")
    try:
        text, encoding = decode(raw)
    except UnicodeDecodeError:
        return None, Problem(source, "文件既不是 UTF-8 也不是 GB18030 编码 (not UTF-8 or GB18030)")
    try:
        annexes = [Annex(int(a["number"]), str(a["title"]), a.get("same_as")) for a in entry.get("annexes", [])]
    except (KeyError, TypeError, ValueError) as exc:
        return None, Problem(source, f"清单中的附件条目不完整 (annex entry lacks number/title): {exc}")
    fields = {k: str(entry[k]) for k in Document.__dataclass_fields__ if k in entry and k != "annexes"}
    document = Document(**fields, annexes=annexes, text=text, encoding=encoding)
    if encoding != "utf-8":
        return document, Problem(source, "不是 UTF-8，已按 GB18030 读取 (read as GB18030)", fatal=False)
    return document, None


def load_corpus(corpus: Path, doc_id: str | None = None) -> tuple[list[Document], list[Problem]]:
    """All documents of the manifest (or only `doc_id`), and the problems met on the way."""
    documents, problems, seen = [], [], {}
    for entry in read_manifest(corpus):
        if doc_id and entry.get("id") != doc_id:
            continue
        key = str(entry.get("id") or "")
        if key and key in seen:
            problems.append(Problem(str(entry.get("source", "?")),
                                    f"文档 id {key} 重复，已被 {seen[key]} 使用；每个文档的 id 必须唯一 (duplicate document id)"))
            continue
        if key:
            seen[key] = str(entry.get("source", "?"))
        document, problem = _document(entry, corpus)
        if document:
            documents.append(document)
        if problem:
            problems.append(problem)
    return documents, problems
