"""The API conventions of CONTRIBUTING.md, checked on every public callable of every subpackage.

Each check walks the public names (`__all__`, or the names an `__init__` re-exports) of
every subpackage, and the public methods of their classes, so a new function is checked
the moment it is exported. A check fails with the list of offenders.
"""

import ast
import dataclasses
import importlib
import inspect
import pathlib
import re
import typing

import equinox as eqx
import pytest

from jaxlab._core.results import RESULTS, AbstractResult

ROOT = pathlib.Path(__file__).parents[1] / "jaxlab"
SUBPACKAGES = ("de", "distrl", "generative", "kde", "kernels", "koopman", "metrics", "nn",
               "parallel", "systems", "train")


def _public_names(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    return names


def _defined_in_jaxlab(obj) -> bool:
    return getattr(obj, "__module__", "").startswith("jaxlab")


def public_objects():
    """(qualified name, object) for every public function and class of every subpackage."""
    seen = set()
    for sub in SUBPACKAGES:
        module = importlib.import_module(f"jaxlab.{sub}")
        for name in _public_names(module):
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not callable(obj) or not _defined_in_jaxlab(obj):
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            yield f"{sub}.{name}", obj


def public_callables():
    """Public functions, public classes (their constructors) and the public methods that
    public classes define (not inherited from equinox or Python)."""
    for qualname, obj in public_objects():
        yield qualname, obj
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__call__":
                    continue
                func = member.__func__ if isinstance(member, (classmethod, staticmethod)) \
                    else member
                if inspect.isfunction(func):
                    yield f"{qualname}.{attr}", func


def _signature(obj):
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def _return_annotation(obj):
    target = obj
    if inspect.isclass(obj):
        return None
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # forward references to names not importable at runtime
        hints = getattr(target, "__annotations__", {})
    return hints.get("return", inspect.Signature.empty)


def _classes_in(annotation):
    """The classes an annotation names (unwrapping unions, jaxtyping and generics)."""
    if annotation is None or annotation is inspect.Signature.empty:
        return []
    if inspect.isclass(annotation):
        return [annotation]
    out = []
    for arg in typing.get_args(annotation):
        out.extend(_classes_in(arg))
    origin = typing.get_origin(annotation)
    if inspect.isclass(origin) and origin is not typing.Union:
        out.append(origin)
    return out


CALLABLES = list(public_callables())

# A model's forward pass is differentiated inside training loops: it returns arrays, and a
# failed solve raises (diffrax's `throw=True`) rather than returning a status.
MODEL_FORWARD_PASSES = {
    "de.NeuralODE.__call__", "de.NeuralCDE.__call__", "de.NeuralSDE.__call__",
    "de.LatentSDE.__call__", "de.DirectedChainSDE.__call__", "de.SDEGenerator.__call__",
}
# Parameters that mark a numerical solver or an iterative estimator: whoever takes one of
# these returns a result with a status.
SOLVER_PARAMETERS = {"rtol", "atol", "tol", "tolerance", "max_steps", "max_iter",
                     "max_iterations", "throw"}
# Callables whose parameter of that name is a threshold, not a solver's tolerance.
NOT_SOLVERS = {
    "distrl.FiniteSupport.compact": "rtol merges atoms closer than it; nothing iterates",
    "distrl.FiniteMDP.from_outcomes": "atol is the tolerance of the probability-sum check",
    "systems.false_nearest_neighbours": "rtol and atol are Kennel's false-neighbour criteria",
    "systems.cao_embedding_dimension": "tolerance is the saturation threshold of E1(d)",
}


def test_the_walk_sees_every_subpackage():
    prefixes = {q.split(".")[0] for q, _ in CALLABLES}
    assert prefixes == set(SUBPACKAGES)
    assert len(CALLABLES) > 300


def test_key_is_keyword_only():
    bad = []
    for qualname, obj in CALLABLES:
        sig = _signature(obj)
        if sig is None:
            continue
        for p in sig.parameters.values():
            if p.name == "key" and p.kind is not p.KEYWORD_ONLY:
                bad.append(f"{qualname}({p.name}: {p.kind.description})")
            if p.name in ("rng", "rng_key", "prng_key", "seed", "random_state"):
                bad.append(f"{qualname}({p.name}): randomness is the keyword-only `key`")
    assert not bad, "key must be keyword-only:\n" + "\n".join(bad)


def test_public_functions_annotate_their_returns():
    # module-level functions (methods implement their abstract base's annotated signature)
    bad = [q for q, obj in public_objects()
           if inspect.isfunction(obj) and _return_annotation(obj) is inspect.Signature.empty]
    assert not bad, "public functions without a return annotation:\n" + "\n".join(bad)


def test_results_are_final_modules_not_tuples():
    bad = []
    for qualname, obj in public_objects():
        if inspect.isclass(obj) and issubclass(obj, tuple):
            bad.append(f"{qualname} is a tuple class (NamedTuple): results are eqx.Modules")
    for qualname, obj in CALLABLES:
        for cls in _classes_in(_return_annotation(obj)):
            if (issubclass(cls, tuple) and hasattr(cls, "_fields")
                    and _defined_in_jaxlab(cls)):  # e.g. optax's GradientTransformation is fine
                bad.append(f"{qualname} returns the NamedTuple {cls.__name__}")
            if cls.__module__.startswith("diffrax") and cls.__name__ == "Solution":
                bad.append(f"{qualname} returns a raw diffrax.Solution")
    assert not bad, "\n".join(bad)


def test_solvers_return_a_status_and_take_throw():
    bad = []
    for qualname, obj in CALLABLES:
        if qualname in MODEL_FORWARD_PASSES or qualname in NOT_SOLVERS or inspect.isclass(obj):
            continue
        sig = _signature(obj)
        if sig is None:
            continue
        params = sig.parameters
        returns = [c for c in _classes_in(_return_annotation(obj))
                   if issubclass(c, AbstractResult)]
        solver_like = sorted(SOLVER_PARAMETERS & set(params))
        if solver_like and not returns:
            bad.append(f"{qualname} takes {solver_like} but does not return a result with a "
                       "status (an AbstractResult)")
        if returns:
            throw = params.get("throw")
            if throw is None or throw.kind is not throw.KEYWORD_ONLY:
                bad.append(f"{qualname} returns {returns[0].__name__} (a status) but takes no "
                           "keyword-only throw=")
    assert not bad, "\n".join(bad)


def test_status_fields_are_results_enumerations():
    bad = []
    for qualname, obj in public_objects():
        if not (inspect.isclass(obj) and issubclass(obj, AbstractResult)):
            continue
        if inspect.isabstract(obj) or obj.__name__.startswith("Abstract"):
            continue
        hints = typing.get_type_hints(obj)
        if hints.get("status") is not RESULTS:
            bad.append(f"{qualname}.status is annotated {hints.get('status')!r}, not RESULTS")
        if "converged" in {f.name for f in dataclasses.fields(obj)}:
            bad.append(f"{qualname} stores `converged`: derive it from `status`")
    assert not bad, "\n".join(bad)


def test_concrete_modules_are_final():
    """No jaxlab class subclasses a concrete (non-Abstract*) jaxlab Module."""
    bad = []
    seen = {id(obj): q for q, obj in public_objects() if inspect.isclass(obj)}
    for qualname, obj in public_objects():
        if not inspect.isclass(obj):
            continue
        for base in obj.__mro__[1:]:
            if (issubclass(base, eqx.Module) and _defined_in_jaxlab(base)
                    and not base.__name__.startswith(("Abstract", "_"))
                    and base is not AbstractResult):
                bad.append(f"{qualname} subclasses the concrete {seen.get(id(base), base)}")
    assert not bad, "\n".join(bad)


# ------------------------------------------------------------------------ source-level


def _sources():
    return sorted(ROOT.rglob("*.py"))


def _template(node: ast.AST) -> str | None:
    """A message expression as a template (`{}` for every interpolated value), or None when
    it is not a literal (built by a helper such as `message(...)`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _template(node.left), _template(node.right)
        return None if left is None or right is None else left + right
    return None


_PREFIX = re.compile(r"^(\{\}|[A-Za-z_][\w.]*(\(\))?|brute force)(\.[\w]+)?: ")
# Phrases of a type mistake: they belong in a TypeError.
_TYPE_PHRASES = ("must be an int", "must be a positive int", "must be a bool",
                 "must be a callable", "must be a string", "must be a PRNG key")


def test_error_messages_follow_the_rule():
    bad = []
    for path in _sources():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            kind = getattr(node.exc.func, "id", None)
            if kind not in ("ValueError", "TypeError") or not node.exc.args:
                continue
            where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
            text = _template(node.exc.args[0])
            if text is None:
                continue  # built by checks.message or a local formatter
            if not _PREFIX.match(text):
                bad.append(f"{where}: no 'function: ' prefix: {text[:70]!r}")
            elif "got" not in text:
                bad.append(f"{where}: does not say what was given ('got ...'): {text[:70]!r}")
            if kind == "ValueError" and any(p in text for p in _TYPE_PHRASES):
                bad.append(f"{where}: a type mistake raised as ValueError: {text[:70]!r}")
    assert not bad, f"{len(bad)} error messages break the rule:\n" + "\n".join(bad)


def test_no_class_is_defined_inside_a_function():
    bad = []
    for path in _sources():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ClassDef):
                        bad.append(f"{path.relative_to(ROOT.parent)}:{inner.lineno} "
                                   f"{inner.name} inside {node.name}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("[a-z]*.py")),
                         ids=lambda p: p.stem)
def test_experiments_are_thin(path):
    lines = len(path.read_text().splitlines())
    assert lines <= 250, f"{path.name} has {lines} lines: move library logic into a subpackage"
