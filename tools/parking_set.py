"""A US parking-camera stand-in: real US plate crops pasted small into plate-free 1280x720 scenes; and its score.

The frames are built by :func:`fastplate.train.parking.generate` (see there); this scores a Reader on them.

Plates follow the recognizer's split rule (:func:`fastplate.train.split.is_val`): tune on ``--split train``
frames, report ``--split val`` only. Backgrounds are split too (by file name, same rule), so the val frames'
scenes are not the ones tuned on either. Frames are never written into the repository: ``--write DIR`` puts
them in DIR in the OpenALPR benchmark layout (``NAME.jpg`` + ``NAME.txt``: ``file x y w h PLATE``), so
``fastplate eval DIR --country us`` scores them too; without it they are scored in memory with the same
metric (IoU > 0.4 and top-1 text, strict and O/0 folded, false results per image, median/p90 ms).

    python tools/parking_set.py --split val                       # score the val stand-in
    python tools/parking_set.py --split train --show-errors       # tune on this one
    python tools/parking_set.py --split train --set min_confidence_unmatched=0.95 --loc max_candidates=12
    python tools/parking_set.py --split val --negatives           # plate-free 1280x720 frames: false results
    python tools/parking_set.py --split val --negatives --osd val # ... with camera text burnt in (timestamps)
    python tools/parking_set.py --split val --model /tmp/m/recognizer.onnx   # a candidate recognizer
    python tools/parking_set.py --split train --pitch 30          # seen by a camera looking down 30 degrees
    python tools/parking_set.py --split val --write /tmp/parking-val && fastplate eval /tmp/parking-val --country us
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

# Score the working tree's fastplate, not an installed copy (``python tools/...`` puts tools/ on the path).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastplate.cli import arg_number as number  # noqa: E402
from fastplate.train.parking import generate  # noqa: E402


def pitched(frames, degrees):
    """Frames from :func:`generate` seen turned ``degrees`` about their horizontal middle line, as a camera
    looking down sees them (``tools/robustness.py``'s ``pitch``): plates shorter for their width, the far
    edge narrower; each frame on a canvas that holds all of it (wider and shorter than 1280x720), labels
    moved."""
    if str(Path(__file__).resolve().parent) not in sys.path:  # robustness.py lies beside this file
        sys.path.insert(0, str(Path(__file__).resolve().parent))
    from robustness import turned

    for name, frame, _, labels in frames:
        out, moved = turned(frame, labels, degrees, "x")
        jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
        yield name, out, jpeg, [((round(x), round(y), round(w), round(h)), t) for (x, y, w, h), t in moved]


def write(folder, frames):
    """Write frames from :func:`generate` in the OpenALPR benchmark layout."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, _, jpeg, labels in frames:
        (folder / f"{name}.jpg").write_bytes(jpeg)
        (folder / f"{name}.txt").write_text(
            "".join(f"{name}.jpg\t{x}\t{y}\t{w}\t{h}\t{text}\n" for (x, y, w, h), text in labels))


def evaluate(frames, reader, *, show_errors=False, recall=True, out=None):
    """Score ``reader`` on frames from :func:`generate` like ``fastplate eval``; returns the summary dict
    (printed to ``out``, default ``sys.stdout`` at call time). ``reader`` may be a dict ``{label: Reader}``:
    each frame is then read by each reader in turn (interleaved, so a busy machine slows them alike), and
    a dict ``{label: summary}`` is returned."""
    out = sys.stdout if out is None else out
    from fastplate.cli import score_image
    from fastplate.localize import box_iou

    readers = reader if isinstance(reader, dict) else {None: reader}
    keys = ("plates", "detected", "top1", "top1_folded", "false")
    acc = {k: {"totals": dict.fromkeys(keys + ("candidates_found",), 0), "times": [], "cpu": [], "errors": [],
               "images": 0} for k in readers}
    for name, frame, _, labels in frames:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)  # decoding/conversion not timed, as in fastplate eval
        if gray.shape != (720, 1280):  # seen from above (--pitch): each frame its own canvas
            for a in acc.values():
                a["size"] = "of 1280x720 seen from above"
        for label, r in readers.items():
            a = acc[label]
            t, c = time.perf_counter(), time.thread_time()
            (plates,), _ = r.read_arrays([gray])
            a["times"].append(1000 * (time.perf_counter() - t))
            a["cpu"].append(1000 * (time.thread_time() - c))
            s = score_image(plates, labels, r.top_n)
            a["images"] += 1
            for k in keys:
                a["totals"][k] += s[k]
            if recall and labels:  # candidate recall of the localizer (not timed: a second localization)
                cands = r.localizer(r._prepare(gray))  # as read_arrays localizes: the first pass ...
                if not plates and r.second_look:  # ... and the second look where it found nothing
                    cands += r.localizer(r._prepare(gray, second_look=True))
                a["totals"]["candidates_found"] += sum(
                    any(box_iou(c.box, box) > 0.4 for c in cands) for box, _ in labels)
            a["errors"].extend((name, want, got) for want, got in s["errors"])
    summaries = {label: _summary(a, recall, show_errors, out, label) for label, a in acc.items()}
    return summaries if isinstance(reader, dict) else summaries[None]


def _summary(a, recall, show_errors, out, label=None):
    totals, times, cpu, images = a["totals"], a["times"], a["cpu"], a["images"]
    n = max(totals["plates"], 1)
    summary = {
        "images": images, "plates": totals["plates"],
        "candidate_recall": totals["candidates_found"] / n if recall else None,
        "detection": totals["detected"] / n, "top1": totals["top1"] / n, "top1_folded": totals["top1_folded"] / n,
        "top1_plates": totals["top1"], "false_per_image": totals["false"] / max(images, 1),
        "median_ms": float(np.median(times)) if times else float("nan"),
        "p90_ms": float(np.percentile(times, 90)) if times else float("nan"),
        "median_cpu_ms": float(np.median(cpu)) if cpu else float("nan"),
    }
    print(("" if label is None else f"[{label}] ") + f"{images} frames {a.get('size', '1280x720')}, "
          f"{totals['plates']} plates", file=out)
    if recall and totals["plates"]:
        print(f"  candidate recall (IoU > 0.4) {100 * summary['candidate_recall']:6.1f} %", file=out)
    print(f"  detection (IoU > 0.4)   {100 * summary['detection']:6.1f} %", file=out)
    print(f"  top-1                   {100 * summary['top1']:6.1f} %   O/0 folded "
          f"{100 * summary['top1_folded']:6.1f} %   ({totals['top1']} plates)", file=out)
    print(f"  false results per image {summary['false_per_image']:8.3f}", file=out)
    print(f"  ms per frame            median {summary['median_ms']:.1f}, p90 {summary['p90_ms']:.1f}, "
          f"CPU median {summary['median_cpu_ms']:.1f}", file=out)
    if show_errors:
        for name, want, got in a["errors"]:
            print(f"    {name}: " + (f"false result {got}" if want is None else
                                     f"expected {want}, got {got or '(not found)'}"), file=out)
    return summary


def check_arguments(parser, args):
    """One-line errors, before any frame is made, for what would otherwise stop the run with a traceback.
    Sets ``args.reader_options`` and ``args.localizer_options`` (``--set`` and ``--loc`` as dicts)."""
    import os

    from fastplate import Reader
    from fastplate.formats import countries
    from fastplate.localize import Localizer
    from fastplate.train._args import literal_options, output_folder
    from fastplate.train.data import data_error

    if args.pitch is not None and not 0 <= args.pitch <= 80:
        parser.error(f"--pitch must be from 0 to 80 degrees, got {args.pitch:g}")
    missing = data_error(sets=("us-crops",))
    if missing:
        parser.error(missing)
    if args.country and args.country not in countries():
        parser.error(f"--country must be one of {', '.join(countries())} (or \"\" for none), got {args.country!r}")
    for flag, path in (("--model", args.model), ("--gate", None if args.gate in ("on", "off", "both") else args.gate)):
        if path is not None and not os.path.isfile(path):
            parser.error(f"{flag}: no such file: {path}")
    args.reader_options = literal_options(parser, "--set", args.set, Reader,
                                          own=("country", "threads", "recognizer_threads", "gate", "localizer"))
    args.localizer_options = literal_options(parser, "--loc", args.loc, Localizer)
    if args.write:
        output_folder(parser, args.write, "--write")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("train", "val"), default="val")
    parser.add_argument("--passes", type=number(int, 1), default=2, help="times each crop is pasted (other sizes/places)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--negatives", action="store_true", help="frames without plates (false results)")
    parser.add_argument("--osd", choices=("train", "val"), default=None,
                        help="burn a line of camera text (timestamp, camera name) into each frame, in the train or "
                             "val style set (fastplate.train.osd)")
    parser.add_argument("--limit", type=number(int, 1), default=None, help="first N frames only")
    parser.add_argument("--pitch", type=float, default=None, metavar="DEGREES",
                        help="see the frames from this many degrees above (a camera looking down; 0-80)")
    parser.add_argument("--write", metavar="DIR", help="write the frames to DIR instead of scoring them")
    parser.add_argument("--country", default="us")
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument("--model", default=None, metavar="ONNX",
                        help="a recognizer model to score instead of the shipped one (e.g. an exported candidate)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a Reader option, e.g. --set min_confidence=0.8 (the value is a Python literal)")
    parser.add_argument("--loc", action="append", default=[], metavar="NAME=VALUE",
                        help="a Localizer option, e.g. --loc max_candidates=12 (a Python literal)")
    parser.add_argument("--antialias", choices=("on", "off"), default=None,
                        help="Recognizer(antialias=...) (default: the Recognizer's)")
    parser.add_argument("--gate", default="on", metavar="on|off|both|ONNX",
                        help="the candidate gate: the shipped one (on), none (off), both side by side on the same "
                             "frames (interleaved), or a gate model file")
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    frames = generate(args.split, passes=args.passes, seed=args.seed, negatives=args.negatives, osd=args.osd)
    if args.osd:
        frames = (f[:4] for f in frames)
    if args.limit:
        frames = (f for i, f in zip(range(args.limit), frames))
    if args.pitch:
        frames = pitched(frames, args.pitch)
    if args.write:
        write(args.write, frames)
        return 0
    from fastplate import Reader

    from fastplate.gate import CandidateGate

    options = dict(args.reader_options)
    if args.model or args.antialias:
        from fastplate import Recognizer
        from fastplate.reader import READ_TOP_N

        extra = {} if args.antialias is None else {"antialias": args.antialias == "on"}
        options["recognizer"] = Recognizer(args.model, threads=1, top_n=max(options.get("top_n", 10), READ_TOP_N),
                                           **extra)

    if args.loc:  # the Reader's default localizer (its padding and gate) with these options changed
        options["localizer"] = dict(args.localizer_options)

    def make(gate):
        return Reader(args.country or None, threads=1, recognizer_threads=1, gate=gate, **options)

    gates = {"on": {None: True}, "off": {None: False}, "both": {"gate off": False, "gate on": True}}.get(args.gate) \
        or {None: CandidateGate(args.gate)}
    readers = {label: make(gate) for label, gate in gates.items()}
    evaluate(frames, readers if len(readers) > 1 else readers[None], show_errors=args.show_errors,
             recall=not args.negatives)
    return 0


if __name__ == "__main__":
    sys.exit(main())
