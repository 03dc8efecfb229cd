"""The shipped models' whole recipe in one command: ``python -m fastplate.train.recipe --runs runs``.

1. base run: ``train --out RUNS/rec --minutes 115 --threads 1`` (synthetic plates and real train crops);
2. fine-tuning run: ``train --init RUNS/rec/last.pt --out RUNS/ft --lr 1e-3 --minutes 120 --threads 2
   --small-plates`` (real crops looser and shrunk to parking-camera sizes);
3. ``soup RUNS/rec/last.pt RUNS/ft/last.pt --out RUNS/soup.pt``: the uniform average of the two;
4. two more fine-tuning runs from that average, with two seeds: ``train --init RUNS/soup.pt --out
   RUNS/ft6 --lr 5e-4 --minutes 115 --threads 1 --small-plates --reader-crops 0.5 --seed 6`` and the same
   with ``--out RUNS/ft6b --seed 7`` (half the real crops cut as our reader cuts them);
5. ``soup RUNS/soup.pt RUNS/ft6/last.pt RUNS/ft6b/last.pt --out RUNS/soup7.pt``;
6. ``export RUNS/soup7.pt``: writes ``fastplate/models/recognizer{,.int8}.onnx`` and ``recognizer.json``;
7. ``gate --recognizer MODELS/recognizer.onnx --data RUNS/gate_data.npz``: the candidate gate
   (``fastplate/models/gate.onnx``), whose labels use the recognizer just exported.

The last checkpoint of each run is used, never the best-validated one, so the validation splits choose
nothing. Resumable: run the same command again after an interruption; a finished stage leaves
``RUNS/<stage>/done`` (with its arguments and the hash of the checkpoint it started from) and is skipped, an
unfinished run continues from its ``last.pt`` with its schedule (the time it was stopped is not spent). A
finished stage whose starting checkpoint has changed since (an earlier stage trained again) stops the
recipe: delete its folder to train it again. The export and the gate are redone only when what they are
made from has changed (``RUNS/export.done``, ``RUNS/gate.done``); the export is written to a staging folder
first and then moved into place. Budgets are wall-clock minutes (the schedule spans them), so a faster
machine sees more samples.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil

from . import export, gate, soup, train


def _stage_record(argv):
    """What a finished stage was made from: its arguments (without the budget) and its start checkpoint."""
    kept = [a for i, a in enumerate(argv) if a != "--minutes" and (i == 0 or argv[i - 1] != "--minutes")]
    init = argv[argv.index("--init") + 1] if "--init" in argv else None
    # Paths are compared as the files they name ("runs" and "./runs" are one folder); the start checkpoint by
    # its contents.
    options = [a for i, a in enumerate(kept) if a not in ("--out", "--init") and
               (i == 0 or kept[i - 1] not in ("--out", "--init"))]
    return {"options": options, "init_sha256": None if init is None else gate.file_sha256(init)}


def _run_stage(out, argv):
    """Run one training stage to its end unless ``out/done`` says it finished from the same inputs."""
    marker = os.path.join(out, "done")
    record = _stage_record(argv)
    if os.path.exists(marker):
        with open(marker) as f:
            text = f.read().strip()
        try:
            recorded = json.loads(text) if text else None  # empty: written before inputs were recorded
        except ValueError:
            recorded = None  # cut short while being written: the stage itself had finished
        if recorded is not None and recorded != record:
            raise SystemExit(f"{out} was finished from other inputs than this recipe gives it now (an earlier "
                             f"stage was trained again, or other options): delete {out} to train it again")
        print(f"{out}: done, skipped", flush=True)
        return
    if os.path.exists(os.path.join(out, "last.pt")):
        argv = [a for i, a in enumerate(argv) if a != "--minutes" and (i == 0 or argv[i - 1] != "--minutes")]
        argv += ["--resume"]
    print("python -m fastplate.train.train " + " ".join(argv), flush=True)
    train.main(argv)
    with open(marker, "w") as f:
        json.dump(record, f)


def _labeller(gate_data):
    """The SHA-256 of the recognizer that labelled collected gate data (None: not recorded or unreadable)."""
    import numpy as np

    try:
        with np.load(gate_data) as saved:
            return gate.labeller(saved)
    except Exception:  # noqa: BLE001  not ours: collected again
        return None


def _once(marker, made_from, step):
    """Run ``step()`` unless ``marker`` records that it was done from the same ``made_from`` (hashes)."""
    if os.path.exists(marker):
        try:
            with open(marker) as f:
                same = json.load(f) == made_from
        except ValueError:  # cut short while being written: done again
            same = False
        if same:
            print(f"{marker}: done from the same inputs, skipped", flush=True)
            return
    step()
    with open(marker, "w") as f:
        json.dump(made_from, f)


def _export(final, models):
    """Export ``final`` into a staging folder, then move the files into ``models`` one by one (an export
    interrupted while it runs leaves the shipped files as they were; one interrupted while moving is done
    again on the next run, as its ``export.done`` is written after the move)."""
    staging = os.path.join(models, ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    export.main([final, "--out", staging])
    for name in sorted(os.listdir(staging)):
        os.replace(os.path.join(staging, name), os.path.join(models, name))
    os.rmdir(staging)


def main(argv=None):
    from ._args import number, output_folder

    minutes = number(float, 0, low_open=True)
    ap = argparse.ArgumentParser(prog="python -m fastplate.train.recipe", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default="runs", help="folder for the checkpoints (default runs)")
    ap.add_argument("--base-minutes", type=minutes, default=115.0)
    ap.add_argument("--finetune-minutes", type=minutes, default=120.0)
    ap.add_argument("--second-minutes", type=minutes, default=115.0, help="each of the two later fine-tuning runs")
    ap.add_argument("--models", default=None, help="where to export (default: the package's models folder)")
    args = ap.parse_args(argv)
    from . import data

    output_folder(ap, args.runs, "--runs")  # here, not after hours of training
    if args.models is not None:
        output_folder(ap, args.models, "--models")
    from .synth import font_problem

    # The data, and the shipped model's fonts (without them the recipe trains another model).
    problem = data.data_error(backgrounds=True) or font_problem()
    if problem:
        ap.error(problem)
    rec, ft = os.path.join(args.runs, "rec"), os.path.join(args.runs, "ft")
    _run_stage(rec, ["--out", rec, "--minutes", str(args.base_minutes), "--threads", "1"])
    _run_stage(ft, ["--init", os.path.join(rec, "last.pt"), "--out", ft, "--lr", "1e-3",
                    "--minutes", str(args.finetune_minutes), "--threads", "2", "--small-plates"])
    soup_path = os.path.join(args.runs, "soup.pt")
    soup.main([os.path.join(rec, "last.pt"), os.path.join(ft, "last.pt"), "--out", soup_path])
    second = []
    for name, seed in (("ft6", 6), ("ft6b", 7)):
        out = os.path.join(args.runs, name)
        _run_stage(out, ["--init", soup_path, "--out", out, "--lr", "5e-4", "--minutes", str(args.second_minutes),
                         "--threads", "1", "--small-plates", "--reader-crops", "0.5", "--seed", str(seed)])
        second.append(os.path.join(out, "last.pt"))
    final = os.path.join(args.runs, "soup7.pt")
    soup.main([soup_path, *second, "--out", final])
    models = args.models or export.MODELS_DIR
    _once(os.path.join(args.runs, "export.done"), {"from": gate.file_sha256(final), "to": os.path.abspath(models)},
          lambda: _export(final, models))
    recognizer = os.path.join(models, "recognizer.onnx")
    gate_data = os.path.join(args.runs, "gate_data.npz")

    def make_gate():
        if os.path.exists(gate_data) and _labeller(gate_data) != gate.file_sha256(recognizer):
            os.remove(gate_data)  # labelled by an earlier recognizer: collected again with this one
        gate.main(["--out", models, "--recognizer", recognizer, "--data", gate_data])

    _once(os.path.join(args.runs, "gate.done"), {"recognizer": gate.file_sha256(recognizer),
                                                 "to": os.path.abspath(models)},
          make_gate)


if __name__ == "__main__":
    main()
