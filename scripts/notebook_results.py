"""Run a notebook on the course data (its full profile) and keep the numbers its prose quotes.

    MTLAB_DATA_DIR=../shared/data python scripts/notebook_results.py notebooks/02_sentiment_head.ipynb

The committed notebooks show the fast profile on mtlab's sample; their prose also quotes what
the same cells give on the course data. This script executes the notebook as a student would
with the course data (MTLAB_FAST unset), and after each cell listed in RECORDS evaluates the
listed expressions in the notebook's own kernel. It writes them to
results/notebook-NN/results.json with the machine and the time taken; the notebook shows that
file next to the sample's result, and its prose cites it key by key (tests/test_artifact_numbers.py).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from mtlab.runtime import describe_cpu

# notebook -> [(a line that starts exactly one code cell, {key: expression evaluated after it})]
RECORDS = {
    "01_data.ipynb": [
        (
            'for task in ("sst", "quora"):',
            {
                "dev_label_shares": (
                    '{task: {str(int(label)): share for label, share in dev[task]["label"]'
                    '.value_counts(normalize=True).items()} for task in ("sst", "quora")}'
                )
            },
        ),
        ("summary = pd.DataFrame(", {"train_lengths": "summary.to_dict()"}),
    ],
    "02_sentiment_head.ipynb": [
        ("scores = pd.DataFrame(", {"frozen_heads": "scores.to_dict()"}),
        (
            "finetuned = copy.deepcopy(model).set_mode",
            {
                "frozen_dev": 'evaluate(model, {"sst": sst_dev})["sst"]',
                "finetuned_random_rows_dev": 'evaluate(finetuned, {"sst": sst_dev})["sst"]',
                # the same finetune on the file's first rows instead of random ones (cell 32)
                "finetuned_first_rows_dev": (
                    '(lambda m: (train(m, {"sst": subsets[f"first {finetune_rows} rows"]}, '
                    "TrainConfig(epochs=1, lr=3e-5, batch_size=16), progress=False), "
                    'evaluate(m, {"sst": sst_dev})["sst"])[1])'
                    '(copy.deepcopy(model).set_mode("finetune"))'
                ),
                "first_rows_label_shares": 'label_shares.T.to_dict(orient="index")',
            },
        ),
        (
            "for name, rows in predictions.items():",
            {
                "confusion": (
                    "{name: {"
                    '"off_by_one_share_of_errors": float(((r["prediction"] - r["label"]).abs() == 1)'
                    '.sum() / ((r["prediction"] - r["label"]).abs() > 0).sum()), '
                    '"rows": {f"true{i}": {f"predicted{j}": float(matrices[name].loc[i, j]) '
                    "for j in range(5)} for i in range(5)}} "
                    "for name, r in predictions.items()}"
                ),
            },
        ),
        ("comparison = pd.DataFrame(", {"this_run": 'comparison["this run"].to_dict()'}),
    ],
    "03_paraphrase_head.ipynb": [
        (
            "VARIANTS = (",
            {
                "heads": 'summary.to_dict(orient="index")',
                "linear_predicted_1_share": 'float((predictions["linear"] == 1).mean())',
            },
        ),
        (
            "RATES = (",
            {
                "dropout": (
                    '{f"rate{r}".replace(".", "_"): {"mean": float(runs.loc[r].mean()), '
                    '"spread": float(runs.loc[r].max() - runs.loc[r].min())} for r in RATES}'
                )
            },
        ),
        ("cross = fit(", {"cross": "dev_accuracy(cross)"}),
        (
            "SIZES = ",
            {
                "curve": (
                    '{f"{head}_{size}": {"min": float(g.min()), "max": float(g.max()), '
                    '"mean": float(g.mean())} for (size, head), g in '
                    'curve.groupby(["training pairs", "head"])["dev accuracy"]}'
                )
            },
        ),
    ],
}


def anchored_cells(nb, notebook: str) -> dict[int, dict[str, str]]:
    """Cell index -> expressions, each anchor matching exactly one code cell's first lines."""
    found = {}
    for anchor, expressions in RECORDS[notebook]:
        matches = [
            i
            for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code"
            and any(line.startswith(anchor) for line in cell.source.splitlines())
        ]
        if len(matches) != 1:
            raise SystemExit(f"{notebook}: {len(matches)} code cells have a line starting "
                             f"{anchor!r}; expected exactly one: update RECORDS")  # fmt: skip
        found[matches[0]] = expressions
    return found


def evaluate_in_kernel(client: NotebookClient, expression: str, index: int):
    """The JSON value of `expression` in the notebook's kernel, as it stands after cell `index`."""
    # fork_rng: a record that trains (02's first-rows finetune) leaves later cells' randomness alone
    probe = nbformat.v4.new_code_cell(
        "import json as _json, torch as _torch\nwith _torch.random.fork_rng():\n"
        f"    print(_json.dumps({expression}, default=float))"
    )
    client.execute_cell(probe, index)
    text = "".join(o.get("text", "") for o in probe.outputs if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--out", type=Path, help="default: results/notebook-NN/")
    args = parser.parse_args(argv)
    if os.environ.get("MTLAB_FAST") == "1" or not os.environ.get("MTLAB_DATA_DIR"):
        raise SystemExit("set MTLAB_DATA_DIR to the course data and leave MTLAB_FAST unset")
    if args.notebook.name not in RECORDS:
        raise SystemExit(f"no RECORDS for {args.notebook.name}; known: {', '.join(RECORDS)}")
    out = args.out or Path("results") / f"notebook-{args.notebook.name[:2]}"
    nb = nbformat.read(args.notebook, as_version=4)
    wanted = anchored_cells(nb, args.notebook.name)
    client = NotebookClient(nb, timeout=None, resources={"metadata": {"path": str(args.notebook.parent)}})  # fmt: skip
    results, started = {}, time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            print(f"cell {index} ({time.perf_counter() - started:.0f} s)", flush=True)
            client.execute_cell(cell, index)
            for key, expression in wanted.get(index, {}).items():
                results[key] = evaluate_in_kernel(client, expression, index)
    results["machine"] = describe_cpu()
    results["seconds"] = round(time.perf_counter() - started)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out / 'results.json'} in {results['seconds']} s")


if __name__ == "__main__":
    main()
