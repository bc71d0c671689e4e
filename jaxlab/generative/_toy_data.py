"""Two-dimensional toy distributions of the flow-matching and diffusion literature: the
eight Gaussians and the two moons of torchcfm's benchmarks, their pairings, and a ring of
Gaussians as an exact `GaussianMixture`.

Samples are in the default floating dtype (float64 with `jax_enable_x64`).
"""

import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._core.checks import check_choice, check_int, check_key, check_number
from ._exact import GaussianMixture

TOY_PAIRS = ("8gaussians-moons", "normal-8gaussians")


def eight_gaussians(n: int, *, key: PRNGKeyArray, radius: float = 5.0,
                    std: float = 0.1**0.25) -> Float[Array, "n 2"]:
    """`n` samples of torchcfm's eight Gaussians: centres `radius`·(cos kπ/4, sin kπ/4),
    k = 0…7, chosen uniformly, plus isotropic noise of standard deviation `std`.

    The defaults are torchcfm's `sample_8gaussians`, which passes √0.1 as the covariance, so
    the standard deviation is 0.1^¼ ≈ 0.56; per coordinate the mean is 0 and the variance
    radius²/2 + std².

    **Arguments:** `n` (samples), `key` (keyword-only), `radius` (of the circle of centres),
    `std` (of the isotropic noise).

    **Returns:** samples of shape `(n, 2)`.

    **Raises:** `TypeError`/`ValueError` unless `n` is a positive int, `key` a PRNG key and
    `radius`, `std` non-negative numbers.

    **References:** Tong et al., *Improving and generalizing flow-based generative models
    with minibatch optimal transport* (TMLR 2024), torchcfm `utils.py`.
    """
    fn = "eight_gaussians"
    n = check_int(fn, "n", n, minimum=1)
    key = check_key(fn, key)
    radius = check_number(fn, "radius", radius, minimum=0.0)
    std = check_number(fn, "std", std, minimum=0.0)
    kc, kn = jax.random.split(key)
    s = 1 / math.sqrt(2.0)
    centres = radius * jnp.array([[1, 0], [-1, 0], [0, 1], [0, -1], [s, s], [s, -s],
                                  [-s, s], [-s, -s]])
    idx = jax.random.randint(kc, (n,), 0, 8)
    return centres[idx] + std * jax.random.normal(kn, (n, 2))


def moons(n: int, *, key: PRNGKeyArray, noise: float = 0.2) -> Float[Array, "n 2"]:
    """`n` samples of the two moons as torchcfm uses them: torchdyn's `generate_moons` (two
    half circles, a uniform shift U[0, `noise`) added to both coordinates) scaled by 3 and
    shifted by −1, with uniformly random angles (torchdyn uses a grid).

    Before the affine map, a point is (cos θ, sin θ) (outer moon) or (1 − cos θ,
    ½ − sin θ) (inner moon) with θ ~ U[0, π] and each moon chosen with probability ½.

    **Arguments:** `n` (samples), `key` (keyword-only), `noise` (the width of the uniform
    shift).

    **Returns:** samples of shape `(n, 2)`.

    **Raises:** `TypeError`/`ValueError` unless `n` is a positive int, `key` a PRNG key and
    `noise` a non-negative number.

    **References:** Tong et al. (TMLR 2024), torchcfm; torchdyn `generate_moons`.
    """
    fn = "moons"
    n = check_int(fn, "n", n, minimum=1)
    key = check_key(fn, key)
    noise = check_number(fn, "noise", noise, minimum=0.0)
    ka, km, ku = jax.random.split(key, 3)
    theta = jax.random.uniform(ka, (n,), maxval=jnp.pi)
    inner = jax.random.bernoulli(km, 0.5, (n,))
    x = jnp.where(inner, 1 - jnp.cos(theta), jnp.cos(theta))
    y = jnp.where(inner, 1 - jnp.sin(theta) - 0.5, jnp.sin(theta))
    shift = noise * jax.random.uniform(ku, (n, 1))
    return (jnp.stack([x, y], 1) + shift) * 3 - 1


def toy_pair(name: str, n: int, *, key: PRNGKeyArray
             ) -> tuple[Float[Array, "n 2"], Float[Array, "n 2"]]:
    """Independent (base, target) samples of one of torchcfm's 2-D transport problems,
    `n` of each:

    - `"8gaussians-moons"`: `eight_gaussians` → `moons`;
    - `"normal-8gaussians"`: N(0, I) → `eight_gaussians`.

    **Arguments:** `name` (one of the two above), `n` (samples of each side), `key`
    (keyword-only; split into the base's key and the target's).

    **Returns:** `(x0, x1)`, each of shape `(n, 2)`.

    **Raises:** `ValueError` for an unknown name; as `eight_gaussians` otherwise.

    **References:** Tong et al. (TMLR 2024), Table 2.
    """
    check_choice("toy_pair", "name", name, TOY_PAIRS)
    n = check_int("toy_pair", "n", n, minimum=1)
    k0, k1 = jax.random.split(check_key("toy_pair", key))
    if name == "8gaussians-moons":
        return eight_gaussians(n, key=k0), moons(n, key=k1)
    return jax.random.normal(k0, (n, 2)), eight_gaussians(n, key=k1)


def ring_mixture(components: int = 8, *, radius: float = 2.0, std: float = 0.25
                 ) -> GaussianMixture:
    """Equal-weight isotropic Gaussians of standard deviation `std` at the vertices of a
    regular polygon of `components` vertices and circumradius `radius`, the first on the
    positive x axis: the multi-modal 2-D target of score-based diffusion tests.

    **Arguments:** `components` (the number of Gaussians), `radius` (the circumradius), `std`
    (of each component).

    **Returns:** the `GaussianMixture` (exact density, score and samples; default floating
    dtype).

    **Raises:** `TypeError`/`ValueError` unless `components` is a positive int and `radius`,
    `std` positive numbers.

    **References:** Deveney, Stanczuk, Kreusser, Budd & Schönlieb, *Closing the ODE–SDE gap
    in score-based diffusion models through the Fokker–Planck equation* (2023).
    """
    fn = "ring_mixture"
    components = check_int(fn, "components", components, minimum=1)
    radius = check_number(fn, "radius", radius, minimum=0.0, open_minimum=True)
    std = check_number(fn, "std", std, minimum=0.0, open_minimum=True)
    angles = 2 * jnp.pi * jnp.arange(components) / components
    means = radius * jnp.stack([jnp.cos(angles), jnp.sin(angles)], 1)
    return GaussianMixture(jnp.full(components, 1 / components), means,
                           jnp.full(components, std**2))
