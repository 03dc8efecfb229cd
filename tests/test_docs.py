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
