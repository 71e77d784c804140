"""Course-data numbers in prose come from artifacts: each marked number matches its file.

A number measured on the course data is written in markdown as a link to the artifact and the
key it comes from: `[0.435](../results/minilm-full/results.json "metrics.pretrain.sst")`. This
test finds every such link in the notebooks, the READMEs and the answers (notebooks/answers/*.md,
which link `../../results/...`) and checks the number against the file, rounded to the digits
the prose shows. Change a number in the prose, and this test fails.
"""

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parents[1]
MARKER = re.compile(r'\[([-+]?\d+(?:\.\d+)?)\]\(((?:\.\./)*results/[^ )]+\.json) "([^"]+)"\)')


def markdown_sources() -> list[tuple[str, Path, str]]:
    """(where, folder links are relative to, markdown text): notebook cells, READMEs, answers."""
    sources = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "markdown":
                sources.append((f"{path.name} cell {index}", path.parent, cell.source))
    pages = [ROOT / "README.md", ROOT / "notebooks" / "README.md", ROOT / "results" / "README.md"]
    answers = sorted((ROOT / "notebooks" / "answers").glob("*.md"))
    for readme in pages + sorted((ROOT / "docs").glob("*.md")) + answers:
        sources.append((str(readme.relative_to(ROOT)), readme.parent, readme.read_text()))
    return sources


MARKED = [(where, folder, *match.groups()) for where, folder, text in markdown_sources()
          for match in MARKER.finditer(text)]  # fmt: skip


def lookup(data, key: str):
    """data["a"]["b"] for "a.b"; a key that itself holds dots ("dropout 0.3") matches whole."""
    parts, start = key.split("."), 0
    while start < len(parts):
        if isinstance(data, list):  # a table's rows: "table.3.mtlab"
            data, start = data[int(parts[start])], start + 1
            continue
        for end in range(len(parts), start, -1):  # the longest key that exists wins
            if ".".join(parts[start:end]) in data:
                data, start = data[".".join(parts[start:end])], end
                break
        else:
            raise KeyError(f"{key!r}: no {parts[start]!r} at this level")
    return data


def check(number: str, folder: Path, path: str, key: str) -> None:
    value = lookup(json.loads((folder / path).read_text()), key)
    decimals = len(number.split(".")[1]) if "." in number else 0
    assert round(float(value), decimals) == float(number), f"{path} {key} is {value}"


@pytest.mark.parametrize("where, folder, number, path, key", MARKED, ids=[m[0] for m in MARKED])
def test_each_marked_number_matches_its_artifact(where, folder, number, path, key):
    check(number, folder, path, key)


def test_there_are_marked_numbers_and_a_changed_one_fails():
    assert len(MARKED) >= 9
    where, folder, number, path, key = MARKED[0]
    decimals = len(number.split(".")[1]) if "." in number else 0
    changed = f"{float(number) + 10**-decimals:.{decimals}f}"  # one unit of the last digit shown
    with pytest.raises(AssertionError):
        check(changed, folder, path, key)


def test_keys_with_dots_are_found_whole():
    data = {"mean": {"dropout 0.3": {"sst best": 0.45}}, "a": {"b": 1}}
    assert lookup(data, "mean.dropout 0.3.sst best") == 0.45
    assert lookup(data, "a.b") == 1
    assert lookup({"table": [{"x": 1}, {"x": 2}]}, "table.1.x") == 2
    with pytest.raises(KeyError):
        lookup(data, "mean.dropout 0.5.sst best")


def test_load_results_reads_a_committed_artifact_and_names_what_is_missing():
    from mtlab.artifacts import load_results

    assert load_results("minilm-full")["metrics"]["pretrain"]["sst"] == pytest.approx(
        0.435, abs=5e-4
    )
    with pytest.raises(FileNotFoundError, match="Known here: .*minilm-full"):
        load_results("no-such-run")


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_no_markdown_wall(path):
    """Short markdown next to the cell it explains: no markdown cell longer than 12 lines."""
    cells = nbformat.read(path, as_version=4).cells
    walls = [f"cell {index}: {len(cell.source.splitlines())} lines"
             for index, cell in enumerate(cells)
             if cell.cell_type == "markdown" and len(cell.source.splitlines()) > 12]  # fmt: skip
    assert not walls, f"{path.name}: split these next to the cells they explain: {walls}"
