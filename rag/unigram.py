"""e5's tokenizer (XLM-R's sentencepiece unigram model) in a seventh of the memory `tokenizers` needs.

`tokenizers.Tokenizer.from_file` builds a byte trie of the 250,002 pieces that keeps ~280 MB
resident for the life of the process: two fifths of the serving app. Here the pieces are one
dict (~40 MB). The normaliser and the pre-tokeniser are still `tokenizers`' own, built from the
same tokenizer.json, so their rules cannot drift; this module does only what it must: split off
the special tokens, find each word's best segmentation, add `<s>` … `</s>` and truncate.

The segmentation follows `Unigram::encode_optimized` of tokenizers (the Viterbi search of
sentencepiece): the same candidates in the same order, the same strict comparison of float64
scores, an unknown character scored min_score - 10 and runs of unknowns fused into one token.
The ids are therefore the ones `tokenizers` gives, and so are the vectors
(tests/test_unigram.py compares both on the corpus, the eval questions and hostile text).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

UNKNOWN_PENALTY = 10.0  # tokenizers' K_UNK_PENALTY


class UnigramTokenizer:
    """Token ids of texts as `Tokenizer.from_file(path)` with `enable_truncation(max_length)` gives."""

    def __init__(self, path: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        data = json.loads(Path(path).read_text(encoding="utf-8"))
        model = data["model"]
        if model.get("type") != "Unigram" or model.get("byte_fallback"):
            raise ValueError(f"{path}: not a unigram tokenizer without byte fallback")
        self._ids: dict[str, int] = {}
        self._scores: list[float] = []
        for i, (piece, score) in enumerate(model["vocab"]):
            self._ids[piece] = i  # a repeated piece keeps its last id, as tokenizers' map does
            self._scores.append(float(score))
        self._unk_id = int(model["unk_id"])
        self._unk_score = min(self._scores) - UNKNOWN_PENALTY
        self._longest: dict[str, int] = {}  # per first character, the longest piece starting with it
        for piece in self._ids:
            if piece and len(piece) > self._longest.get(piece[0], 0):
                self._longest[piece[0]] = len(piece)

        added = data.get("added_tokens") or []
        if any(t["normalized"] or t["lstrip"] or t["rstrip"] or t["single_word"] for t in added):
            raise ValueError(f"{path}: added tokens with matching options this tokenizer does not implement")
        self._added = {t["content"]: int(t["id"]) for t in added}
        # Longest first: at one position the longest special token wins, as in tokenizers' matcher.
        self._added_pattern = re.compile("|".join(map(re.escape, sorted(self._added, key=len, reverse=True))))
        self._prefix, self._suffix = _template(data.get("post_processor"))
        self._keep = max_length - len(self._prefix) - len(self._suffix)

        # The library's own normaliser and pre-tokeniser, from this file, around a one-piece model.
        shell = dict(data, model={"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]]},
                     added_tokens=[], post_processor=None, truncation=None, padding=None)
        tokenizer = Tokenizer.from_str(json.dumps(shell))
        self._normalizer = tokenizer.normalizer
        self._pre_tokenizer = tokenizer.pre_tokenizer

    def truncated(self, ids: list[int], max_length: int) -> list[int]:
        """`ids` (an encoding) cut to `max_length` the way `encode` truncates: the closing tokens kept."""
        if len(ids) <= max_length:
            return ids
        return ids[: max_length - len(self._suffix)] + self._suffix

    def token_to_id(self, token: str) -> int | None:
        return self._added.get(token, self._ids.get(token))

    def encode_batch(self, texts: Iterable[str]) -> list[list[int]]:
        return [self.encode(text) for text in texts]

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        start = 0
        if self._added:
            for match in self._added_pattern.finditer(text):
                ids += self._encode_plain(text[start : match.start()])
                ids.append(self._added[match.group()])
                start = match.end()
        ids += self._encode_plain(text[start:])
        return self._prefix + ids[: self._keep] + self._suffix

    def _encode_plain(self, text: str) -> list[int]:
        if not text:
            return []
        normalized = text if self._normalizer is None else self._normalizer.normalize_str(text)
        words = [(normalized, None)] if self._pre_tokenizer is None else self._pre_tokenizer.pre_tokenize_str(normalized)
        ids: list[int] = []
        for word, _ in words:
            ids += self._segment(word)
        return ids

    def _segment(self, text: str) -> list[int]:
        """The best-scoring split of `text` into pieces (tokenizers' `encode_optimized`)."""
        n = len(text)
        if n == 0:
            return []
        ids, scores, longest = self._ids, self._scores, self._longest
        best_score = [0.0] * (n + 1)
        best_start = [-1] * (n + 1)
        best_id = [0] * (n + 1)
        for start in range(n):
            base = best_score[start]
            single = False
            for end in range(start + 1, min(n, start + longest.get(text[start], 0)) + 1):
                i = ids.get(text[start:end])
                if i is None:
                    continue
                single = single or end == start + 1
                candidate = scores[i] + base
                if best_start[end] < 0 or candidate > best_score[end]:
                    best_score[end], best_start[end], best_id[end] = candidate, start, i
            if not single:
                candidate = self._unk_score + base
                if best_start[start + 1] < 0 or candidate > best_score[start + 1]:
                    best_score[start + 1], best_start[start + 1], best_id[start + 1] = candidate, start, self._unk_id
        pieces: list[str] = []
        unknown: list[str] = []  # a run of unknown characters, read backwards, becomes one token
        end = n
        while end > 0:
            start = best_start[end]
            if best_id[end] == self._unk_id:
                unknown.append(text[start:end])
            else:
                if unknown:
                    pieces.append("".join(reversed(unknown)))
                    unknown = []
                pieces.append(text[start:end])
            end = start
        if unknown:
            pieces.append("".join(reversed(unknown)))
        return [ids.get(piece, self._unk_id) for piece in reversed(pieces)]


def _template(processor: dict | None) -> tuple[list[int], list[int]]:
    """The special-token ids a TemplateProcessing post-processor puts before and after one sequence."""
    if not processor:
        return [], []
    if processor.get("type") != "TemplateProcessing":
        raise ValueError(f"post-processor {processor.get('type')} is not implemented")
    before: list[int] = []
    after: list[int] = []
    seen_sequence = False
    for part in processor["single"]:
        if "Sequence" in part:
            seen_sequence = True
        else:
            ids = processor["special_tokens"][part["SpecialToken"]["id"]]["ids"]
            (after if seen_sequence else before).extend(int(i) for i in ids)
    return before, after
