"""Argument checks shared by the training commands: bad values stop a command at once with a one-line
argparse error, before any data is loaded or any output folder is made."""
from __future__ import annotations

import os

from ..cli import arg_number as number  # noqa: F401  (the argparse number type of the fastplate command)


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


def _writable_place(ap, path, what):
    """Refuse a path whose nearest existing folder above it cannot take it (a file on the way, no write
    permission): found now, not when the command writes, minutes or hours later."""
    if not path:
        ap.error(f"{what} is empty; give a path")
    # Up the path as given (not normalized: "afile/../x" cannot be written when afile is a file).
    above = os.path.dirname(path) or "."
    while not os.path.exists(above) and os.path.dirname(above) not in ("", above):
        above = os.path.dirname(above)
    if not os.path.exists(above):
        above = "."
    if not os.path.isdir(above):
        ap.error(f"{what} {path}: {above} is a file, not a folder")
    if not os.access(above, os.W_OK | os.X_OK):
        ap.error(f"{what} {path}: cannot write in {above}")


def output_file(ap, path, what="--out"):
    """Refuse an output file path that is an existing folder or cannot be written."""
    if os.path.isdir(path):
        ap.error(f"{what} {path} is a folder; give a file path")
    _writable_place(ap, path, what)


def output_folder(ap, path, what="--out"):
    """Refuse an output folder path that is an existing file or cannot be made."""
    if os.path.exists(path) and not os.path.isdir(path):
        ap.error(f"{what} {path} is a file; give a folder")
    if not os.path.isdir(path):
        _writable_place(ap, path, what)


def literal_options(ap, flag, items, target, own=()):
    """``NAME=VALUE`` items (a tool's ``--set``) as a dict of Python literals, each NAME a parameter of
    ``target`` (a class or function) that is not in ``own`` (those the tool sets itself); a bad item is a
    one-line argparse error naming ``flag``."""
    import ast
    import inspect

    names = inspect.signature(target).parameters
    options = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            ap.error(f"{flag} wants NAME=VALUE, got {item!r}")
        try:
            options[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            ap.error(f"{flag} {item}: the value must be a Python literal (a number, True, 'text', ...)")
        if name not in names or name in own:
            ap.error(f"{flag} {item}: not a {target.__name__} option this tool leaves to you")
    return options
