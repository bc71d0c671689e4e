"""jaxlab's private ground floor: what every subpackage needs, written once.

- `checks`: argument checks (ints, numbers, choices, types, arrays, shapes, keys, dtypes) with
  the one error rule of the library: a wrong type raises `TypeError`, a wrong value or shape
  `ValueError`, and the message reads `function: argument must be <want>, got <got>`;
- `results`: `RESULTS`, the status enumeration every estimator and solver returns, and the
  base class of status-carrying results;
- `distances`: pairwise squared Euclidean distances;
- `autocorrelation`: lagged products by zero-padded FFT;
- `brownian`: Brownian motion sampled on a fixed grid, as a diffrax path;
- `io`: atomic file writes.

The ground floor imports no jaxlab subpackage (import-linter enforces it, see pyproject.toml).
Modules are imported explicitly (`from .._core.checks import check_int`): this file imports
nothing, so `import jaxlab` stays light.
"""
