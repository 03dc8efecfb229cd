"""Train the candidate gate (:class:`fastplate.gate.CandidateGate`) and export ``fastplate/models/gate.onnx``.

    python -m fastplate.train.gate [--out fastplate/models] [--data runs/gate_data.npz] [--epochs 12]

About 15 minutes on one core. Data, all from train splits (validation plates and backgrounds are never seen):

- every candidate the ungated localizer finds (``Reader(country, gate=False)``) in the US parking stand-in's
  train frames (:mod:`fastplate.train.parking`, 787 frames with plates and 400 without), in 400 of them
  with plates and 400 without drawn again with a line of camera text burnt in (:mod:`fastplate.train.osd`,
  its train styles), and in the scenes-eu and scenes-br photos whose plates are all in the train split;
- each warped as the gate sees it: its quad grown ``CONTEXT`` times (1.25x along it, 2x across), so the
  gate sees whether a plate surrounds the text, to 32x64 gray; labelled positive when it overlaps a labelled
  plate (IoU > 0.4, or at least 60% of the candidate inside the plate: one group of a plate whose groups
  stand apart is read stretched, see ``Reader(stretch_short=...)``), or when the shipped recognizer reads
  it as plausible text (at least 4 characters, 0.85 sure per character): text the reader would judge
  itself; but negative, whatever it reads, when half of it or more lies inside camera text (weighed
  ``OSD_WEIGHT`` times in the loss).

The threshold (``THRESHOLD``, stored in the model's metadata) was chosen on train-split data only, by
leaving one domain out: gates trained without scenes-eu (or scenes-br) and scored end to end on those
photos (see the model card).
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

INPUT_SIZE = (32, 64)
CONTEXT = (1.25, 2.0)  # the candidate's quad scaled (along, across) before it is warped; in the model's metadata
THRESHOLD = 0.05
SOURCES = ("stand-in", "stand-in plate-free", "scenes-eu", "scenes-br", "stand-in camera text")
OSD_FRAMES = 400  # stand-in train frames drawn again with camera text: this many with plates and as many without
OSD_WEIGHT = 3.0
LABELLER = "recognizer_sha256"  # the collected data's record of the recognizer whose readings label it


def _log(*args):
    print(*args, flush=True)


def gate_net(widths=(8, 16, 32, 32)):
    """Four conv3x3 + BN + ReLU layers (32x64 -> 4x8 after three 2x2 poolings), global mean and max, one logit."""
    import torch
    from torch import nn

    def conv(a, b):
        return nn.Sequential(nn.Conv2d(a, b, 3, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU())

    class GateNet(nn.Module):
        def __init__(self):
            super().__init__()
            w = widths
            self.features = nn.Sequential(conv(1, w[0]), nn.MaxPool2d(2), conv(w[0], w[1]), nn.MaxPool2d(2),
                                          conv(w[1], w[2]), nn.MaxPool2d(2), conv(w[2], w[3]))
            self.head = nn.Linear(2 * w[3], 1)

        def forward(self, x):
            f = self.features(x)
            return self.head(torch.cat([f.mean((2, 3)), f.amax((2, 3))], 1)).squeeze(1)

    return GateNet()


def collect(data_dir=None, negatives=400, log=None, recognizer=None, osd_frames=OSD_FRAMES):
    """``(x (N, 32, 64) uint8, table (N, 9) float64)``: columns iou, cover, reading length, per-character
    confidence, widened, localizer score, source (index into SOURCES), frame number, and the share of the
    candidate's box inside the frame's camera text (0 where there is none)."""
    import itertools
    from pathlib import Path

    import cv2

    from .. import Reader, kernels
    from ..cli import read_benchmark_labels
    from ..gate import context_quads
    from ..localize import box_intersection, box_iou, quad_box
    from ..reader import _per_char
    from ..recognizer import Recognizer
    from .data import DATA_DIR, is_val
    from .parking import generate

    log = log or _log
    data_dir = data_dir or DATA_DIR
    rec = Recognizer(recognizer, threads=1)  # None: the shipped model (the teacher of the labels)
    readers = {c: Reader(c, threads=1, recognizer=rec, gate=False) for c in ("us", "eu", "br")}
    xs, rows = [], []

    def cover(cb, b):
        return box_intersection(cb, b) / max(cb[2] * cb[3], 1e-9)

    def add(gray, labels, country, source, osd_box=None):
        reader = readers[country]
        cands = reader.localizer(gray)
        if not cands:
            return
        quads = np.stack([c.quad for c in cands])
        reads = reader._recognize([gray], [quads])[0]
        frame = len(xs)  # frames with candidates, numbered in order
        xs.append(kernels.normalize_batch(gray, context_quads(quads, CONTEXT), INPUT_SIZE, scale=1.0,
                                          threads=1)[:, 0].astype(np.uint8))
        for c, rec in zip(cands, reads):
            cb = quad_box(c.quad)
            rows.append((max([box_iou(cb, b) for b, _ in labels], default=0.0),
                         max([cover(cb, b) for b, _ in labels], default=0.0), len(rec.text),
                         _per_char(rec.confidence, len(rec.text)), c.widened, c.score, source, frame,
                         0.0 if osd_box is None else cover(cb, osd_box)))

    def gray_of(jpeg):
        return cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2GRAY)

    t = time.time()
    for _, _, jpeg, labels in generate("train", data_dir=data_dir):
        add(gray_of(jpeg), labels, "us", 0)
    for _, _, jpeg, labels in itertools.islice(generate("train", data_dir=data_dir, negatives=True), negatives):
        add(gray_of(jpeg), labels, "us", 1)
    log(f"stand-in frames: {len(rows)} candidates ({time.time() - t:.0f} s)")
    for negative in (False, True):
        for _, _, jpeg, labels, box in itertools.islice(
                generate("train", data_dir=data_dir, negatives=negative, osd="train"), osd_frames):
            add(gray_of(jpeg), labels, "us", 4, box)
    log(f"with camera text: {len(rows)} candidates ({time.time() - t:.0f} s)")
    for source, (country, folder) in ((2, ("eu", "scenes-eu")), (3, ("br", "scenes-br"))):
        for path, labels in read_benchmark_labels(Path(data_dir) / folder):
            if labels and not any(is_val(text) for _, text in labels):
                add(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), labels, country, source)
    log(f"all: {len(rows)} candidates ({time.time() - t:.0f} s)")
    return np.concatenate(xs), np.array(rows, dtype=np.float64)


def labels_of(table):
    """Positive: overlaps a labelled plate, or the recognizer reads plausible text (see the module doc); but
    never when half of the candidate or more lies inside camera text (a ninth column)."""
    iou, cover, length, conf = table[:, 0], table[:, 1], table[:, 2], table[:, 3]
    return ((iou > 0.4) | (cover >= 0.6) | ((length >= 4) & (conf >= 0.85))) & ~_in_osd(table)


def _in_osd(table):
    return table[:, 8] >= 0.5 if table.shape[1] > 8 else np.zeros(len(table), bool)


def train(x, table, *, epochs=12, exclude=(), seed=0, log=None, osd_weight=OSD_WEIGHT):
    """Train a gate on the candidates not from ``exclude`` (sources). Frames ``% 5 == 0`` are held out and
    the recall of their plate-overlapping candidates at THRESHOLD is logged (and the share of those in
    camera text kept). Candidates in camera text weigh ``osd_weight`` in the loss. Returns the network."""
    import torch
    from torch import nn

    log = log or _log
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    pos = labels_of(table)
    source, frame = table[:, 6], table[:, 7]
    use = ~np.isin(source, list(exclude))
    held = use & (frame % 5 == 0)
    fit = np.where(use & ~held)[0]
    held = np.where(held)[0]
    X = torch.from_numpy(x).float().unsqueeze(1) / 255.0
    Y = torch.from_numpy(pos.astype(np.float32))
    net = gate_net()
    steps = len(fit) // 128 + 1
    opt = torch.optim.AdamW(net.parameters(), 3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=epochs * steps)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(3.0), reduction="none")  # a missed plate costs more
    osd = _in_osd(table)
    weight = torch.from_numpy(np.where(osd, osd_weight, 1.0).astype(np.float32))
    plate = (table[:, 0] > 0.4) | (table[:, 1] >= 0.6)
    for epoch in range(epochs):
        net.train()
        for batch in np.array_split(rng.permutation(fit), steps):
            xb = X[batch]
            if rng.random() < 0.5:
                xb = xb.flip(3)
            gain = torch.empty(len(batch), 1, 1, 1).uniform_(0.6, 1.4)
            shift = torch.empty(len(batch), 1, 1, 1).uniform_(-0.2, 0.2)
            xb = ((xb - 0.5) * gain + 0.5 + shift).clamp(0, 1)
            if rng.random() < 0.5:
                xb = 1 - xb  # both polarities
            loss = (loss_fn(net(xb), Y[batch]) * weight[batch]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        net.eval()
        with torch.no_grad():
            p = torch.sigmoid(torch.cat([net(X[held[i:i + 2048]]) for i in range(0, len(held), 2048)])).numpy()
        keep = p >= THRESHOLD
        log(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}; held-out frames at {THRESHOLD}: plate candidates "
            f"kept {keep[plate[held]].mean():.4f}, positives {keep[pos[held]].mean():.4f}, all {keep.mean():.3f}, "
            f"in camera text {keep[osd[held]].mean() if osd[held].any() else 0.0:.3f}")
    return net


def export(net, path, threshold=THRESHOLD, context=CONTEXT, input_size=None):
    """Write ``net`` (sigmoid added) as ONNX with a dynamic batch axis (input ``input_size``, default
    INPUT_SIZE) and ``threshold`` and ``context`` in its metadata."""
    import io

    import onnx
    import torch

    class Scores(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return torch.sigmoid(self.net(x))

    f = io.BytesIO()
    # eval() on the wrapper: the exporter restores the wrapper's mode afterwards, recursively
    torch.onnx.export(Scores(net).eval(), torch.zeros(1, 1, *(input_size or INPUT_SIZE)), f, input_names=["input"],
                      output_names=["score"], dynamic_axes={"input": {0: "batch"}, "score": {0: "batch"}},
                      opset_version=17, dynamo=False)
    model = onnx.load_from_string(f.getvalue())
    h, w = input_size or INPUT_SIZE
    model.doc_string = f"fastplate candidate gate: (N, 1, {h}, {w}) gray in [0, 1] -> (N,) plate-text-likeness"
    for key, value in (("threshold", str(threshold)), ("context", ",".join(str(float(v)) for v in context))):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, path)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m fastplate.train.gate", description=__doc__.split("\n\n")[0])
    from ._args import number, output_folder
    from .export import MODELS_DIR

    ap.add_argument("--out", default=MODELS_DIR)
    ap.add_argument("--data", default="runs/gate_data.npz", help="collected candidates, a .npz file (made when missing)")
    ap.add_argument("--epochs", type=number(int, 1), default=12)
    ap.add_argument("--exclude", default="", help="leave sources out, e.g. 'scenes-eu' (the threshold study)")
    ap.add_argument("--threads", type=number(int, 1), default=1)
    ap.add_argument("--recognizer", default=None, help="recognizer ONNX that labels plausible text (default: shipped)")
    args = ap.parse_args(argv)
    bad = [s for s in args.exclude.split(",") if s and s not in SOURCES]
    if bad:
        ap.error(f"--exclude: unknown source(s) {', '.join(bad)}; choose from {', '.join(SOURCES)}")
    if args.recognizer and not os.path.isfile(args.recognizer):
        ap.error(f"--recognizer model not found: {args.recognizer}")
    if not args.data.endswith(".npz"):  # numpy would add the suffix, and the next run would not find the file
        ap.error(f"--data must name a .npz file, got {args.data!r}")
    output_folder(ap, args.out)
    # The data's labels come from a recognizer's readings: data collected with another one is not reused.
    labelled_by = file_sha256(args.recognizer or os.path.join(MODELS_DIR, "recognizer.onnx"))
    if labelled_by is None:
        ap.error(f"the shipped recognizer is missing from {MODELS_DIR}: reinstall fastplate, or pass --recognizer")
    collected = os.path.isfile(args.data)
    if collected:
        try:
            with np.load(args.data) as saved:
                x, table = saved["x"], saved["table"]
                used = labeller(saved)
        except Exception as exc:  # noqa: BLE001  numpy raises many kinds for a file that is not ours
            ap.error(f"--data {args.data} is not collected gate data ({type(exc).__name__}: {exc}); "
                     f"delete it to collect again")
        if x.shape[1:] != INPUT_SIZE or table.ndim != 2 or table.shape[1] != 9 or len(x) != len(table):
            ap.error(f"--data {args.data} was collected by another recipe (crops {x.shape[1:]}, table "
                     f"{table.shape}; this one makes {INPUT_SIZE} crops and 9 columns): delete it to collect again")
        if used != labelled_by:
            ap.error(f"--data {args.data} was labelled by " + ("a recognizer it does not name" if used is None else
                     "another recognizer") + f" than {args.recognizer or 'the shipped one'}: delete it to collect "
                     "again")
    else:
        from .data import data_error

        missing = data_error(backgrounds=True)
        if missing:
            ap.error(missing)
    import torch

    torch.set_num_threads(args.threads)
    if not collected:
        x, table = collect(recognizer=args.recognizer)
        os.makedirs(os.path.dirname(os.path.abspath(args.data)), exist_ok=True)
        np.savez_compressed(args.data, x=x, table=table, **{LABELLER: np.array(labelled_by)})
    exclude = [SOURCES.index(s) for s in args.exclude.split(",") if s]
    net = train(x, table, epochs=args.epochs, exclude=exclude)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "gate.onnx")
    export(net, path)
    print(f"wrote {path}")
    return 0


def file_sha256(path):
    """The file's SHA-256 (hex), or None when there is no such file."""
    import hashlib

    if not os.path.isfile(path):
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def labeller(saved):
    """The SHA-256 of the recognizer that labelled collected gate data (an open ``np.load`` of it), or None
    when the data does not record it."""
    return str(saved[LABELLER]) if LABELLER in saved else None


if __name__ == "__main__":
    raise SystemExit(main())
