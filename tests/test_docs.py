"""The examples in the docstrings run and print what they show."""
import doctest
import importlib

import pytest

MODULES = ["fastplate.kernels", "fastplate.localize", "fastplate.formats", "fastplate.recognizer", "fastplate.reader",
           "fastplate.samples", "fastplate.draw", "fastplate.compat.openalpr"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0 and result.failed == 0


def _readme_blocks():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, re.S)


@pytest.mark.parametrize("index", range(len(_readme_blocks())))
def test_readme_python_examples_run(index, tmp_path, monkeypatch):
    # README's snippets run as written, with the package's sample image as "car.jpg" (the kernels snippet
    # once thresholded light characters only, found no row on the sample and raised an IndexError).
    import shutil

    import cv2

    from fastplate.samples import sample_path

    shutil.copy(sample_path(), tmp_path / "car.jpg")
    monkeypatch.chdir(tmp_path)
    image = cv2.imread("car.jpg")
    exec(compile(_readme_blocks()[index], f"README.md python block {index + 1}", "exec"),
         {"img1": image, "img2": image, "img3": image})
