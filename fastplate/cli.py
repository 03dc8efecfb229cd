"""The ``fastplate`` command: read plates in images, score a labelled folder, measure speed.

    fastplate read IMAGE_OR_DIR... [--country us] [-n 10] [--json | --format openalpr] [--batch-size N]
    fastplate read --sample
    fastplate eval DIR [--country eu]
    fastplate bench
"""
from __future__ import annotations

import argparse
import json
import math
import os
import stat
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".webp", ".tif", ".tiff", ".jp2", ".pgm", ".ppm", ".pbm",
                  ".gif"}


class Progress:
    """A tiny progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int, enabled: bool | None = None, width: int = 30):
        self.total = max(int(total), 1)
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.width = width
        self.done = 0
        self.start = time.perf_counter()

    def update(self, n: int = 1):
        self.done += n
        if not self.enabled:
            return
        frac = min(self.done / self.total, 1.0)
        fill = int(frac * self.width)
        rate = self.done / max(time.perf_counter() - self.start, 1e-9)
        sys.stderr.write(f"\r[{'#' * fill}{'.' * (self.width - fill)}] {self.done}/{self.total} {rate:.1f} img/s")
        sys.stderr.flush()

    def clear(self):
        """Erase the bar's line, so that a message or a result printed next starts on a clean line (the
        next update draws the bar again below it)."""
        if self.enabled and self.done:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()

    def close(self):
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _expand(paths) -> list:
    """Files named on the command line, with folders replaced by the image files in them (sorted).

    A file is kept as it was given (``./car.jpg`` stays ``./car.jpg``: scripts match results by the paths
    they passed); a folder's files are the folder as given joined with their names.
    """
    out = []
    for p in paths:
        path = Path(p)
        if p not in ("-", "") and path.is_dir():  # Path("") is ".": an empty name is a missing file, not cwd
            # A broken link is kept, so that it is reported as missing rather than silently left out.
            out.extend(sorted(os.path.join(p, f.name) for f in path.iterdir()
                              if (f.is_file() or (f.is_symlink() and not f.is_dir()))
                              and f.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(p)
    return out


def _printable(name, stream) -> str:
    """``name`` as ``stream`` can write it: a file name whose bytes are not valid in the locale's encoding
    (Python holds them as surrogates) would abort the run on a strict stream, so it is backslash-escaped."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        name.encode(encoding, getattr(stream, "errors", None) or "strict")
        return name
    except UnicodeEncodeError:
        return name.encode(encoding, "backslashreplace").decode(encoding)


def _make_reader(args, threads=None, recognizer_threads=None):
    from .reader import READ_TOP_N, Reader

    recognizer = None
    if args.model is not None or args.antialias is not None:
        from .recognizer import Recognizer

        extra = {} if args.antialias is None else {"antialias": args.antialias == "on"}
        recognizer = Recognizer(args.model, device=args.device, threads=recognizer_threads,
                                top_n=max(args.top_n, READ_TOP_N), **extra)  # as the Reader's own: reading ignores -n
    options = {} if args.min_confidence is None else {"min_confidence": args.min_confidence}
    country, region = _reader_country(args.country)
    return Reader(country, region=region, recognizer=recognizer, top_n=args.top_n, device=args.device, threads=threads,
                  recognizer_threads=recognizer_threads, gate=getattr(args, "gate", True),
                  second_look=getattr(args, "second_look", True), ignore=getattr(args, "ignore", None) or None,
                  **options)


def _box(value):
    """``X,Y,W,H`` (pixels) for ``--ignore``."""
    try:
        box = tuple(float(v) for v in value.split(","))
    except ValueError:
        box = ()
    if len(box) != 4 or not all(math.isfinite(v) for v in box) or box[2] <= 0 or box[3] <= 0:
        raise argparse.ArgumentTypeError(f"wants X,Y,W,H: four numbers, W and H positive, got {value!r}")
    return box


def _country(value):
    """A country as the Reader takes it (us, eu, br or None), or one of OpenALPR's codes, mapped as the
    OpenALPR drop-in maps them (:func:`_reader_country`)."""
    from .compat.openalpr import _country as openalpr_country
    from .formats import countries

    value = value.strip().lower()
    if value in ("none", "any", ""):
        return None
    if value not in countries() and openalpr_country(value) is None:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(countries())} or none, or an OpenALPR "
                                         f"country code (gb, de, br2, au, ...), got {value!r}")
    return value


def _reader_country(code):
    """``(Reader country, preferred region)`` of a ``--country`` value: an OpenALPR code such as ``gb`` is read
    as ``eu`` with that region preferred, ``br2`` as ``br``, ``au`` without formats."""
    from .compat.openalpr import _country as openalpr_country
    from .formats import countries

    if code is None or code in countries():
        return code, None
    return openalpr_country(code)


def arg_number(kind=float, low=None, high=None, low_open=False):
    """An argparse type: a finite ``kind`` number >= ``low`` (> ``low`` when ``low_open``) and <= ``high``
    (the training commands use it too)."""
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


# ---------------------------------------------------------------------------------------------- read
def _print_text(name, plates, out):
    out.write(f"{_printable(name, out)}\n")
    if not plates:
        out.write("  No license plates found.\n")
    for i, plate in enumerate(plates):
        out.write(f"  plate{i}: {len(plate.candidates)} results\n")
        for text, conf in plate.candidates:
            mark = "*" if text == plate.text and plate.matches_template else "-"
            out.write(f"    {mark} {text:<12} confidence: {100 * conf:.2f}\n")


def _try_load(name):
    """``(gray image, None)``, or ``(None, the error)`` for a file that cannot be read (``-``: standard
    input's bytes, capped as files are)."""
    from .errors import ImageDecodeError
    from .images import MAX_FILE_BYTES, load_gray

    try:
        if name != "-":
            return load_gray(name), None
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)  # never more: a pipe can be endless
        if len(data) > MAX_FILE_BYTES:
            raise ImageDecodeError(f"image on standard input is too large (more than {MAX_FILE_BYTES} bytes)")
        return load_gray(data), None
    except (OSError, ValueError, TypeError) as exc:  # ImageDecodeError is a ValueError
        return None, exc


def cmd_read(args) -> int:
    from .compat.openalpr import to_openalpr
    from .kernels import map_images

    files = _expand(args.images)
    if args.sample:
        from .samples import sample_path

        files.insert(0, str(sample_path()))
    if not files:
        empty = [p for p in args.images if p and Path(p).is_dir()]
        print("fastplate read: " + (f"no image files in {', '.join(empty)}" if empty else
                                    "no images given (pass files or folders, or --sample)"), file=sys.stderr)
        return 2
    reader = _make_reader(args, threads=args.threads)
    as_json = args.json or args.format in ("json", "openalpr")
    failed = 0
    bar = Progress(len(files), enabled=None if len(files) > 1 else False)
    out = sys.stdout
    for start in range(0, len(files), args.batch_size):
        chunk = files[start:start + args.batch_size]
        # decode on the reader's threads too (OpenCV's decoders release the GIL)
        loaded = map_images(_try_load, chunk, threads=reader.threads)
        good = [i for i, (_, exc) in enumerate(loaded) if exc is None]
        plates_of, ms_of = reader.read_arrays([loaded[i][0] for i in good]) if good else ([], [])
        read = {i: (plates, ms) for i, plates, ms in zip(good, plates_of, ms_of)}
        for i, (name, (gray, exc)) in enumerate(zip(chunk, loaded)):  # in the order given
            bar.clear()
            if exc is not None:
                failed += 1
                print(f"fastplate read: {name}: {exc}", file=sys.stderr)
                if as_json:
                    # OpenALPR's keys with no plates (as its library answers a missing file), so that code
                    # reading record["results"] goes on; "error" says why, and the exit status is 1.
                    record = to_openalpr([], 0, 0, 0.0, args.top_n)
                    record.update(file=name, error=str(exc))
                    out.write(json.dumps(record) + "\n")
            else:
                plates, ms = read[i]
                if as_json:
                    record = to_openalpr(plates, gray.shape[1], gray.shape[0], ms, args.top_n, reader.formats)
                    record["file"] = name
                    out.write(json.dumps(record) + "\n")
                else:
                    _print_text(name, plates, out)
            out.flush()
            bar.update()
        out.flush()
    bar.close()
    return 1 if failed else 0


# ---------------------------------------------------------------------------------------------- eval
MAX_LABEL_BYTES = 16 << 20


def read_benchmark_labels(folder: Path, problems=None) -> list:
    """``[(image path, [((x, y, w, h), text), ...]), ...]`` from an OpenALPR benchmark folder.

    Each ``NAME.txt`` labels one image with lines ``file x y w h PLATE`` (tab- or space-separated); texts
    are compared as :func:`fastplate.formats.plate_text` (uppercase, no spaces or dashes). An empty
    ``NAME.txt`` labels the image of that name as having no plates (its results are all false). What
    cannot be used (malformed lines, boxes that are not positive finite numbers, labels whose image is
    missing, images without labels) is skipped and described in ``problems`` (a list, if given).
    """
    from .formats import plate_text

    problems = [] if problems is None else problems
    items, labelled = [], {}  # labelled: image path -> the label file that labels it
    for txt in sorted(folder.glob("*.txt")):
        try:
            # A FIFO or device named x.txt would block or never end: regular files of label size only.
            info = txt.stat()
            if not stat.S_ISREG(info.st_mode):
                problems.append(f"{txt.name}: skipped (not a regular file)")
                continue
            if info.st_size > MAX_LABEL_BYTES:
                problems.append(f"{txt.name}: skipped (larger than {MAX_LABEL_BYTES >> 20} MB: not a label file)")
                continue
            text = txt.read_text(encoding="utf-8-sig", errors="replace")  # -sig: Notepad's byte-order mark
        except OSError as exc:  # a folder named x.txt, a broken link, no permission
            problems.append(f"{txt.name}: skipped (cannot be read: {exc.strerror or exc})")
            continue
        labels, image = [], None
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            parts = line.strip().split("\t") if "\t" in line else line.split()
            try:
                if len(parts) < 6:
                    raise ValueError(f"{len(parts)} fields, expected 6 (file x y w h PLATE)")
                box = tuple(float(v) for v in parts[1:5])
                if not all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
                    raise ValueError(f"box {parts[1:5]} is not finite with a positive width and height")
            except ValueError as exc:
                problems.append(f"{txt.name} line {number}: skipped ({exc})")
                continue
            name = folder / parts[0]
            if image is not None and name != image:
                problems.append(f"{txt.name} line {number}: skipped (names {parts[0]}, the file names {image.name})")
                continue
            image = name
            # Tab-separated: the sixth field; space-separated: the rest of the line (plates with spaces).
            labels.append((box, plate_text(parts[5] if "\t" in line else "".join(parts[5:]))))
        if image is None:  # no usable line: plate-free if the file is empty, else unusable
            same = [txt.with_suffix(s) for s in sorted(IMAGE_SUFFIXES) if txt.with_suffix(s).is_file()]
            if not same or text.strip():
                problems.append(f"{txt.name}: skipped (" + ("no image named like it)" if not same else "no usable line)"))
                continue
            image = same[0]
        if not image.is_file():
            problems.append(f"{txt.name}: skipped (its image {image.name} is missing)")
            continue
        if image in labelled:  # scored once, with its first labels
            problems.append(f"{txt.name}: skipped (its image {image.name} is labelled by {labelled[image]} too)")
            continue
        labelled[image] = txt.name
        items.append((image, labels))
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES and path not in labelled and not path.with_suffix(".txt").exists():
            problems.append(f"{path.name}: skipped (no {path.stem}.txt with its labels)")
    return items


def score_image(plates, labels, top_n: int) -> dict:
    """Match one image's results to its labels (IoU > 0.4, each result used once)."""
    from .formats import fold_o0
    from .localize import box_iou

    used = set()
    s = {"plates": len(labels), "detected": 0, "top1": 0, "top1_folded": 0, "topn": 0, "topn_folded": 0}
    errors = []
    for box, text in labels:
        best, best_iou = None, 0.4
        for i, p in enumerate(plates):
            iou = box_iou(p.box, box)
            if i not in used and iou > best_iou:
                best, best_iou = i, iou
        if best is None:
            errors.append((text, None))
            continue
        used.add(best)
        p = plates[best]
        cands = [t for t, _ in p.candidates[:top_n]] or [p.text]
        s["detected"] += 1
        s["top1"] += p.text == text
        s["top1_folded"] += fold_o0(p.text) == fold_o0(text)
        s["topn"] += text in cands
        s["topn_folded"] += fold_o0(text) in {fold_o0(t) for t in cands}
        if p.text != text:
            errors.append((text, p.text))
    s["false"] = len(plates) - len(used)
    errors.extend((None, p.text) for i, p in enumerate(plates) if i not in used)
    s["errors"] = errors
    return s


def cmd_eval(args) -> int:
    from .images import load_gray

    folder = Path(args.folder)
    if not args.folder or not folder.is_dir():  # Path("") is "."
        print(f"fastplate eval: {args.folder or repr(args.folder)} is not a folder", file=sys.stderr)
        return 2
    problems = []
    items = read_benchmark_labels(folder, problems)
    for problem in problems:
        print(f"fastplate eval: {folder / problem}", file=sys.stderr)
    labelled = len(items)
    if args.split != "all":
        # The shipped recognizer trained on the "train" split of the labelled scenes (see the model card):
        # score "val" to see how it does on plates it never saw. Plate-free images are in both splits.
        from .train.split import is_val  # not train.data: evaluation needs none of training's dependencies

        items = [(p, labels) for p, labels in items if all(is_val(t) == (args.split == "val") for _, t in labels)]
    if not items:
        print(f"fastplate eval: no labelled images in {folder} (expected NAME.jpg + NAME.txt)" if not labelled else
              f"fastplate eval: none of the {labelled} labelled images in {folder} is in the {args.split} split",
              file=sys.stderr)
        return 2
    reader = _make_reader(args, threads=1, recognizer_threads=args.threads)
    totals = {"images": 0, "plates": 0, "detected": 0, "top1": 0, "top1_folded": 0, "topn": 0, "topn_folded": 0,
              "false": 0}
    times, cpu_times, failed, mistakes = [], [], 0, []
    bar = Progress(len(items))
    for path, labels in items:
        try:
            gray = load_gray(str(path))
        except (OSError, ValueError) as exc:
            failed += 1
            bar.clear()
            print(f"fastplate eval: {path}: {exc}", file=sys.stderr)
            bar.update()
            continue
        t, c = time.perf_counter(), time.thread_time()  # decoding is not timed, as in OpenALPR
        (plates,), _ = reader.read_arrays([gray])
        times.append(1000.0 * (time.perf_counter() - t))
        cpu_times.append(1000.0 * (time.thread_time() - c))
        s = score_image(plates, labels, args.top_n)
        totals["images"] += 1
        for k in ("plates", "detected", "top1", "top1_folded", "topn", "topn_folded", "false"):
            totals[k] += s[k]
        mistakes.extend((path.name, want, got) for want, got in s["errors"])
        bar.update()
    bar.close()
    n = max(totals["plates"], 1)
    summary = {
        "folder": str(folder),
        "split": args.split,
        "images": totals["images"],
        "plates": totals["plates"],
        "detection": totals["detected"] / n,
        "top1": totals["top1"] / n,
        "top1_folded": totals["top1_folded"] / n,
        f"top{args.top_n}": totals["topn"] / n,
        f"top{args.top_n}_folded": totals["topn_folded"] / n,
        "false_per_image": totals["false"] / max(totals["images"], 1),
        "median_ms": float(np.median(times)) if times else float("nan"),
        "p90_ms": float(np.percentile(times, 90)) if times else float("nan"),
        # CPU time of this thread: what the wall time would be on an idle core (with one recognizer thread)
        "median_cpu_ms": float(np.median(cpu_times)) if cpu_times else float("nan"),
        "threads": args.threads,
        "failed_files": failed,
        "skipped": len(problems),
    }
    if args.json:
        # strict JSON: no NaN (the timings when no image could be read)
        summary = {k: (None if isinstance(v, float) and v != v else v) for k, v in summary.items()}
        if args.show_errors:
            summary["errors"] = [{"file": name, "expected": want, "got": got} for name, want, got in mistakes]
        print(json.dumps(summary))
    else:
        shown = _printable(str(folder), sys.stdout)
        print(f"{shown}: {summary['images']} images, {summary['plates']} plates, country {args.country}"
              + ("" if args.split == "all" else f", {args.split} split of the recognizer")
              + (f" ({len(problems)} lines or files skipped: see above)" if problems else ""))
        print(f"  detection (IoU > 0.4)   {100 * summary['detection']:6.1f} %")
        print(f"  top-1                   {100 * summary['top1']:6.1f} %   O/0 folded {100 * summary['top1_folded']:6.1f} %")
        print(f"  top-{args.top_n:<2}                  {100 * summary[f'top{args.top_n}']:6.1f} %   "
              f"O/0 folded {100 * summary[f'top{args.top_n}_folded']:6.1f} %")
        print(f"  false results per image {summary['false_per_image']:8.3f}")
        print(f"  ms per image            median {summary['median_ms']:.1f}, p90 {summary['p90_ms']:.1f} "
              f"({args.threads} recognizer thread(s), localization on 1 thread, decoding not timed)")
        if args.threads == 1:
            print(f"  CPU ms per image        median {summary['median_cpu_ms']:.1f} (all work on this thread)")
        if args.show_errors:
            for name, want, got in mistakes:
                if want is None:
                    print(f"    {name}: false result {got}")
                else:
                    print(f"    {name}: expected {want}, got {got or '(not found)'}")
    return 1 if failed or problems else 0


# --------------------------------------------------------------------------------------------- bench
def cmd_bench(args) -> int:
    from . import kernels
    from .images import load_gray
    from .samples import sample_path, synthetic_scene

    cores = kernels.cpu_cores()
    # One thread reading image after image (ms per image: each read's time), then every core reading all the
    # images in one read_arrays call (ms per image: of the throughput); only the first on a single core.
    rows = [("1 thread", 1)] + ([(f"{cores} threads", cores)] if cores > 1 else [])
    readers = [(label, threads, _make_reader(args, threads=threads, recognizer_threads=threads))
               for label, threads in rows]  # bad options are reported before any image is made
    images = [load_gray(str(sample_path()))]
    for seed in range(args.images - 1):
        img, _ = synthetic_scene(seed, size=(720, 1280))
        images.append(load_gray(img))
    print(f"fastplate bench: {len(images)} images of 1280x720 (the shipped sample + synthetic scenes); "
          f"plates/s counts the plates reported, right or not")
    for label, threads, reader in readers:
        reader.read_arrays(images[:2])  # warm up: sessions, JIT, caches
        runs, plates, t = 0, 0, time.perf_counter()
        while time.perf_counter() - t < args.seconds or runs == 0:
            if threads == 1:
                results = [reader.read_arrays([im])[0][0] for im in images]
            else:
                results = reader.read_arrays(images)[0]
            plates += sum(len(r) for r in results)
            runs += 1
        elapsed = time.perf_counter() - t
        what = "ms per image, one at a time" if threads == 1 else "ms per image of the throughput, all at once"
        print(f"  {label:>10}: {runs * len(images) / elapsed:8.1f} images/s  {plates / elapsed:8.1f} plates/s  "
              f"({1000 * elapsed / (runs * len(images)):.1f} {what})")
    return 0


# ---------------------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="fastplate", description="Read vehicle license plates, fast.")
    parser.add_argument("--version", action="version", version=f"fastplate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("-c", "--country", type=_country, default=None,
                       help="plate formats: us, eu or br, or an OpenALPR country code (gb, de: eu with that "
                            "region preferred; br2: br; au, kr, ...: none) (default: none, any plate-like text; "
                            "OpenALPR's alpr defaults to us)")
        p.add_argument("-n", "--top-n", type=arg_number(int, 1), default=10, help="candidate readings per plate (default 10)")
        p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                       help="where the recognizer runs: cuda needs onnxruntime-gpu and a GPU, auto uses them "
                            "when present (default auto)")
        p.add_argument("--model", default=None, help="recognizer ONNX file (default: the shipped model)")
        p.add_argument("--min-confidence", type=float, default=None,
                       help="report readings at least this sure (0-1; default: the Reader's)")
        p.add_argument("--no-gate", dest="gate", action="store_false",
                       help="read every plate candidate (no candidate gate; slower)")
        p.add_argument("--ignore", action="append", type=_box, default=[], metavar="X,Y,W,H",
                       help="an area of the frames (pixels) where no plate is reported, e.g. the camera's "
                            "timestamp; repeat for more (a negative X: --ignore=-5,0,100,20)")
        p.add_argument("--no-second-look", dest="second_look", action="store_false",
                       help="do not read frames where no plate was found again, sharpened (faster on frames "
                            "without plates; blurred plates are missed)")
        p.add_argument("--antialias", choices=("on", "off"), default=None,
                       help="average large plates down to the recognizer's input (Recognizer(antialias=...); "
                            "default: the Recognizer's)")

    p = sub.add_parser("read", help="read the plates in images or folders of images")
    p.add_argument("images", nargs="*", metavar="IMAGE_OR_DIR",
                   help="image files (JPEG, PNG, BMP, WebP, TIFF, GIF, ...; - reads one from standard input) "
                        "and folders of them (not searched recursively)")
    common(p)
    p.add_argument("-j", "--json", action="store_true", help="the same as --format json (-j as OpenALPR's alpr)")
    p.add_argument("--format", choices=("text", "json", "openalpr"), default=None,
                   help="text (default), or json / openalpr (the same): one OpenALPR-style JSON object per "
                        "image per line, with a \"file\" key")
    p.add_argument("--batch-size", type=arg_number(int, 1), default=16,
                   help="images decoded and read per chunk; on the CPU each thread's run of a chunk makes one "
                        "recognizer call for its first reading (default 16)")
    p.add_argument("--threads", type=arg_number(int, 1), default=None,
                   help="threads that decode and read the images (default: all cores this process may use)")
    p.add_argument("--sample", action="store_true", help="also read the sample image shipped in the package")
    p.set_defaults(func=cmd_read, parser=p)

    p = sub.add_parser("eval", help="score a folder in the OpenALPR benchmark layout (NAME.jpg + NAME.txt)",
                       description="Score a folder in the OpenALPR benchmark layout. Exit status 1 when an image "
                                   "could not be read or a label line or file was skipped (the summary is still "
                                   "printed, without them); 2 when DIR is not a folder or holds no labelled "
                                   "image of the split; 0 otherwise.")
    p.add_argument("folder", metavar="DIR", help="a folder of NAME.jpg images and NAME.txt labels (tab-separated "
                                                 "file x y w h PLATE lines; an empty .txt: no plate)")
    common(p)
    p.add_argument("--threads", type=arg_number(int, 1), default=1, help="recognizer threads (default 1: one core)")
    p.add_argument("--json", action="store_true",
                   help="print the summary as JSON (with --show-errors, its \"errors\" list too)")
    p.add_argument("--show-errors", action="store_true", help="list every misread, missed plate and false result")
    p.add_argument("--split", choices=("all", "val", "train"), default="all",
                   help="score only plates of the recognizer's validation (never trained on) or training split")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="end-to-end images/s and plates/s on the shipped samples")
    common(p)
    p.add_argument("--seconds", type=arg_number(float, 0, 3600, low_open=True), default=3.0,
                   help="time per measurement (default 3)")
    p.add_argument("--images", type=arg_number(int, 1), default=8, help="images per round (default 8)")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``fastplate`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "read" and args.json and args.format == "text":
        args.parser.error("--json and --format text ask for different outputs")
    import warnings

    # Warnings (such as a CUDA request falling back to the CPU) as one line, without a line of our source.
    warnings.showwarning = lambda message, category, *rest, **kw: print(
        f"fastplate {args.command}: warning: {message}", file=sys.stderr)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `fastplate read DIR | head`: stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:  # noqa: BLE001  a clear message instead of a traceback for setup errors
        from .errors import FastplateError

        if isinstance(exc, (FastplateError, ValueError, ImportError)):
            print(f"fastplate {args.command}: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
