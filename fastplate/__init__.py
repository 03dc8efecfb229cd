"""fastplate: read vehicle license plates from images, fast."""
__version__ = "0.1.0"

from . import kernels
from .draw import draw
from .errors import DependencyError, FastplateError, ImageDecodeError, ModelError
from .reader import Reader
from .types import Char, Plate

__all__ = [
    "Reader",
    "Recognizer",
    "Plate",
    "Char",
    "draw",
    "kernels",
    "FastplateError",
    "ImageDecodeError",
    "ModelError",
    "DependencyError",
    "__version__",
]


def __getattr__(name):
    # The recognizer imports ONNX Runtime: load it on first use, not with the package.
    if name == "Recognizer":
        from .recognizer import Recognizer

        return Recognizer
    raise AttributeError(f"module 'fastplate' has no attribute {name!r}")
