"""Where questions point: the regions of the corpus, their places, and how a question names them.

Retrieval turns the places a question names into region filters, the answer layer checks
them against the corpus, and the comparison table strips them from its aspect cell; all three
read them here. (Issue 11 derives these names from the manifest and the parsed text.)
"""
from __future__ import annotations

import re

from rag.clean import to_simplified
from rag.glossary import PLACES

REGION_NAMES = {
    "平江县": ("平江",),
    "沅江市": ("沅江",),
    "永州市": ("永州", "冷水滩", "零陵", "祁阳", "东安", "双牌", "道县", "江华", "江永", "宁远", "新田", "蓝山",
            "金洞", "回龙圩"),
}
PLACE_NAMES = sorted((n for names in REGION_NAMES.values() for n in names), key=len, reverse=True)
# A clause titled by a place (【县市区动态】宁远县) is that place's row.
PLACE_TITLE = re.compile(r"[\u4e00-\u9fff]{1,6}(?:县|区|市)")


def regions_in(question: str) -> list[str]:
    """Regions a question names, in simplified script or pinyin."""
    simplified = to_simplified(question)
    lowered = question.lower()
    found = [region for region, names in REGION_NAMES.items() if any(n in simplified for n in names)]
    named = [chinese for pinyin, chinese in PLACES.items() if re.search(rf"\b{pinyin}\b", lowered)]
    found += [region for region, names in REGION_NAMES.items()
              if region not in found and any(n in c for c in named for n in names)]
    return found


def without_places(text: str, filler: str = "") -> str:
    """`text` with the corpus's place names (平江县, 沅江, 宁远…) replaced by `filler`."""
    for name in PLACE_NAMES:
        text = text.replace(name + "县", filler).replace(name + "市", filler).replace(name, filler)
    return text
