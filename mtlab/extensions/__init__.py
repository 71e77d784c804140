"""The CS224N extensions beyond the default run, each off unless asked for.

- `surgery`           combine the tasks' encoder gradients with torchjd (PCGrad, UPGrad, ...)
- `smart`             SMART: a penalty for outputs that jump under small input perturbations
- `further_pretrain`  a masked-LM pass on the tasks' sentences, saved as an encoder folder
"""
