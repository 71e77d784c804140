"""Scores on dev, predictions in the course's file format, and the zip to hand in.

- `predictions`  `evaluate`, `run_model`, `write_predictions`, and the one-class warning
- `submission`   the course's prediction files: check them and zip them (`python -m mtlab submit`)
"""

from mtlab.evaluation.predictions import evaluate, one_class_warning, run_model, write_predictions

__all__ = ["evaluate", "one_class_warning", "run_model", "write_predictions"]
