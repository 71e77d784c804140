"""Under `pytest --nbval notebooks/` the notebooks run in the fast profile.

The kernels nbval starts inherit this process's environment, so setting MTLAB_FAST here
gives them mtlab's sample data and tiny settings, as `make test-notebooks` always did.
Opened in JupyterLab, where this file plays no part, the notebooks use the full profile.
Set MTLAB_FAST=0 before pytest to run them under nbval in the full profile instead.
"""

import os

os.environ.setdefault("MTLAB_FAST", "1")
