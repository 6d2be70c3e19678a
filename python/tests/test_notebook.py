"""examples/chapter5.ipynb runs from top to bottom (nbclient, the ``python3`` kernel of this
environment) and shows what it says: the apple graph with its gradients, the layers' checks,
a gradient check within 1e-7 and a TwoLayerNet above 90% on MNIST, watched by a
``nabla.lid.Monitor`` shown inline."""

import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def outputs(cell):
    text, kinds = "", set()
    for out in cell.get("outputs", []):
        text += out.get("text", "")
        data = out.get("data", {})
        kinds.update(data)
        text += data.get("text/plain", "")
    return text, kinds


def test_chapter5_notebook_runs_and_shows_its_results():
    nb = nbformat.read(EXAMPLES / "chapter5.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        assert not any(o.get("output_type") == "error" for o in cell.get("outputs", []))
    text = "\n".join(outputs(c)[0] for c in code)
    assert "price 220.0" in text
    assert "d price/d apple = 2.2, d/d apple_num = 110, d/d tax = 200" in text
    assert "nabla: [2.2, 110.0, 3.3, 165.0, 650.0]" in text
    assert "gradient == (y - t)/N: True" in text
    svgs = [c for c in code if "image/svg+xml" in outputs(c)[1]]
    assert len(svgs) >= 6
    apple_svg = next(o["data"]["image/svg+xml"] for o in code[1]["outputs"] if "data" in o)
    for label in ("apple", "apple_num", "tax", "220", "2.2", "110", "200"):
        assert label in apple_svg, label
    monitor = next(o["data"]["text/html"] for c in code for o in c.get("outputs", [])
                   if "nabla-monitor" in o.get("data", {}).get("text/html", ""))
    for label in ("affine1 (Linear)", "relu (ReLU)", "dead", "gradient norm per layer and step",
                  "train_accuracy", "epoch 3: weights and gradients"):
        assert label in monitor, label
    last_epoch = [line for line in text.splitlines() if line.startswith("epoch 3")][0]
    assert float(last_epoch.rsplit(" ", 1)[1]) > 0.9, last_epoch
    check_lines = [line for line in text.splitlines() if "mean |numerical - backprop|" in line]
    assert len(check_lines) == 4
    assert all(float(line.rsplit("= ", 1)[1]) < 1e-7 for line in check_lines)
