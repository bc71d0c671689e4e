"""Comparison helpers shared by the kernel tests."""

import jax
import jax.numpy as jnp
import numpy as np


def assert_close(got, want, rtol):
    """rtol relative to each array's largest entry (entries near 0 get the same slack)."""
    want = np.asarray(want, np.float64)
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=rtol,
                               atol=rtol * max(np.abs(want).max(), 1e-30))


def outputs_and_grads(fn, inputs, names, weights):
    """fn(inputs) and the gradients of sum(weights * fn(inputs)) w.r.t. inputs[name] for each
    of `names`, from one compilation.

    `fn` returns an array or a tuple of arrays; `weights` has the same structure (random, so
    every output entry contributes). Returns (outputs, {name: gradient}).
    """
    @jax.jit
    def value_and_grads(*values):
        def loss(*values):
            out = fn({**inputs, **dict(zip(names, values, strict=True))})
            terms = jax.tree.map(lambda w, o: jnp.sum(w * o), weights, out)
            return sum(jax.tree.leaves(terms)), out

        return jax.grad(loss, argnums=tuple(range(len(names))), has_aux=True)(*values)

    g, out = value_and_grads(*(inputs[k] for k in names))
    return out, dict(zip(names, g, strict=True))


def to_float32(inputs):
    """The same inputs in float32 (None entries kept)."""
    return {k: None if v is None else jnp.asarray(v, jnp.float32) for k, v in inputs.items()}


def assert_scan_matches(got, want, dtype, rtol, grad_rtol=None):
    """(y, h_L), grads against the reference's: dtypes kept, values within rtol."""
    (y, h), g = got
    (y_ref, h_ref), g_ref = want
    assert y.dtype == dtype and h.dtype == dtype
    assert_close(y, y_ref, rtol)
    assert_close(h, h_ref, rtol)
    if grad_rtol is not None:
        assert set(g) == set(g_ref)
        for k in g_ref:
            assert_close(g[k], g_ref[k], grad_rtol)
