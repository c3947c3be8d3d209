"""The shape of the package: small modules and no import circle (read with `ast`, no imports run)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rag"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """The project modules `path` imports anywhere in it (a lazy import inside a function counts)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {n for n in names if n in modules}
    return found


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imports(path, set(paths)) - {name} for name, path in paths.items()}


def test_no_module_is_over_400_lines():
    sizes = {str(p.relative_to(PACKAGE.parent)): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {p: n for p, n in sizes.items() if n > MAX_LINES} == {}


def test_no_import_circle():
    edges = graph()
    state: dict[str, str] = {}
    circle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                circle.extend(trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt])
                return True
            if nxt not in state and visit(nxt, trail + [nxt]):
                return True
        state[node] = "done"
        return False

    for start in sorted(edges):
        if start not in state and visit(start, [start]):
            break
    assert not circle, " → ".join(circle)


@pytest.mark.parametrize("module", ["rag.llm", "rag.llm_backends"])
def test_the_llm_layer_reads_only_the_answer_types(module):
    edges = graph()
    assert not {m for m in edges[module] if m.startswith("rag.answer") and m != "rag.answer.types"}


def string_constants(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module, its docstrings left out (examples in prose are fine)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_code_names_a_place_or_plan_of_the_seed_corpus(parsed_corpus):
    """Knowledge of the corpus comes from the manifest and the text at ingest, never from code."""
    from rag.gazetteer import pinyin_forms

    store = parsed_corpus[2]
    places = set(store.gazetteer.place_names) | set(store.gazetteer.regions) | set(store.gazetteer.reported)
    names = places | {p for place in places for p in pinyin_forms(place)}
    # A plan's own name: its title without the region and the words every plan title uses.
    generic = re.compile(r"打好|发展|工作|实施|总体|方案|行动|专报|责任|分解表|安全生产|建设|[“”（）()0-9第年期]")
    names |= {core for _, _, title, region in store.plans
              if len(core := generic.sub("", title.removeprefix(region))) >= 2}
    found = [f"{path.relative_to(PACKAGE.parent)}:{line}: {name}" for path in sorted(PACKAGE.rglob("*.py"))
             for line, text in string_constants(path) for name in names if name.lower() in text.lower()]
    assert not found, "\n".join(found)
