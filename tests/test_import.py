"""`import jaxlab` is light: heavy dependencies load only with the subpackages that need them."""

import subprocess
import sys

HEAVY = ("diffrax", "optax", "numpyro", "matplotlib", "equinox")


def _imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return {m.split(".")[0] for m in out.split()}


def test_import_jaxlab_is_lazy():
    loaded = _imported_after("import jaxlab")
    assert not loaded & set(HEAVY), f"import jaxlab loaded {sorted(loaded & set(HEAVY))}"


def test_importtime_lists_no_heavy_module():
    # The same claim as `python -X importtime -c "import jaxlab"` shows it.
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import jaxlab"],
                         capture_output=True, text=True, check=True, timeout=120).stderr
    modules = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in err.splitlines()}
    assert "jaxlab" in modules
    assert not modules & set(HEAVY)


def test_subpackages_load_on_attribute_access():
    loaded = _imported_after("import jaxlab\njaxlab.systems.Lorenz")
    assert "diffrax" in loaded
    code = "import jaxlab\nprint(jaxlab.__version__)"
    version = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, timeout=120).stdout.strip()
    assert version and version[0].isdigit()


def test_cli_list_does_not_import_jax_solvers():
    loaded = _imported_after("from jaxlab.cli import main\nimport contextlib, io\n"
                             "with contextlib.redirect_stdout(io.StringIO()):\n"
                             "    main(['list'])")
    assert "diffrax" not in loaded and "matplotlib" not in loaded
