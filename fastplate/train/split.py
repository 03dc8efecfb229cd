"""The train/validation split rule of the real plates, on its own so that evaluation (``fastplate eval
--split``) needs none of the training code's dependencies.

A plate goes to validation when ``crc32(folded_text) % 5 == 0`` (about 20%), where ``folded_text`` is the
clean label with O replaced by 0. All crops of one plate text land on the same side, and labels that
differ only by O/0 too, so validation plates are never trained on.
"""
import zlib

from ..formats import fold_o0 as fold

__all__ = ["is_val"]


def is_val(text):
    """The split rule: True for validation plates (stable across runs and machines)."""
    return zlib.crc32(fold(text).encode()) % 5 == 0
