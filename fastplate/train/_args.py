"""Argument checks shared by the training commands: bad values stop a command at once with a one-line
argparse error, before any data is loaded or any output folder is made."""
from __future__ import annotations

import argparse
import math
import os


def number(kind=float, low=None, high=None, low_open=False):
    """An argparse type: a ``kind`` number >= ``low`` (> ``low`` when ``low_open``) and <= ``high``."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {'a whole number' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and value > high
        if not math.isfinite(value) or too_low or too_high:
            bounds = []
            if low is not None:
                bounds.append(f"{'>' if low_open else '>='} {low}")
            if high is not None:
                bounds.append(f"<= {high}")
            raise argparse.ArgumentTypeError(f"must be {' and '.join(bounds)}, got {text}")
        return value
    return parse


def load_checkpoint_or_exit(ap, path, weights="ema", what="checkpoint"):
    """:func:`fastplate.train.export.load_checkpoint`, or an argparse error naming ``path`` (as ``what``) when
    it is not a readable checkpoint of ours (missing, a folder, truncated, another kind of file)."""
    from .export import load_checkpoint

    if os.path.isdir(path):
        ap.error(f"{what} {path} is a folder, not a checkpoint file")
    if not os.path.isfile(path):
        ap.error(f"{what} not found: {path}")
    try:
        return load_checkpoint(path, weights)
    except Exception as exc:  # noqa: BLE001  torch raises many kinds for a file that is not a checkpoint
        ap.error(f"{what} {path} is not a fastplate training checkpoint ({type(exc).__name__}: {exc})")


def output_file(ap, path, what="--out"):
    """Refuse an output file path that is an existing folder."""
    if os.path.isdir(path):
        ap.error(f"{what} {path} is a folder; give a file path")


def output_folder(ap, path, what="--out"):
    """Refuse an output folder path that is an existing file."""
    if os.path.exists(path) and not os.path.isdir(path):
        ap.error(f"{what} {path} is a file; give a folder")
