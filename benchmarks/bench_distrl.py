"""jaxlab.distrl dynamic programming against a float64 NumPy implementation of the same
algorithm written here, on random sparse MDPs (S = 10², 10³, 10⁴ states, A = 4 actions,
M = 4 outcomes, γ = 0.9, K = 51 atoms): distributional policy evaluation and stock-augmented
value iteration (NegativePart objective, 16 stock points), a fixed number of sweeps each
(tol = 0, so no early stop); and the C51 projection against rlax's, if rlax is installed.

The NumPy reference is independent of jaxlab: the textbook C51 projection (each shifted atom
r + γ z_j splits its mass between its lower and upper neighbour, accumulated with
`np.bincount`), whose neighbours and weights depend only on (r, γ, z) and so are computed
once per problem, the loop a NumPy user would hoist; jaxlab does the same (`projection_plan`).
Both run the same stopping test (sup-W₁ change of a sweep) every sweep.
"""

import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.distrl import (
    FiniteMDP,
    NegativePart,
    categorical_projection,
    evaluate_policy,
    random_mdp,
    stock_augmented_value_iteration,
)

from ._timing import best_of, compile_time, record

jax.config.update("jax_enable_x64", True)

SIZES = [100, 1_000, 10_000]
A, M, K, GAMMA = 4, 4, 51, 0.9
REWARDS = (-1.0, 0.0, 1.0, 2.0)                   # random_mdp's default rewards
SUPPORT = np.linspace(-10.0, 20.0, K)             # = default_support: [min r, max r] / (1 − γ)
GRID = np.linspace(-20.0, 10.0, 16)               # stocks c = −b for thresholds b in [−10, 20]
EVAL_SWEEPS = 20
STOCK_SWEEPS = 10
# NumPy sweeps timed (and compared) per size: fewer for the 10⁴-state stock VI (≈ 3–8 s a
# sweep), scaled per sweep to the full count
NP_EVAL_SWEEPS = {100: EVAL_SWEEPS, 1_000: EVAL_SWEEPS, 10_000: EVAL_SWEEPS}
NP_STOCK_SWEEPS = {100: STOCK_SWEEPS, 1_000: STOCK_SWEEPS, 10_000: 2}
TIE = 1e-9                                        # jaxlab's default tie_tolerance


# ---------------------------------------------------------------- NumPy reference (float64)

def np_projection_plan(reward, gamma, support):
    """Textbook C51 neighbours of r + γ z_j, for rewards `(*batch,)`: `(*batch, K)` each.

    b = (r + γ z_j − z_1)/Δz clamped to [0, K − 1]; lower l = ⌊b⌋, upper u = ⌈b⌉; the atom's
    mass goes (u − b) to l and (b − l) to u, all of it to l when l = u.
    """
    k = support.shape[0]
    dz = (support[-1] - support[0]) / (k - 1)
    b = np.clip((reward[..., None] + gamma * support - support[0]) / dz, 0.0, k - 1)
    lo = np.floor(b).astype(np.int64)
    up = np.ceil(b).astype(np.int64)
    w_up = b - lo
    return lo, up, 1.0 - w_up, w_up


def np_project(rows, mass, plan, num_rows, k):
    """Σ over outcomes of the projected masses: `mass (*batch, K)` at r + γ z, row `rows`."""
    lo, up, w_lo, w_up = plan
    out = np.bincount((rows * k + lo).ravel(), (mass * w_lo).ravel(), minlength=num_rows * k)
    out += np.bincount((rows * k + up).ravel(), (mass * w_up).ravel(), minlength=num_rows * k)
    return out.reshape(num_rows, k)


def np_delta0(support):
    """δ₀ projected onto the support, `(K,)` (the same textbook split of one atom at 0)."""
    k = support.shape[0]
    b = np.clip(-support[0] / ((support[-1] - support[0]) / (k - 1)), 0.0, k - 1)
    lo, up = int(np.floor(b)), int(np.ceil(b))
    out = np.zeros(k)
    out[lo] += 1.0 - (b - lo)
    out[up] += b - lo
    return out


def np_sup_w1(p, q, support):
    dz = (support[-1] - support[0]) / (support.shape[0] - 1)
    return dz * np.max(np.sum(np.abs(np.cumsum(p - q, axis=-1)), axis=-1))


def np_evaluate_policy(next_state, reward, prob, pi, gamma, support, *, tol, max_iterations):
    """Iterate η ← Π_C T^π η from δ₀ on (S, A, K) until the sup-W₁ change ≤ tol."""
    s, a, _ = next_state.shape
    k = support.shape[0]
    plan = np_projection_plan(reward, gamma, support)           # (S, A, M, K) each
    rows = np.arange(s * a).reshape(s, a, 1, 1)
    eta = np.broadcast_to(np_delta0(support), (s, a, k))
    i, res = 0, np.inf
    while i < max_iterations and res > tol:
        nd = np.einsum("sa,sak->sk", pi, eta)
        mass = prob[..., None] * nd[next_state]                 # (S, A, M, K)
        new = np_project(rows, mass, plan, s * a, k).reshape(s, a, k)
        i, res, eta = i + 1, np_sup_w1(new, eta, support), new
    return eta, i


def np_locate(grid, c):
    """Lower index, upper index, weight of upper: linear interpolation, clamped at the ends."""
    n = grid.shape[0]
    lo = np.clip(np.searchsorted(grid, c, side="right") - 1, 0, n - 2)
    w = np.clip((c - grid[lo]) / (grid[lo + 1] - grid[lo]), 0.0, 1.0)
    return lo, lo + 1, w


def np_stock_vi(next_state, reward, prob, gamma, support, grid, *, tol, max_iterations,
                block=500):
    """Stock-augmented VI for E min(c + G, 0): returns η (S, C, A, K), values (S, C), actions.

    Sweep: η(s, c, a) = Π_C Σ_m p_m [law of r_m + γ G'], G' ~ ξ(s'_m, c'_m), c' = (c + r)/γ
    interpolated between grid neighbours; a*(s, c) = lowest index within TIE·(1 + |best|) of
    max_a E min(c + G, 0); ξ(s, c) = η(s, c, a*). Processed in blocks of states (memory).
    """
    s, a, _ = next_state.shape
    k, c = support.shape[0], grid.shape[0]
    plan = np_projection_plan(reward, gamma, support)           # (S, A, M, K) each
    c_lo, c_hi, c_w = np_locate(grid, (grid[None, :, None, None] + reward[:, None]) / gamma)
    utility = np.minimum(grid[:, None] + support, 0.0)          # (C, K)

    def backup(xi):
        eta = np.empty((s, c, a, k))
        for start in range(0, s, block):
            blk = slice(start, min(start + block, s))
            b = blk.stop - blk.start
            ns = next_state[blk][:, None]                       # (B, 1, A, M)
            x_lo = xi[ns, c_lo[blk]]                            # (B, C, A, M, K)
            x = x_lo + c_w[blk][..., None] * (xi[ns, c_hi[blk]] - x_lo)
            mass = prob[blk][:, None, :, :, None] * x
            rows = np.arange(b * c * a).reshape(b, c, a, 1, 1)
            pl = tuple(p[blk][:, None] for p in plan)
            eta[blk] = np_project(rows, mass, pl, b * c * a, k).reshape(b, c, a, k)
        return eta

    def greedy(eta):
        values = np.einsum("scak,ck->sca", eta, utility)
        best = values.max(axis=-1)
        action = np.argmax(values >= (best - TIE * (1 + np.abs(best)))[..., None], axis=-1)
        return action, best

    xi = np.broadcast_to(np_delta0(support), (s, c, k))
    i, res = 0, np.inf
    while i < max_iterations and res > tol:
        eta = backup(xi)
        action, _ = greedy(eta)
        new = np.take_along_axis(eta, action[..., None, None], axis=2)[:, :, 0]
        i, res, xi = i + 1, np_sup_w1(new, xi, support), new
    eta = backup(xi)
    action, best = greedy(eta)
    return eta, best, action, i


# ---------------------------------------------------------------- data

def _problem(num_states, dtype):
    mdp64 = random_mdp(num_states, A, M, key=jax.random.key(num_states), rewards=REWARDS,
                       discount=GAMMA, dtype=jnp.float64)
    nxt, r, p = (np.asarray(x) for x in (mdp64.next_state, mdp64.reward, mdp64.prob))
    assert not np.asarray(mdp64.terminal).any()
    pi = np.random.default_rng(num_states).dirichlet(np.ones(A), num_states)
    if dtype == "float64":
        mdp = mdp64
    else:
        mdp = FiniteMDP.from_outcomes(nxt, r.astype(dtype), p.astype(dtype), discount=GAMMA)
    return mdp, (nxt, r, p), pi


def _timed(fn, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _load() -> float:
    return round(os.getloadavg()[0], 1)


# ---------------------------------------------------------------- benchmarks

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("num_states", SIZES)
def test_evaluate_policy(benchmark, num_states, dtype):
    mdp, (nxt, r, p), pi = _problem(num_states, dtype)
    support = jnp.asarray(SUPPORT, dtype)
    pij = jnp.asarray(pi, dtype)

    def ours(n=EVAL_SWEEPS):
        return evaluate_policy(mdp, pij, support=support, tol=0.0, max_iterations=n,
                               throw=False).state_action.weights

    compile_s = compile_time(ours)
    n_np = NP_EVAL_SWEEPS[num_states]
    peer_n_s, (ref, it) = _timed(
        lambda: np_evaluate_policy(nxt, r, p, pi, GAMMA, SUPPORT, tol=0.0, max_iterations=n_np),
        repeat=3 if num_states < 10_000 else 2)
    assert it == n_np
    got = np.asarray(jax.block_until_ready(ours(n_np)), np.float64)
    diff = float(np.max(np.abs(got - ref)))
    assert diff < (1e-9 if dtype == "float64" else 1e-4), diff
    out = benchmark.pedantic(lambda: jax.block_until_ready(ours()), rounds=3 if num_states <
                             10_000 else 2)
    assert out.shape == (num_states, A, K)
    peer_s = peer_n_s * EVAL_SWEEPS / n_np
    record(benchmark, peer_name="NumPy float64", peer_s=peer_s, compile_s=compile_s,
           num_states=num_states, actions=A, outcomes=M, atoms=K, sweeps=EVAL_SWEEPS,
           dtype=dtype, numpy_sweeps_timed=n_np, numpy_time_scaled_per_sweep=n_np != EVAL_SWEEPS,
           agreement_sweeps=n_np, max_abs_diff_vs_numpy=diff, load=_load())
    print(f"  NumPy timed on {n_np} sweeps (x{EVAL_SWEEPS / n_np:g}); max |Δp| after {n_np} "
          f"sweeps = {diff:.2e}; load {_load()}")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("num_states", SIZES)
def test_stock_value_iteration(benchmark, num_states, dtype):
    mdp, (nxt, r, p), _ = _problem(num_states, dtype)
    support, grid = jnp.asarray(SUPPORT, dtype), jnp.asarray(GRID, dtype)

    def ours(n=STOCK_SWEEPS):
        return stock_augmented_value_iteration(mdp, NegativePart(), stock_grid=grid,
                                               support=support, tol=0.0, max_iterations=n,
                                               throw=False)

    compile_s = compile_time(lambda: ours().distributions.weights)
    n_np = NP_STOCK_SWEEPS[num_states]
    peer_n_s, (ref_eta, ref_val, ref_act, it) = _timed(
        lambda: np_stock_vi(nxt, r, p, GAMMA, SUPPORT, GRID, tol=0.0, max_iterations=n_np),
        repeat=3 if num_states == 100 else 1)
    assert it == n_np
    sol = ours(n_np)
    assert int(sol.iterations) == n_np
    got = np.asarray(sol.distributions.weights, np.float64)
    diff = float(np.max(np.abs(got - ref_eta)))
    val_diff = float(np.max(np.abs(np.asarray(sol.values, np.float64) - ref_val)))
    act_diff = int(np.sum(np.asarray(sol.policy.actions[0]) != ref_act))
    if dtype == "float64":
        assert act_diff == 0 and diff < 1e-9, (act_diff, diff)
    else:  # a float32 near-tie may pick another action of (almost) the same value
        assert val_diff < 1e-4 * (1 + np.abs(ref_val).max()), val_diff
    out = benchmark.pedantic(lambda: jax.block_until_ready(ours().distributions.weights),
                             rounds=3 if num_states < 10_000 else 1)
    assert out.shape == (num_states, GRID.size, A, K)
    # both run `sweeps` loop sweeps plus the final backup that gives η and the policy
    peer_s = peer_n_s * (STOCK_SWEEPS + 1) / (n_np + 1)
    record(benchmark, peer_name="NumPy float64", peer_s=peer_s, compile_s=compile_s,
           num_states=num_states, actions=A, outcomes=M, atoms=K, stock_points=GRID.size,
           sweeps=STOCK_SWEEPS, dtype=dtype, numpy_sweeps_timed=n_np,
           numpy_time_scaled_per_sweep=n_np != STOCK_SWEEPS, agreement_sweeps=n_np,
           max_abs_diff_vs_numpy=diff, max_abs_value_diff=val_diff,
           actions_differing=act_diff, load=_load())
    print(f"  NumPy timed on {n_np} sweeps (x{(STOCK_SWEEPS + 1) / (n_np + 1):.3g}); after "
          f"{n_np} sweeps max |Δp| = {diff:.2e}, max |Δvalue| = {val_diff:.2e}, "
          f"{act_diff} actions differ; load {_load()}")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_categorical_projection_vs_rlax(benchmark, dtype):
    rlax = pytest.importorskip("rlax")
    batch = 10_000
    rng = np.random.default_rng(0)
    support = jnp.asarray(SUPPORT, dtype)
    # the target of a C51 update: r + γ z, probabilities from a Dirichlet
    r = rng.choice(REWARDS, size=batch)
    atoms = jnp.asarray(r[:, None] + GAMMA * SUPPORT, dtype)
    probs = jnp.asarray(rng.dirichlet(np.ones(K), batch), dtype)
    ours = jax.jit(categorical_projection)
    theirs = jax.jit(jax.vmap(rlax.categorical_l2_project, in_axes=(0, 0, None)))
    compile_s = compile_time(ours, atoms, probs, support)
    compile_time(theirs, atoms, probs, support)
    got = benchmark.pedantic(lambda: jax.block_until_ready(ours(atoms, probs, support)),
                             rounds=20)
    peer_s = best_of(theirs, atoms, probs, support, repeat=20)
    diff = float(np.max(np.abs(np.asarray(got, np.float64)
                               - np.asarray(theirs(atoms, probs, support), np.float64))))
    assert diff < (1e-12 if dtype == "float64" else 1e-5), diff
    record(benchmark, peer_name="rlax categorical_l2_project (vmap)", peer_s=peer_s,
           compile_s=compile_s, batch=batch, atoms=K, dtype=dtype, max_abs_diff_vs_rlax=diff,
           load=_load())
    print(f"  max |Δp| vs rlax = {diff:.2e}")
