"""Linear maps over the last axis of arrays with any leading axes."""


def dense(linear, x):
    """An `eqx.nn.Linear` applied to the last axis of x (any leading axes)."""
    y = x @ linear.weight.T
    return y if linear.bias is None else y + linear.bias
