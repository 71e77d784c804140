"""Tools to see inside a model and its training, beside the chain from data to scores.

- `gradients`     trace a loss back to the parameters; who got a gradient
- `graph_breaks`  find where a forward pass leaves the autograd graph
- `checks`        check a head on random vectors before training it
- `interference`  how much the tasks' gradients agree
- `plots`         the history, the comparison, a live loss plot
- `widgets`       interactive tools for the notebooks (trace stepper, prediction explorer)
"""
