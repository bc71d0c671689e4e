"""Every notebook in notebooks/ runs top to bottom, and is committed without outputs.

The default suite runs the quickstart notebook and checks that every notebook is committed
without outputs and that each code cell compiles (ruff lints them too); the others
(training, large estimators, parallel maps: 12-60 s each on 2 cores) run with
`make test-all` (`slow`), to keep `make test` within its 15 minutes.
"""

import os
import pathlib

import nbclient
import nbformat
import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_there_is_a_notebook_per_subpackage():
    stems = " ".join(p.stem for p in NOTEBOOKS)
    for topic in ("quickstart", "train", "systems", "parallel", "kde", "distrl", "koopman",
                  "kernels", "neural_de", "generative", "metrics"):
        assert topic in stems


LIGHT = ("00_quickstart",)


def _cases():
    for path in NOTEBOOKS:
        marks = () if path.stem in LIGHT else (pytest.mark.slow,)
        yield pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_clean_and_compiles(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        assert not cell.get("outputs"), f"{path.name} is committed with outputs; strip them"
        compile(cell.source, f"{path.name}:cell {i}", "exec")


@pytest.mark.parametrize("path", list(_cases()))
def test_notebook_runs(path, tmp_path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        f"{path.name} is committed with outputs; strip them"
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(path.parents[1]), os.environ.get("PYTHONPATH", "")]))
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
