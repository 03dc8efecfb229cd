"""Average the weights of fine-tuned checkpoints (a uniform "model soup"):
``python -m fastplate.train.soup runs/rec/last.pt runs/ft/last.pt --out runs/soup.pt``.

The checkpoints must share one architecture and, for the average to make sense, one starting point (a
fine-tuning run and the run it started from). The EMA weights are averaged with equal weights, BatchNorm
statistics included; the result is a checkpoint that ``export.py`` reads like any other.
"""
from __future__ import annotations

import argparse
import os

import torch


def average(paths, weights="ema", cks=None):
    """A checkpoint dict whose ``weights`` are the uniform average of those of ``paths`` (``cks``: the
    checkpoints already loaded from them)."""
    if len(paths) < 2:
        raise ValueError("a soup needs at least two checkpoints")
    if cks is None:
        cks = [torch.load(p, map_location="cpu", weights_only=False) for p in paths]
    config = cks[0]["model_config"]
    for p, ck in zip(paths, cks):
        if ck["model_config"] != config or ck[weights].keys() != cks[0][weights].keys():
            raise ValueError(f"{p} has another architecture than {paths[0]}")
    state = {}
    for key, first in cks[0][weights].items():
        if first.is_floating_point():
            state[key] = sum(ck[weights][key].double() for ck in cks).div(len(cks)).to(first.dtype)
        else:  # counters (BatchNorm's num_batches_tracked): not averaged
            state[key] = first.clone()
    return {"ema": state, "model": state, "model_config": config, "step": [ck["step"] for ck in cks],
            "val": None, "args": {"soup_of": [os.path.abspath(p) for p in paths]}}


def main(argv=None):
    from ._args import load_checkpoint_or_exit, output_file

    ap = argparse.ArgumentParser(prog="python -m fastplate.train.soup", description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--out", required=True, help="the averaged checkpoint's file")
    args = ap.parse_args(argv)
    if len(args.checkpoints) < 2:
        ap.error("a soup needs at least two checkpoints")
    same = {os.path.realpath(p) for p in args.checkpoints}
    if len(same) < len(args.checkpoints):
        ap.error("a checkpoint is named twice (it would weigh double)")
    output_file(ap, args.out)
    cks = [load_checkpoint_or_exit(ap, p)[1] for p in args.checkpoints]
    try:
        ck = average(args.checkpoints, cks=cks)
    except ValueError as exc:
        ap.error(str(exc))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save(ck, args.out)
    print(f"averaged {len(args.checkpoints)} checkpoints (steps {ck['step']}) into {args.out}")


if __name__ == "__main__":
    main()
