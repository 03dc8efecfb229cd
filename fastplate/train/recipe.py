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
``RUNS/<stage>/done`` and is skipped, an unfinished run continues from its ``last.pt`` with its schedule.
Budgets are wall-clock minutes (the schedule spans them), so a faster machine sees more samples.
"""
from __future__ import annotations

import argparse
import os

from . import export, gate, soup, train


def _run_stage(out, argv):
    """Run one training stage to its end unless ``out/done`` says it finished."""
    marker = os.path.join(out, "done")
    if os.path.exists(marker):
        print(f"{out}: done, skipped", flush=True)
        return
    if os.path.exists(os.path.join(out, "last.pt")):
        argv = [a for i, a in enumerate(argv) if a != "--minutes" and (i == 0 or argv[i - 1] != "--minutes")]
        argv += ["--resume"]
    print("python -m fastplate.train.train " + " ".join(argv), flush=True)
    train.main(argv)
    open(marker, "w").close()


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
    if data.data_error():
        ap.error(data.data_error())
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
    export.main([final] + (["--out", args.models] if args.models else []))
    models = args.models or export.MODELS_DIR
    gate.main(["--out", models, "--recognizer", os.path.join(models, "recognizer.onnx"),
               "--data", os.path.join(args.runs, "gate_data.npz")])


if __name__ == "__main__":
    main()
