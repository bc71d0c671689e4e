"""EDMD with dictionary learning: a learned feature recovers a missing eigenfunction."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxlab import RESULTS
from jaxlab import koopman as kp


def test_learned_dictionary_finds_the_missing_eigenfunction(float64):
    """x₁ ↦ μx₁, x₂ ↦ λx₂ + (μ² − λ)x₁² has the Koopman-invariant span {x₁, x₂, x₁²} with
    eigenvalues μ, λ, μ². The coordinates alone miss μ²; one learned feature recovers it."""
    mu, lam = 0.9, 0.5
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (500, 2))
    y = np.stack([mu * x[:, 0], lam * x[:, 1] + (mu**2 - lam) * x[:, 0] ** 2], axis=1)
    plain = kp.edmd(x, y, kp.Identity(2, constant=True))
    assert np.min(np.abs(np.asarray(plain.eigenvalues) - mu**2)) > 0.02
    dic = kp.LearnedDictionary(2, 1, width=16, depth=1, key=jax.random.key(0))
    loss = eqx.filter_jit(kp.dictionary_loss)
    before = float(loss(dic, jnp.asarray(x), jnp.asarray(y)))
    out = kp.fit_dictionary(dic, x, y, steps=600, key=jax.random.key(1),
                            optimizer=optax.adam(1e-2), progress=False)
    assert isinstance(out, kp.DictionaryFit) and bool(out.converged)
    assert out.fit.step == 600 and len(out.fit.history["loss"]) == 600
    trained = out.dictionary
    after = float(loss(trained, jnp.asarray(x), jnp.asarray(y)))
    assert after < 0.1 * before
    assert trained.fixed == dic.fixed                   # the fixed features are not trained
    res = kp.edmd(x, y, trained)
    lam_all, resid = np.asarray(res.eigenvalues), np.asarray(res.residuals)
    j = np.argmin(np.abs(lam_all - mu**2))
    assert abs(lam_all[j] - mu**2) < 0.02 and resid[j] < 0.02
    for target in (1.0, mu, lam):
        assert np.min(np.abs(lam_all - target)) < 1e-2


def test_fit_dictionary_reports_a_nonfinite_loss():
    x = np.random.default_rng(0).uniform(-1, 1, (64, 2)).astype(np.float32)
    dic = kp.LearnedDictionary(2, 1, width=4, depth=1, key=jax.random.key(0))
    bad = optax.sgd(1e30)                               # diverges at the first steps
    out = kp.fit_dictionary(dic, x, 3 * x, steps=20, key=jax.random.key(1), optimizer=bad,
                            progress=False, throw=False)
    assert out.status == RESULTS.nonfinite and not bool(out.converged)
    assert not np.isfinite(out.fit.history["loss"][-1])   # (throw=True would have raised)


def test_bad_learning_input_is_named(user_errors):
    x = np.zeros((10, 2))
    key = jax.random.key(0)
    with pytest.raises(TypeError, match=r"LearnedDictionary: num_learned must be a positive int"):
        kp.LearnedDictionary(2, 1.0, key=key)
    with pytest.raises(ValueError, match=r"LearnedDictionary: fixed must be a dictionary on "
                                         r"dimension dim = 2, got one on dimension 3"):
        kp.LearnedDictionary(2, 1, key=key, fixed=kp.Identity(3))
    dic = kp.LearnedDictionary(2, 1, width=4, depth=1, key=key)
    with pytest.raises(TypeError, match=r"fit_dictionary: dictionary must be a LearnedDictionary"):
        kp.fit_dictionary(kp.Identity(2), x, x, steps=1, key=key)
    with pytest.raises(ValueError, match=r"fit_dictionary: y must be of shape \(10, 2\)"):
        kp.fit_dictionary(dic, x, x[:-1], steps=1, key=key)
    with pytest.raises(ValueError, match=r"fit_dictionary: ridge must be a positive finite"):
        kp.fit_dictionary(dic, x, x, steps=1, key=key, ridge=0.0)
