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


def refuse_pickle(obj):
    """Raise the error for pickling or deep-copying ``obj``, which holds ONNX Runtime sessions: a
    ``__reduce__``/``__deepcopy__`` of the classes that do (ONNX Runtime's own error names none of ours)."""
    name = type(obj).__name__
    raise TypeError(f"a {name} cannot be pickled or deep-copied (it holds ONNX Runtime sessions): create one "
                    f"in each process (e.g. in a multiprocessing Pool initializer); threads may share one")
