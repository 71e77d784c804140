"""Course-data results committed under results/, to show next to the sample's.

The notebooks run on mtlab's small sample under test, but their prose also speaks of the course
data. Those numbers come from real runs whose small results (a JSON file and the exact command in
COMMAND.md, no course rows) are committed in results/NAME/; a notebook cell loads and shows them,
and tests/test_artifact_numbers.py checks every number the prose cites against its file.

Introduced in notebook 02.
"""

from __future__ import annotations

import json
from pathlib import Path

# results/ of the repository, found from this file so that a copied notebook finds it too
RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"


def load_results(name: str) -> dict:
    """results/NAME/results.json as a dict, or an error saying which run and command are missing."""
    path = RESULTS_DIR / name / "results.json"
    if not path.is_file():
        known = sorted(p.parent.name for p in RESULTS_DIR.glob("*/results.json"))
        raise FileNotFoundError(
            f"no course-data results {path}: they come with the repository (a pip-installed mtlab "
            f"has none). Known here: {', '.join(known) or 'none'}. results/{name}/COMMAND.md, "
            "where it exists, says how to make them."
        )
    return json.loads(path.read_text())
