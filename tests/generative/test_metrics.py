"""The binned W2 of the Fokker–Planck experiment against an exact linear program."""

import numpy as np
import pytest
from scipy.optimize import linprog

from jaxlab import generative as gen


def _linprog_w2(a, b, bins, limits):
    ha, _ = gen._metrics.histogram2d(a, bins, limits)
    hb, _ = gen._metrics.histogram2d(b, bins, limits)
    edges = np.linspace(*limits, bins + 1)
    c = 0.5 * (edges[:-1] + edges[1:])
    pts = np.stack(np.meshgrid(c, c, indexing="ij"), -1).reshape(-1, 2)
    cost = ((pts[:, None] - pts[None]) ** 2).sum(-1)
    n = len(ha)
    rows = np.zeros((2 * n, n * n))
    for i in range(n):
        rows[i, i * n:(i + 1) * n] = 1      # row sums = ha
        rows[n + i, i::n] = 1               # column sums = hb
    res = linprog(cost.ravel(), A_eq=rows[:-1], b_eq=np.concatenate([ha, hb])[:-1],
                  bounds=(0, None), method="highs")
    assert res.status == 0
    return np.sqrt(res.fun)


def test_binned_w2_is_the_exact_transport_cost():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3000, 2))
    b = rng.normal(size=(3000, 2)) * 1.3 + [0.5, -0.2]
    out = gen.binned_w2(a, b, bins=6, limits=(-3.0, 3.0))
    np.testing.assert_allclose(out["w2"], _linprog_w2(a, b, 6, (-3.0, 3.0)), rtol=1e-8)
    assert 0 < out["outside_b"] < 0.2 and out["outside_a"] < out["outside_b"]
    # a translation by one cell moves all mass by one cell width
    grid = np.repeat(rng.uniform(-2, 1, size=(500, 2)), 2, axis=0)
    shifted = gen.binned_w2(grid, grid + np.array([1.0, 0.0]), bins=6, limits=(-3.0, 3.0))
    assert shifted["w2"] == pytest.approx(1.0, abs=0.05)
    assert gen.binned_w2(a, a)["w2"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        gen.binned_w2(a[:, :1], b)
