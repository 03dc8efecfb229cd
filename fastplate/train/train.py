"""Train the recognizer: ``python -m fastplate.train.train --out runs/rec [--minutes 90 | --until 16:05] [--resume]``.

Mixes synthetic plates (``synth.py``) with augmented real crops (train split of ``data.py``), CTC loss,
AdamW with a cosine schedule over the wall-clock budget, an EMA of the weights (what is evaluated, saved and
exported). Checkpoints: ``OUT/last.pt`` every few minutes, ``OUT/best.pt`` on the best mean validation exact
match. ``--resume`` continues from ``OUT/last.pt`` with the same schedule end. ``--init CKPT`` starts a new run
(fresh optimizer and schedule) from the EMA weights of another run's checkpoint: fine-tuning.
The shipped model's whole recipe (base run, fine-tuning run, weight average, export) is ``recipe.py``.
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import math
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import data as realdata
from ._args import load_checkpoint_or_exit, number, output_folder
from .model import ALPHABET, BLANK, INPUT_SIZE, PlateNet
from .synth import synth_sample, use_extra_fonts

REAL_WEIGHTS = {"us-crops": 0.35, "br-crops": 0.3, "scenes-eu": 0.15, "scenes-br": 0.2}


class Batches(torch.utils.data.IterableDataset):
    """Endless batches of (uint8 (B, 32, 128), labels) mixing real and synthetic plates."""

    def __init__(self, batch_size, real_fraction, seed, small_plates=False, splice=0.0, reader_crops=0.0,
                 real_lighting=0.0, extra_fonts=False):
        self.batch_size, self.real_fraction, self.seed = batch_size, real_fraction, seed
        self.extra_fonts = extra_fonts
        self.small_plates, self.splice, self.reader_crops = small_plates, splice, reader_crops
        self.real_lighting = real_lighting

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        use_extra_fonts(self.extra_fonts)  # in the worker process, whichever way it was started
        rng = np.random.default_rng([self.seed, info.id if info else 0, int(time.time())])
        real = {s: realdata.load_set(s, "train") for s in REAL_WEIGHTS}
        cuts = {s: realdata.char_cuts(real[s]) for s in real} if self.splice else {}
        cuttable = {s: np.flatnonzero([c is not None for c in cuts[s]]) for s in cuts}
        quads = {s: realdata.reader_quads(real[s], realdata.SET_COUNTRY[s]) for s in real} if self.reader_crops else {}
        names = list(REAL_WEIGHTS)
        p = np.array([REAL_WEIGHTS[s] for s in names])
        p /= p.sum()
        while True:
            images = np.empty((self.batch_size, *INPUT_SIZE), np.uint8)
            labels = []
            for i in range(self.batch_size):
                if rng.random() < self.real_fraction:
                    name = names[rng.choice(len(names), p=p)]
                    bucket = real[name]
                    k = int(rng.integers(len(bucket)))
                    s, crops = bucket[k], None
                    if self.splice and len(cuttable[name]) >= 2 and rng.random() < self.splice:
                        # two real plates of this set joined between characters (None: no valid join)
                        i_a, i_b = rng.choice(cuttable[name], 2, replace=False)
                        s = realdata.splice(bucket[i_a], cuts[name][i_a], bucket[i_b], cuts[name][i_b], rng) or s
                    elif self.reader_crops and rng.random() < self.reader_crops:
                        crops = quads[name][k]  # the reader's own crops of this plate
                    relit = bool(self.real_lighting) and rng.random() < self.real_lighting
                    images[i] = realdata.augment_real(s, rng, INPUT_SIZE, self.small_plates, crops, lighting=relit)
                    labels.append(s.label)
                else:
                    images[i], label = synth_sample(rng, INPUT_SIZE)
                    labels.append(label)
            yield torch.from_numpy(images), labels


# What a run is trained with; a resumed run must keep them (train.main).
RECIPE_ARGS = ("batch_size", "lr", "real_fraction", "width", "hidden", "seed", "splice", "reader_crops",
               "real_lighting", "small_plates", "extra_fonts")


def encode(labels):
    targets = torch.tensor([ALPHABET.index(c) for t in labels for c in t], dtype=torch.long)
    lengths = torch.tensor([len(t) for t in labels], dtype=torch.long)
    return targets, lengths


def greedy_decode(logits):
    """Best-path CTC decoding of (N, T, C) scores -> list of str."""
    best = logits.argmax(-1).cpu().numpy()
    out = []
    for row in best:
        keep = np.r_[True, row[1:] != row[:-1]] & (row != BLANK)
        out.append("".join(ALPHABET[i] for i in row[keep]))
    return out


def load_val(context=1.0):
    """Tight validation crops of every set, warped like normalize_batch: {set: (float32 (N,1,32,128), labels)}."""
    out = {}
    for name in realdata.SETS:
        samples = realdata.load_set(name, "val")
        x = np.stack([realdata.warp_quad(s.image, realdata.eval_quads(s, None, False).astype(np.float32), INPUT_SIZE)
                      for s in samples])
        out[name] = (torch.from_numpy(x[:, None].astype(np.float32) / 255.0), [s.label for s in samples])
    return out


@torch.no_grad()
def validate(model, val):
    model.eval()
    acc = {}
    for name, (x, labels) in val.items():
        pred = greedy_decode(model(x))
        acc[name] = float(np.mean([p == t for p, t in zip(pred, labels)]))
    return acc


def _until(args):
    if args.until:
        h, m = (int(v) for v in args.until.split(":"))
        now = dt.datetime.now(dt.timezone.utc)
        end = now.replace(hour=h, minute=m, second=0, microsecond=0)
        if end <= now:
            end += dt.timedelta(days=1)
        return end.timestamp()
    return time.time() + (90.0 if args.minutes is None else args.minutes) * 60


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m fastplate.train.train", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/rec")
    ap.add_argument("--minutes", type=number(float, 0, low_open=True), default=None,
                    help="wall-clock training budget (default 90)")
    ap.add_argument("--until", default=None, help="HH:MM UTC end time (overrides --minutes)")
    ap.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    ap.add_argument("--init", default=None, help="checkpoint whose EMA weights start a new run (fine-tuning)")
    ap.add_argument("--batch-size", type=number(int, 1), default=64)
    ap.add_argument("--lr", type=number(float, 0, low_open=True), default=2e-3)
    ap.add_argument("--real-fraction", type=number(float, 0, 1), default=0.5)
    ap.add_argument("--width", type=number(float, 0, low_open=True), default=1.0)
    ap.add_argument("--hidden", type=number(int, 1), default=128)
    ap.add_argument("--threads", type=number(int, 1), default=2)
    ap.add_argument("--workers", type=number(int, 0), default=1)
    ap.add_argument("--seed", type=number(int, 0), default=0)
    ap.add_argument("--checkpoint-minutes", type=number(float, 0, low_open=True), default=4.0)
    ap.add_argument("--splice", type=number(float, 0, 1), default=0.0,
                    help="fraction of real samples made of two real plates joined between characters (data.splice)")
    ap.add_argument("--reader-crops", type=number(float, 0, 1), default=0.0,
                    help="fraction of real samples cropped as the reader crops them (data.reader_quads)")
    ap.add_argument("--real-lighting", type=number(float, 0, 1), default=0.0,
                    help="fraction of real samples shown in other light: shadows, glare, brightness, contrast, "
                         "gamma (data.relight)")
    ap.add_argument("--small-plates", action="store_true",
                    help="real crops looser and shrunk to parking-camera sizes (the fine-tuning recipe)")
    ap.add_argument("--extra-fonts", action="store_true",
                    help="synthetic plates also in Bebas Neue and Liberation Sans (Narrow) Bold (synth.use_extra_fonts)")
    args = ap.parse_args(argv)
    # Fail at once on what would otherwise stop the run minutes in (and leave an empty --out behind).
    if args.until is not None and not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", args.until):
        ap.error(f"--until must be HH:MM (UTC), got {args.until!r}")
    output_folder(ap, args.out)
    last_path, best_path = os.path.join(args.out, "last.pt"), os.path.join(args.out, "best.pt")
    if not args.resume and os.path.exists(last_path):
        ap.error(f"{args.out} already holds a run (last.pt): --resume to continue it, or choose another --out")
    if args.resume and not os.path.exists(last_path):
        ap.error(f"--resume: {last_path} does not exist (the run made no checkpoint yet); start it again "
                 f"without --resume")
    resumed = load_checkpoint_or_exit(ap, last_path, "model", "--resume checkpoint") if args.resume else None
    if resumed is not None and not {"ema", "opt", "step", "best", "start", "end"} <= set(resumed[1]):
        ap.error(f"{last_path} is not a training run's checkpoint (a soup or an exported one?); "
                 f"use it with --init instead")
    if resumed is not None:
        # A resumed run keeps its recipe: another --lr, --seed or data option would silently make a run of
        # neither recipe (the budget, threads and checkpoint interval may change).
        was = resumed[1].get("args") or {}
        changed = [f"--{k.replace('_', '-')} {was[k]!r} -> {v!r}" for k, v in vars(args).items()
                   if k in RECIPE_ARGS and k in was and was[k] != v]
        if changed:
            ap.error(f"--resume: {last_path} was started with other options ({'; '.join(changed)}): resume it "
                     f"with the options it was started with, or choose another --out")
    initial = None
    if args.init and resumed is None:
        initial = load_checkpoint_or_exit(ap, args.init, what="--init checkpoint")
    missing = realdata.data_error(backgrounds=True)
    if missing:
        ap.error(missing)
    from .synth import font_problem

    fonts = font_problem()
    if fonts:
        print(f"warning: {fonts} (training goes on with the fonts there are)", file=sys.stderr, flush=True)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)

    model = PlateNet(args.width, args.hidden)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    ema = copy.deepcopy(model).eval()
    step, best, start, end = 0, -1.0, time.time(), _until(args)
    if initial is not None:
        model, ck = initial  # its EMA weights
        ema = copy.deepcopy(model).eval()
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
        print(f"initialized from {args.init} (step {ck['step']})", flush=True)
    if resumed is not None:
        model, ck = resumed
        ema = copy.deepcopy(model).eval()
        ema.load_state_dict(ck["ema"])
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
        opt.load_state_dict(ck["opt"])
        step, best, start = ck["step"], ck["best"], ck["start"]
        if not (args.until or args.minutes):  # else a new budget from now
            # The schedule resumes where it stopped: the time the run was down is not spent (a checkpoint from
            # before "saved" was kept keeps its end as it was).
            down = max(0.0, time.time() - ck["saved"]) if "saved" in ck else 0.0
            start, end = start + down, ck["end"] + down
        print(f"resumed at step {step}, best {best:.4f}", flush=True)
    print(f"training until {dt.datetime.fromtimestamp(end, dt.timezone.utc):%H:%M:%S} UTC, "
          f"{sum(p.numel() for p in model.parameters())} parameters", flush=True)

    val = load_val()
    loader = torch.utils.data.DataLoader(Batches(args.batch_size, args.real_fraction, args.seed + step, args.small_plates,
                                                 args.splice, args.reader_crops, args.real_lighting,
                                                 args.extra_fonts),
                                         batch_size=None, num_workers=args.workers,
                                         prefetch_factor=4 if args.workers > 0 else None,
                                         persistent_workers=args.workers > 0)

    def save(path, acc=None):
        torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                    "model_config": model.config, "step": step, "best": best, "start": start, "end": end,
                    "saved": time.time(), "val": acc, "args": vars(args)}, path + ".tmp")
        os.replace(path + ".tmp", path)

    last_save = last_val = time.time()
    t0, seen, losses = time.time(), 0, []
    for images, labels in loader:
        now = time.time()
        frac = min(1.0, (now - start) / max(1.0, end - start))
        warm = min(1.0, step / 300)
        lr = args.lr * warm * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        x = images[:, None].float().div_(255.0)
        log_probs = F.log_softmax(model(x), -1).permute(1, 0, 2)  # T, N, C
        targets, lengths = encode(labels)
        inputs = torch.full((x.shape[0],), log_probs.shape[0], dtype=torch.long)
        loss = F.ctc_loss(log_probs, targets, inputs, lengths, blank=BLANK, zero_infinity=True)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        seen += x.shape[0]
        losses.append(loss.item())
        with torch.no_grad():  # EMA of the weights; BN statistics copied as they are
            d = min(0.999, (1 + step) / (10 + step))
            for pe, pm in zip(ema.state_dict().values(), model.state_dict().values()):
                if pe.dtype.is_floating_point:
                    pe.mul_(d).add_(pm, alpha=1 - d)
                else:
                    pe.copy_(pm)
        if step % 50 == 0:
            print(f"step {step} loss {np.mean(losses):.4f} lr {lr:.2e} {seen / (time.time() - t0):.0f} samples/s "
                  f"{frac * 100:.1f}% of budget", flush=True)
            losses = []
        done = now >= end
        if now - last_val > 300 or done:
            acc = validate(ema, val)
            mean = float(np.mean(list(acc.values())))
            print(f"step {step} val " + " ".join(f"{k} {v:.4f}" for k, v in acc.items()) + f" mean {mean:.4f}",
                  flush=True)
            if mean > best:
                best = mean
                save(best_path, acc)
            last_val = time.time()
            with open(os.path.join(args.out, "val.jsonl"), "a") as f:
                f.write(json.dumps({"step": step, "time": time.time(), **acc, "mean": mean}) + "\n")
        if now - last_save > args.checkpoint_minutes * 60 or done:
            save(last_path)
            last_save = time.time()
        if done:
            break
    print("done", flush=True)


if __name__ == "__main__":
    main()
