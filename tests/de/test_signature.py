"""Path signatures against a brute-force sum of iterated integrals, the tensor exponential,
Chen's identity and the expected signature of Brownian motion; the signature MMD against
explicit kernel sums."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab import de


def _brute_force_level(points, k):
    # Level k of the piecewise-linear path through `points`: the iterated integral over
    # s₁ < … < s_k splits by the segments i₁ ≤ … ≤ i_k the s's fall in; r of them in one
    # segment cover a simplex of volume 1/r! of its parameter cube.
    deltas = np.diff(points, axis=0)
    c = deltas.shape[1]
    out = np.zeros((c,) * k)
    for word in itertools.product(range(c), repeat=k):
        total = 0.0
        for segs in itertools.combinations_with_replacement(range(len(deltas)), k):
            term = np.prod([deltas[s, w] for s, w in zip(segs, word, strict=True)])
            for _, run in itertools.groupby(segs):
                term /= math.factorial(len(list(run)))
            total += term
        out[word] = total
    return out


def test_signature_equals_brute_force_iterated_integrals(float64):
    points = np.random.default_rng(0).normal(size=(5, 2))
    levels = de.signature(points, 4, flatten=False)
    for k in range(1, 5):
        np.testing.assert_allclose(levels[k - 1], _brute_force_level(points, k), rtol=1e-12,
                                   atol=1e-14)
    flat = de.signature(points, 4)
    assert flat.shape == (de.signature_size(2, 4),) == (30,)
    np.testing.assert_array_equal(flat, np.concatenate([np.ravel(x) for x in levels]))


def test_straight_path_is_the_tensor_exponential_and_chen_holds(float64):
    rng = np.random.default_rng(1)
    delta = rng.normal(size=3)
    times = np.sort(np.concatenate([[0.0, 1.0], rng.uniform(size=4)]))
    straight = de.signature(times[:, None] * delta, 3, flatten=False)
    power = np.ones(())
    for k in range(1, 4):
        power = np.multiply.outer(power, delta)
        np.testing.assert_allclose(straight[k - 1], power / math.factorial(k), rtol=1e-12)
    # Chen: S(x * y) = S(x) ⊗ S(y), level n = Σ_{i+j=n} S_i(x) ⊗ S_j(y)
    x = rng.normal(size=(4, 3))
    y = x[-1] + np.cumsum(np.concatenate([np.zeros((1, 3)), rng.normal(size=(4, 3))]), 0)
    sx, sy = ([np.ones(()), *de.signature(p, 3, flatten=False)] for p in (x, y))
    sxy = de.signature(np.concatenate([x, y[1:]]), 3, flatten=False)
    for n in range(1, 4):
        expected = sum(np.multiply.outer(sx[i], sy[n - i]) for i in range(n + 1))
        np.testing.assert_allclose(sxy[n - 1], expected, rtol=1e-10, atol=1e-12)


def test_expected_signature_of_brownian_motion(float64):
    # Stratonovich (piecewise-linear) Brownian motion on [0, T]: E S = exp(T/2 Σ eᵢ⊗eᵢ), so
    # level 2 = T/2 I, level 4 = T²/8 Σ eᵢ⊗eᵢ⊗eⱼ⊗eⱼ, odd levels 0.
    n, steps, horizon = 4000, 32, 1.0
    increments = jax.random.normal(jax.random.key(0), (n, steps, 2)) * np.sqrt(horizon / steps)
    paths = jnp.concatenate([jnp.zeros((n, 1, 2)), jnp.cumsum(increments, 1)], 1)
    sigs = np.asarray(jax.jit(jax.vmap(lambda p: de.signature(p, 4)))(paths))
    mean, err = sigs.mean(0), 5 * sigs.std(0) / np.sqrt(n)
    eye = np.eye(2)
    expected = np.concatenate([np.zeros(2), (horizon / 2 * eye).ravel(), np.zeros(8),
                               (horizon**2 / 8 * np.einsum("ij,kl->ijkl", eye, eye)).ravel()])
    assert np.all(np.abs(mean - expected) <= err + 1e-12), np.max(np.abs(mean - expected) / err)


def test_signature_mmd_against_explicit_kernel_sums(float64):
    rng = np.random.default_rng(2)
    x = np.cumsum(rng.normal(size=(6, 5, 2)) * 0.5, 1)
    y = np.cumsum(rng.normal(size=(4, 7, 2)) * 0.5 + 0.1, 1)
    sx = np.stack([de.signature(p, 3) for p in x])
    sy = np.stack([de.signature(p, 3) for p in y])
    kxx, kyy, kxy = sx @ sx.T, sy @ sy.T, sx @ sy.T
    biased = kxx.mean() + kyy.mean() - 2 * kxy.mean()
    unbiased = ((kxx.sum() - np.trace(kxx)) / 30 + (kyy.sum() - np.trace(kyy)) / 12
                - 2 * kxy.mean())
    np.testing.assert_allclose(de.signature_mmd(x, y, 3), biased, rtol=1e-10)
    np.testing.assert_allclose(de.signature_mmd(x, y, 3, unbiased=True), unbiased, rtol=1e-10)
    assert float(de.signature_mmd(x, x, 3)) == pytest.approx(0.0, abs=1e-20)
    grad = jax.grad(lambda z: de.signature_mmd(z, y, 3))(jnp.asarray(x))
    assert grad.shape == x.shape and np.all(np.isfinite(grad)) and np.any(grad != 0)


def test_integer_paths_are_promoted(float64):
    # integer paths (promoted) under jit and vmap, against the brute-force iterated integrals
    # of the same points as floats
    rng = np.random.default_rng(3)
    paths = rng.integers(-3, 4, size=(3, 4, 2))
    got = jax.jit(jax.vmap(lambda p: de.signature(p, 2, flatten=False)))(paths)
    assert got[0].dtype == got[1].dtype == jnp.float64
    for k in (1, 2):
        for i in range(3):
            np.testing.assert_allclose(got[k - 1][i], _brute_force_level(paths[i] * 1.0, k),
                                       rtol=1e-12, atol=1e-12)
    assert de.signature_size(2, 2) == 6


def test_signature_bad_input(user_errors):
    with pytest.raises(ValueError, match=r"signature: path must be of shape \(L, c\).*got shape "
                                         r"\(1, 2\)"):
        de.signature(np.zeros((1, 2)), 2)
    with pytest.raises(ValueError, match="signature: depth must be a positive int, got 0"):
        de.signature(np.zeros((3, 2)), 0)
    with pytest.raises(TypeError, match=r"signature: depth must be a positive int, got 2.0"):
        de.signature(np.zeros((3, 2)), 2.0)
    with pytest.raises(TypeError, match="signature: path must be real"):
        de.signature(np.zeros((3, 2), complex), 2)
    with pytest.raises(ValueError, match=r"signature_mmd: x must be paths of shape \(n, L, c\)"
                                         r".*got shape \(3, 2\)"):
        de.signature_mmd(np.zeros((3, 2)), np.zeros((3, 3, 2)), 2)
    with pytest.raises(ValueError, match="signature_size: channels must be a positive int"):
        de.signature_size(0, 2)
    with pytest.raises(ValueError, match="same number of channels, got 2 and 3"):
        de.signature_mmd(np.zeros((3, 4, 2)), np.zeros((3, 4, 3)), 2)
    with pytest.raises(ValueError, match="at least 2 paths"):
        de.signature_mmd(np.zeros((1, 4, 2)), np.zeros((3, 4, 2)), 2, unbiased=True)
