"""Exceptions raised by fastplate.

Bad arguments raise the builtin ``TypeError`` / ``ValueError`` (as NumPy and OpenCV do);
everything fastplate-specific derives from :class:`FastplateError`.
"""


class FastplateError(Exception):
    """Base class of fastplate's own errors."""


class ImageDecodeError(FastplateError, ValueError):
    """An image file or byte string could not be decoded."""


class ModelError(FastplateError, RuntimeError):
    """A model file is missing, corrupt or does not have the expected inputs/outputs."""


class DependencyError(FastplateError, ImportError):
    """An optional dependency (onnxruntime, numba, ...) is missing; the message says what to install."""
