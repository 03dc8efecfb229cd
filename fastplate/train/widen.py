"""Widen a trained recognizer without changing what it computes, to fine-tune a larger network from it:
``python -m fastplate.train.widen fastplate/models/recognizer.onnx --width 1.5 --out runs/wide.pt``.

MODEL is an exported ``recognizer.onnx`` (its BatchNorm folded into the convolutions) or a training
checkpoint. From an ONNX file the network is rebuilt with BatchNorm layers whose statistics are measured on
calibration crops (:func:`fastplate.train.export.calibration_batches`) and whose scale and shift undo them,
so the rebuilt network computes the file's function exactly in eval mode and nearly so in training mode.

Widening (Net2WiderNet, Chen et al. 2016): each image conv layer gets the channels of ``PlateNet(width)``;
a new channel copies an existing one (its filter and BatchNorm), and the next layer's weights on a copied
channel are split among its copies by random shares that sum to one. The output is unchanged, and because
the shares differ the copies receive different gradients and grow apart in training. The 1-D sequence
layers (``hidden``) keep their size. The result is a checkpoint that ``train --init`` starts from.
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import torch

from .model import CHANNELS, PlateNet


def _conv_bn_pairs(net):
    """(conv, bn or None) in forward order: the five image convs, the collapse conv, the sequence, the head."""
    f = net.features
    pairs = [(f[i][0], f[i][1]) for i in (0, 2, 4, 5, 7)]
    pairs.append((net.collapse[0], net.collapse[1]))
    pairs += [(r.conv, r.bn) for r in net.sequence]
    pairs.append((net.head, None))
    return pairs


def from_onnx(path, calibration):
    """The PlateNet of an exported recognizer, BatchNorm rebuilt from ``calibration`` inputs (N, 1, 32, 128)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(path)
    init = {t.name: numpy_helper.to_array(t).copy() for t in model.graph.initializer}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    if len(convs) != 11:
        raise ValueError(f"{path}: {len(convs)} convolutions, a PlateNet export has 11")
    weights = [(init[n.input[1]], init[n.input[2]] if len(n.input) > 2 else None) for n in convs]
    dilations = [next((list(a.ints)[0] for a in n.attribute if a.name == "dilations"), 1) for n in convs[6:10]]
    net = PlateNet(width=weights[4][0].shape[0] / CHANNELS[4], hidden=weights[5][0].shape[0], dilations=dilations)
    pairs = _conv_bn_pairs(net)
    with torch.no_grad():
        for (conv, bn), (w, b) in zip(pairs, weights):
            if tuple(conv.weight.shape) != w.shape:
                raise ValueError(f"{path}: a {w.shape} convolution where PlateNet has {tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(w))
            if bn is None:
                conv.bias.copy_(torch.from_numpy(b))
            else:  # identity BatchNorm that adds the folded bias: the file's function exactly
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0 - bn.eps)
                bn.weight.fill_(1.0)
                bn.bias.copy_(torch.from_numpy(b))
    net.eval()
    stats = {}

    def hook(module, inputs, output):
        x = inputs[0].double()
        dims = [0] + list(range(2, x.dim()))
        stats[module] = (x.mean(dims), x.var(dims, unbiased=False))

    bns = [bn for _, bn in pairs if bn is not None]
    handles = [bn.register_forward_hook(hook) for bn in bns]
    x = torch.from_numpy(np.concatenate(calibration))
    with torch.no_grad():
        before = net(x)
        for h in handles:
            h.remove()
        for bn in bns:  # normalize by the measured statistics, then undo the normalization
            mean, var = stats[bn]
            shift = bn.bias.double().clone()
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            bn.weight.copy_((var + bn.eps).sqrt())
            bn.bias.copy_(mean + shift)
        after = net(x)
    err = float((after - before).abs().max())
    if err > 1e-3:
        raise RuntimeError(f"rebuilt BatchNorm changed the network's output by {err}")
    return net


def _split_shares(mapping, n_old, rng):
    """Per new channel, its share of the old channel it copies (random, the shares of one old channel sum to 1)."""
    shares = rng.uniform(0.5, 1.5, len(mapping))
    totals = np.bincount(mapping, weights=shares, minlength=n_old)
    return shares / totals[mapping]


def widen(net, width, rng):
    """A PlateNet of ``width`` computing what ``net`` computes (see the module docstring)."""
    config = dict(net.config)
    if width < config["width"]:
        raise ValueError(f"width {width} is narrower than the network's {config['width']}")
    config["width"] = width
    wide = PlateNet(**config)
    old_pairs, new_pairs = _conv_bn_pairs(net), _conv_bn_pairs(wide)
    prev_map = prev_share = None  # how the previous layer's channels map onto the old ones
    with torch.no_grad():
        for k, ((oc, ob), (nc, nb)) in enumerate(zip(old_pairs, new_pairs)):
            w = oc.weight
            if prev_map is not None:  # input channels: copies of old ones, weighted by their shares
                shape = [1, len(prev_map)] + [1] * (w.dim() - 2)
                w = w[:, prev_map] * torch.from_numpy(prev_share).to(w.dtype).view(shape)
            n_old, n_new = oc.weight.shape[0], nc.weight.shape[0]
            if k < 5:  # the image convs widen; the collapse conv and after keep their output size
                mapping = np.concatenate([np.arange(n_old), rng.integers(0, n_old, n_new - n_old)])
                prev_map, prev_share = mapping, _split_shares(mapping, n_old, rng)
            else:
                mapping, prev_map, prev_share = np.arange(n_old), None, None
            nc.weight.copy_(w[mapping])
            if nc.bias is not None:
                nc.bias.copy_(oc.bias[mapping])
            if nb is not None:
                for name in ("weight", "bias", "running_mean", "running_var"):
                    getattr(nb, name).copy_(getattr(ob, name)[mapping])
    return wide.eval()


def main(argv=None):
    from ._args import load_checkpoint_or_exit, number, output_file

    ap = argparse.ArgumentParser(prog="python -m fastplate.train.widen", description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="an exported recognizer.onnx or a training checkpoint")
    ap.add_argument("--width", type=number(float, 0, low_open=True), required=True)
    ap.add_argument("--out", required=True, help="the widened checkpoint's file")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    output_file(ap, args.out)
    torch.set_num_threads(1)
    if args.model.endswith(".onnx"):
        if not os.path.isfile(args.model):
            ap.error(f"model not found: {args.model}")
        from .export import calibration_batches

        try:
            net, step = from_onnx(args.model, calibration_batches()), None
        except RuntimeError:
            raise
        except Exception as exc:  # noqa: BLE001  onnx raises many kinds for a file that is not a model
            ap.error(f"{args.model} is not a PlateNet recognizer ({type(exc).__name__}: {exc})")
    else:
        net, ck = load_checkpoint_or_exit(ap, args.model)
        step = ck.get("step")
    try:
        wide = widen(net, args.width, np.random.default_rng(args.seed))
    except ValueError as exc:  # narrower than the model
        ap.error(f"--width: {exc}")
    x = torch.from_numpy(np.random.default_rng(args.seed).random((8, 1, 32, 128), dtype=np.float32))
    with torch.no_grad():
        err = float((wide(x) - net(x)).abs().max())
    state = wide.state_dict()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save({"ema": state, "model": state, "model_config": wide.config, "step": step, "val": None,
                "args": {"widened_from": os.path.abspath(args.model), "width": args.width}}, args.out)
    print(f"widened {args.model} to width {args.width} ({sum(p.numel() for p in wide.parameters())} parameters, "
          f"largest output change {err:.2e}) into {args.out}")


if __name__ == "__main__":
    main()
