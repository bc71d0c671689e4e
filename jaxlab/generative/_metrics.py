"""Distances between sample sets used by the generative experiments."""

import numpy as np


def histogram2d(samples, bins: int = 32, limits: tuple[float, float] = (-4.0, 4.0)):
    """Normalised 2-D histogram of `samples` `(n, 2)` on the square `limits`², and the fraction
    of samples outside it (discarded)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"histogram2d: samples must have shape (n, 2), got {x.shape}")
    edges = np.linspace(limits[0], limits[1], bins + 1)
    counts, _, _ = np.histogram2d(x[:, 0], x[:, 1], bins=[edges, edges])
    inside = counts.sum()
    if inside == 0:
        raise ValueError("histogram2d: no sample falls inside the limits")
    return counts.ravel() / inside, 1.0 - inside / x.shape[0]


def binned_w2(a, b, *, bins: int = 32, limits: tuple[float, float] = (-4.0, 4.0)) -> dict:
    """The 2-Wasserstein distance between the 2-D histograms of two sample sets, as Deveney
    et al. (2023) measure the ODE–SDE gap: `bins` × `bins` cells on `limits`², mass at the
    cell centres, squared Euclidean cost, exact optimal transport (POT's network simplex).
    Samples outside the square are discarded — state the protocol next to the numbers.

    **Returns:** `{"w2", "outside_a", "outside_b"}` (the discarded fractions).
    """
    import ot

    ha, out_a = histogram2d(a, bins, limits)
    hb, out_b = histogram2d(b, bins, limits)
    edges = np.linspace(limits[0], limits[1], bins + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    gx, gy = np.meshgrid(centres, centres, indexing="ij")
    points = np.stack([gx.ravel(), gy.ravel()], 1)
    ia, ib = np.nonzero(ha)[0], np.nonzero(hb)[0]
    cost = ot.dist(points[ia], points[ib])
    value = ot.emd2(ha[ia], hb[ib], cost, numItermax=10**7)
    return {"w2": float(np.sqrt(max(value, 0.0))), "outside_a": float(out_a),
            "outside_b": float(out_b)}
