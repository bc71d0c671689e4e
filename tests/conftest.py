"""Test-suite set-up: 8 simulated CPU devices and fast XLA compilation (set before jax is
imported), and a float64 fixture."""

import os

_FLAGS = ["--xla_force_host_platform_device_count=8"]
# Two thirds of the suite's time is XLA compiling small programs. The LLVM backend's
# optimisation level changes how fast the generated code runs, not what it computes (fast-math
# stays off), so the suite compiles without it: ~10% less time on 2 cores. Set
# JAXLAB_TEST_FULL_OPT=1 to test with the default code generation (benchmarks always use it).
if os.environ.get("JAXLAB_TEST_FULL_OPT", "0") != "1":
    _FLAGS += ["--xla_backend_optimization_level=0", "--xla_llvm_disable_expensive_passes=true"]
for _flag in _FLAGS:
    if _flag.split("=")[0] not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _flag).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402
import pytest  # noqa: E402

if os.environ.get("JAXLAB_TEST_FULL_OPT", "0") != "1":
    # and XLA's own (HLO-level) optimisation effort: another ~15% of a compile-bound file
    jax.config.update("jax_disable_most_optimizations", True)


@pytest.fixture
def float64():
    """Run the test body with 64-bit floats enabled, restoring the previous setting after."""
    with jax.enable_x64(True):
        yield


@pytest.fixture
def user_errors():
    """Turn off the suite's runtime jaxtyping checks, to see the errors a user gets.

    The suite runs with `--jaxtyping-packages=jaxlab,beartype.beartype`, which rejects a
    wrongly shaped argument before our own validation runs. Users do not run that hook, so
    bad-input tests assert the messages of our own `ValueError`/`TypeError`s with it off.
    """
    import jaxtyping

    previous = jaxtyping.config.jaxtyping_disable
    jaxtyping.config.update("jaxtyping_disable", True)
    try:
        yield
    finally:
        jaxtyping.config.update("jaxtyping_disable", previous)


def pytest_configure(config):
    # Keep the order set below (pytest-xdist's loadfile/loadscope would reorder by count).
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.hookimpl(trylast=True)  # after `-m` has deselected the slow tests
def pytest_collection_modifyitems(config, items):
    """Run test_notebooks.py first, then the experiment files (few tests, each a run of an
    experiment: they made the tail when scheduled by count), then the other files by
    decreasing number of tests (what xdist does itself), keeping the order of tests within
    each file."""
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)
    order = sorted(files, key=lambda f: (not f.endswith("test_notebooks.py"),
                                         "/experiments/" not in f, -len(files[f])))
    items[:] = [item for f in order for item in files[f]]


# Kernel and layer tests compile many small XLA programs: compile them without XLA's
# optimisation passes (about a third less compile time; the numbers checked are the same).
_UNOPTIMISED_DIRS = {"kernels", "nn"}


@pytest.fixture(autouse=True, scope="module")
def _unoptimised_compiles(request):
    if request.node.path.parent.name not in _UNOPTIMISED_DIRS:
        yield
        return
    previous = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", previous)


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's caches of traced and compiled programs after each test file.

    Every compiled CPU program keeps its own memory mappings for as long as a cache holds
    it; a worker that ran ~800 tests without releasing them reached Linux's default limit of
    65,530 mappings per process (`vm.max_map_count`), and the next compilation segfaulted
    inside XLA. Test files share almost no programs, so clearing between files costs
    little compile time.
    """
    yield
    jax.clear_caches()
