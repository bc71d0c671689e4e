"""Argument checks shared by every subpackage, with the library's one rule for errors.

- A wrong **type** (a float where an int is wanted, a string where an array is wanted, a
  complex array where a real one is wanted) raises `TypeError`; a wrong **value or shape**
  (out of range, unknown option, mismatched lengths) raises `ValueError`.
- The message names the public function, the argument, what is wanted and what was given:
  `"integrate: y0 must have shape (3,), got shape (2,)"` (`message` builds it).
- **Integer arrays are promoted** to the default floating dtype (float32, or float64 with
  `jax_enable_x64`), as `jnp.sin` does; boolean, complex (unless asked for) and non-numeric
  arrays are rejected with `TypeError`. Floating arrays keep their dtype: results follow the
  floating dtype of the data (`common_float_dtype`), never silently down- or up-cast.

Static checks (types, shapes, Python numbers) run at trace time, also under `jit`. Value
checks on arrays (`check_finite_values`, `check_positive_values`) run only when the values
are concrete (`concrete_values`) and are skipped under tracing, where the runtime status of
the result reports failures instead.
"""

import difflib
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "as_float_array",
    "as_float_arrays",
    "as_inexact_array",
    "as_weights",
    "cast",
    "check_bool",
    "check_callable",
    "check_choice",
    "check_finite_values",
    "check_instance",
    "check_int",
    "check_key",
    "check_ndim",
    "check_number",
    "check_positive_values",
    "check_real_floating",
    "check_shape",
    "common_float_dtype",
    "concrete_values",
    "default_float_dtype",
    "message",
    "shape_str",
]


def message(fn: str, name: str, want: str, got: Any) -> str:
    """The one error-message form: `"fn: name must be want, got got"`."""
    return f"{fn}: {name} must be {want}, got {got}"


def shape_str(x) -> str:
    """The shape of `x` as a tuple string, for error messages."""
    return str(tuple(np.shape(x)))


def _describe(value) -> str:
    """`value` for an error message: its repr when short, else its type (arrays: shape and
    dtype)."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"an array of shape {shape_str(value)} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else f"a {type(value).__name__}"


def concrete_values(x) -> np.ndarray | None:
    """x as a NumPy array when its values are known now (outside tracing), else None: value
    checks (NaN, signs, ranges, sums) run eagerly and are skipped under `jit`/`vmap`/`grad`;
    shape checks always run."""
    if isinstance(x, jax.core.Tracer):
        return None
    try:
        return np.asarray(x)
    except jax.errors.TracerArrayConversionError:
        return None


def cast(x, dtype) -> jax.Array:
    """`x` as an array of `dtype`, converted by NumPy when its values are concrete (an eager
    `astype` compiles one conversion per shape and dtype), by `astype` under tracing."""
    values = concrete_values(x)
    return jnp.asarray(x).astype(dtype) if values is None else jnp.asarray(values, dtype)


def default_float_dtype():
    """float32, or float64 when `jax_enable_x64` is on: what integer inputs become."""
    return jnp.result_type(float)


def common_float_dtype(*arrays):
    """The floating dtype results take from `arrays` (None entries skipped): the promotion
    of their floating dtypes (Python scalars and integer arrays do not widen it), or the
    default float when none is floating."""
    dtypes = [jnp.result_type(a) for a in arrays if a is not None
              and not isinstance(a, (int, float, bool))]
    floats = [d for d in dtypes if jnp.issubdtype(d, jnp.inexact)]
    if not floats:
        return default_float_dtype()
    return jnp.result_type(*floats)


# ------------------------------------------------------------------------- Python values


def check_int(fn: str, name: str, value, *, minimum: int | None = None,
              maximum: int | None = None, none_ok: bool = False) -> int | None:
    """`value` as a Python int in `[minimum, maximum]`.

    **Raises:** `TypeError` unless `value` is an int (Python or NumPy; not a bool; None when
    `none_ok`); `ValueError` when it lies outside the range.
    """
    if value is None and none_ok:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(message(fn, name, _int_want(minimum, maximum, none_ok),
                                _describe(value)))
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(message(fn, name, _int_want(minimum, maximum, none_ok), value))
    return value


def _int_want(minimum, maximum, none_ok) -> str:
    if minimum is not None and maximum is not None:
        want = f"an int in {minimum}..{maximum}"
    elif minimum == 1:
        want = "a positive int"
    elif minimum == 0:
        want = "a non-negative int"
    elif minimum is not None:
        want = f"an int >= {minimum}"
    elif maximum is not None:
        want = f"an int <= {maximum}"
    else:
        want = "an int"
    return want + (" or None" if none_ok else "")


def check_number(fn: str, name: str, value, *, minimum: float | int | None = None,
                 maximum: float | int | None = None, open_minimum: bool = False,
                 open_maximum: bool = False, finite: bool = True,
                 none_ok: bool = False) -> float | None:
    """`value` as a Python float in the interval given (bounds closed unless `open_*`).

    Accepts Python and NumPy real numbers and concrete 0-d real arrays, not bools; a traced
    value cannot be checked (use it as an array instead).

    **Raises:** `TypeError` for anything else (None unless `none_ok`); `ValueError` for NaN,
    an infinity when `finite`, or a value outside the interval.
    """
    if value is None and none_ok:
        return None
    want = _number_want(minimum, maximum, open_minimum, open_maximum, finite, none_ok)
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(message(fn, name, want, _describe(value)))
    if not isinstance(value, numbers.Real):
        array = concrete_values(value) if hasattr(value, "dtype") else None
        if (array is None or array.ndim != 0
                or not np.issubdtype(array.dtype, np.number)
                or np.issubdtype(array.dtype, np.complexfloating)):
            raise TypeError(message(fn, name, want, _describe(value)))
        value = array.item()
    x = float(value)
    bad = (np.isnan(x) or (finite and np.isinf(x))
           or (minimum is not None and (x <= minimum if open_minimum else x < minimum))
           or (maximum is not None and (x >= maximum if open_maximum else x > maximum)))
    if bad:
        raise ValueError(message(fn, name, want, value))
    return x


def _number_want(minimum, maximum, open_minimum, open_maximum, finite, none_ok) -> str:
    if minimum is not None and maximum is not None:
        left, right = "(" if open_minimum else "[", ")" if open_maximum else "]"
        want = f"a number in {left}{minimum}, {maximum}{right}"
    elif minimum == 0:
        want = "a positive number" if open_minimum else "a non-negative number"
    elif minimum is not None:
        want = f"a number {'>' if open_minimum else '>='} {minimum}"
    elif maximum is not None:
        want = f"a number {'<' if open_maximum else '<='} {maximum}"
    else:
        want = "a real number"
    if finite and "number" in want:
        want = want.replace("number", "finite number", 1)
    return want + (" or None" if none_ok else "")


def check_bool(fn: str, name: str, value) -> bool:
    """`value` as a bool. **Raises:** `TypeError` unless it is a Python or NumPy bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(message(fn, name, "a bool", _describe(value)))
    return bool(value)


def check_choice(fn: str, name: str, value, choices: Iterable):
    """`value` if it is one of `choices`.

    **Raises:** `ValueError` naming the choices (and the closest ones to a mistyped string).
    """
    choices = tuple(choices)
    try:
        ok = value in choices
    except TypeError:  # an unhashable value against a dict's keys
        ok = False
    if ok:
        return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, [c for c in choices if isinstance(c, str)],
                                          n=2, cutoff=0.6)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    want = "one of " + ", ".join(repr(c) for c in choices)
    raise ValueError(message(fn, name, want, f"{value!r}{hint}"))


def check_instance(fn: str, name: str, value, types, want: str | None = None):
    """`value` if it is an instance of `types`. **Raises:** `TypeError` naming `want` (by
    default the type names)."""
    if isinstance(value, types):
        return value
    if want is None:
        names = [t.__name__ for t in (types if isinstance(types, tuple) else (types,))]
        want = "a " + " or ".join(names)
    raise TypeError(message(fn, name, want, f"a {type(value).__name__}"))


def check_callable(fn: str, name: str, value, want: str = "a callable"):
    """`value` if it is callable. **Raises:** `TypeError`."""
    if not callable(value):
        raise TypeError(message(fn, name, want, _describe(value)))
    return value


def check_key(fn: str, key, *, name: str = "key", none_ok: bool = False):
    """`key` if it is a JAX PRNG key: a typed key (`jax.random.key`) of shape `()`, or a raw
    `uint32` key of shape `(2,)` (`jax.random.PRNGKey`).

    **Raises:** `TypeError` for anything else (None unless `none_ok`); `ValueError` for a
    batch of keys.
    """
    if key is None and none_ok:
        return None
    want = "a PRNG key (jax.random.key(seed))" + (" or None" if none_ok else "")
    dtype = getattr(key, "dtype", None)
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        if np.shape(key) != ():
            raise ValueError(message(fn, name, "a single PRNG key of shape ()",
                                     f"keys of shape {shape_str(key)} (split them yourself)"))
        return key
    if dtype is not None and dtype == jnp.uint32 and np.shape(key) == (2,):
        return key
    raise TypeError(message(fn, name, want, _describe(key)))


# -------------------------------------------------------------------------------- arrays


def _as_array(fn, name, x):
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(message(fn, name, "an array", _describe(x)))
    try:
        return jnp.asarray(x)
    except TypeError:
        raise TypeError(message(fn, name, "an array", _describe(x))) from None


def as_float_array(fn: str, name: str, x, *, ndim: int | Sequence[int] | None = None,
                   shape: Sequence[int | None] | None = None, none_ok: bool = False):
    """`x` as a real floating JAX array, with the library's integer rule and shape checks.

    Floating arrays keep their dtype; integer arrays (and Python ints) become the default
    floating dtype.

    **Arguments:** `ndim` (an int or the allowed ints), `shape` (ints, None for any size).

    **Raises:** `TypeError` for bool, complex or non-numeric input; `ValueError` for a wrong
    number of dimensions or shape.
    """
    if x is None and none_ok:
        return None
    array = _as_array(fn, name, x)
    dtype = array.dtype
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError(message(fn, name, "real (complex input is not supported)",
                                f"dtype {dtype}"))
    if jnp.issubdtype(dtype, jnp.integer):
        array = array.astype(default_float_dtype())
    elif not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(message(fn, name, "a real array (floating or integer dtype)",
                                f"dtype {dtype}"))
    _check_dims(fn, name, array, ndim, shape)
    return array


def as_float_arrays(fn: str, **arrays) -> dict:
    """The arrays given (None entries kept as None) as real floating JAX arrays, by the
    library's integer rule: floating arrays keep their dtype; integer arrays take the
    floating dtype of the floating ones (`common_float_dtype`, so an integer argument never
    widens the result: JAX's own int-with-float promotion), or the default floating dtype
    when none is floating.

    **Raises:** `TypeError` naming the argument for a boolean, complex or non-numeric array.
    """
    checked = {name: None if x is None else as_float_array(fn, name, x)
               for name, x in arrays.items()}
    integer = [name for name, x in arrays.items()
               if x is not None and jnp.issubdtype(jnp.result_type(x), jnp.integer)]
    if integer:
        dtype = common_float_dtype(*[x for name, x in checked.items() if name not in integer])
        for name in integer:
            checked[name] = checked[name].astype(dtype)
    return checked


def as_inexact_array(fn: str, name: str, x, *, ndim: int | Sequence[int] | None = None,
                     shape: Sequence[int | None] | None = None):
    """`as_float_array` that also accepts complex arrays (kept complex)."""
    array = _as_array(fn, name, x)
    if jnp.issubdtype(array.dtype, jnp.complexfloating):
        _check_dims(fn, name, array, ndim, shape)
        return array
    return as_float_array(fn, name, array, ndim=ndim, shape=shape)


def check_real_floating(fn: str, **arrays) -> None:
    """Raise `TypeError` naming the argument if an array given (None entries skipped) has a
    complex or non-numeric dtype. Integer arrays pass (callers promote them with
    `as_float_array`)."""
    for arg, value in arrays.items():
        if value is None:
            continue
        dtype = jnp.result_type(value)
        if jnp.issubdtype(dtype, jnp.complexfloating):
            raise TypeError(message(fn, arg, "real (complex input is not supported)",
                                    f"dtype {dtype}"))
        if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)):
            raise TypeError(message(fn, arg, "a real array (floating or integer dtype)",
                                    f"dtype {dtype}"))


def _shape_text(shape) -> str:
    parts = ["?" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _check_dims(fn, name, array, ndim, shape):
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(message(fn, name, f"an array with {want} dimensions",
                                     f"shape {shape_str(array)}"))
    if shape is not None:
        check_shape(fn, name, array, shape)


def check_shape(fn: str, name: str, x, shape: Sequence[int | None], *,
                want: str | None = None) -> None:
    """Raise `ValueError` unless `x` has `shape` (None entries match any size); `want`
    overrides the wanted shape's text (e.g. `"(n, d) with d = 3"`)."""
    got = tuple(np.shape(x))
    ok = len(got) == len(shape) and all(s is None or g == s for g, s in zip(got, shape,
                                                                             strict=True))
    if not ok:
        raise ValueError(message(fn, name, f"of shape {want or _shape_text(shape)}",
                                 f"shape {got}"))


def check_ndim(fn: str, name: str, x, ndim: int | Sequence[int], *,
               want: str | None = None) -> None:
    """Raise `ValueError` unless `x` has `ndim` dimensions (or one of them)."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if np.ndim(x) not in allowed:
        text = want or ("an array with " + " or ".join(str(a) for a in allowed)
                        + " dimensions")
        raise ValueError(message(fn, name, text, f"shape {shape_str(x)}"))


def check_finite_values(fn: str, name: str, x) -> None:
    """Raise `ValueError` (naming the first bad index) if concrete `x` holds NaN or inf;
    nothing under tracing."""
    values = concrete_values(x)
    if values is None or np.issubdtype(values.dtype, np.integer):
        return
    bad = ~np.isfinite(values)
    if np.any(bad):
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(message(fn, name, "finite",
                                 f"{values[where].item()!r} at index {where}"
                                 + (f" and {int(bad.sum()) - 1} more" if bad.sum() > 1
                                    else "")))


def check_positive_values(fn: str, name: str, x, *, allow_zero: bool = False) -> None:
    """Raise `ValueError` if concrete `x` holds a non-finite, negative (or, unless
    `allow_zero`, zero) value; nothing under tracing."""
    values = concrete_values(x)
    if values is None:
        return
    good = np.isfinite(values) & ((values >= 0) if allow_zero else (values > 0))
    if not np.all(good):
        where = tuple(int(i) for i in np.argwhere(~good)[0])
        want = "non-negative and finite" if allow_zero else "positive and finite"
        raise ValueError(message(fn, name, want, f"{values[where].item()!r} at index {where}"))


def as_weights(fn: str, name: str, w, n: int, dtype, *, want: str | None = None) -> jax.Array:
    """The (unnormalised) weights of `n` points in `dtype`: ones when `w` is None, else `w`,
    which must be real, of shape `(n,)` (`want` describes it in the error), non-negative and
    finite, with a positive sum (value checks when the values are known). Divide by the sum
    for probability weights.

    **Raises:** `TypeError` for non-real weights; `ValueError` for another shape, and (when
    concrete) a negative or non-finite weight or a zero sum.
    """
    if w is None:
        return jnp.ones((n,), dtype)
    w = as_float_array(fn, name, w)
    check_shape(fn, name, w, (n,), want=want)
    check_positive_values(fn, name, w, allow_zero=True)
    values = concrete_values(w)
    if values is not None and not values.sum() > 0:
        raise ValueError(message(fn, name, "weights with a positive sum",
                                 f"a sum of {float(values.sum()):g}"))
    return w.astype(dtype)
