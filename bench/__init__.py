"""The lab's measurement tools: how fast mtlab is, against what, and what each option costs.

Not part of the lab package: `import mtlab` never imports them, and a student needs none of
them. `python -m bench` prints the table (`make bench`; `make bench-peers` with the peers extra).
"""
