"""fastplate: read vehicle license plates from images, fast."""
__version__ = "0.1.0"

from . import kernels
from .errors import DependencyError, FastplateError, ImageDecodeError, ModelError

__all__ = ["kernels", "FastplateError", "ImageDecodeError", "ModelError", "DependencyError", "__version__"]
