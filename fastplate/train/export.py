"""Export a training checkpoint to the shipped model files.

``python -m fastplate.train.export runs/rec/best.pt [--out fastplate/models] [--no-int8]`` writes
``recognizer.onnx`` (float32, dynamic batch axis, softmax output), ``recognizer.int8.onnx`` (static QDQ
int8, calibrated on training crops) and ``recognizer.json`` (the config the Recognizer reads, with the
places of the model's steps measured by :mod:`fastplate.train.spans`).
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os

import numpy as np
import torch

from .model import ALPHABET, BLANK, INPUT_SIZE, ExportWrapper, PlateNet

INPUT_NAME, OUTPUT_NAME = "input", "probs"
MODELS_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))


def load_checkpoint(path, weights="ema"):
    """The network of a checkpoint, in eval mode (EMA weights by default)."""
    ck = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(ck, dict) or "model_config" not in ck or weights not in ck:
        raise ValueError(f"no model_config and {weights} weights in it")
    net = PlateNet(**ck["model_config"])
    net.load_state_dict(ck[weights])
    return net.eval(), ck


def export_onnx(net, path):
    f = io.BytesIO()
    torch.onnx.export(ExportWrapper(net.eval()), torch.zeros(1, 1, *INPUT_SIZE), f, input_names=[INPUT_NAME],
                      output_names=[OUTPUT_NAME], dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                      opset_version=17, dynamo=False)
    import onnx

    model = onnx.load_from_string(f.getvalue())
    model.doc_string = "fastplate plate recognizer: CTC over 0-9A-Z + blank (index 36)"
    onnx.save(model, path)


def calibration_batches(n=512, seed=1):
    """Calibration inputs for int8: augmented real training crops and synthetic plates."""
    from . import data as realdata
    from .synth import synth_sample

    rng = np.random.default_rng(seed)
    real = [s for name in realdata.SETS for s in realdata.load_set(name, "train")]
    x = np.empty((n, 1, *INPUT_SIZE), np.float32)
    for i in range(n):
        if i % 2:
            img = realdata.augment_real(real[rng.integers(len(real))], rng, INPUT_SIZE)
        else:
            img = synth_sample(rng, INPUT_SIZE)[0]
        x[i, 0] = img / np.float32(255.0)
    return [x[i:i + 32] for i in range(0, n, 32)]


def export_int8(fp32_path, int8_path):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(calibration_batches())

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {INPUT_NAME: x}

    import onnx

    pre = int8_path + ".pre.onnx"
    quant_pre_process(fp32_path, pre, skip_symbolic_shape=True)
    convs = [n.name for n in onnx.load(pre).graph.node if n.op_type == "Conv"]
    # Only convolutions are quantized (per channel). The first one stays float: quantizing its output
    # (low-contrast strokes of blurry plates) cost 12 points on br-crops; it is 2% of the compute.
    quantize_static(pre, int8_path, Reader(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["Conv"],
                    nodes_to_exclude=convs[:1])
    os.remove(pre)
    drop_unused_opsets(int8_path)


def drop_unused_opsets(path):
    """Remove the opset imports of domains no node of the model at ``path`` uses (rewritten in place).

    ``quantize_static`` declares every domain it knows (``ai.onnx.ml`` 5, ``com.microsoft``, ...) though the
    quantized graph uses only the default one; ONNX Runtime before 1.18 refuses to load a model that
    imports ``ai.onnx.ml`` 5, so ``onnxruntime>=1.16`` (pyproject) could not read the int8 model.
    """
    import onnx

    model = onnx.load(path)
    used = {n.domain for n in model.graph.node} | {""}
    keep = [o for o in model.opset_import if o.domain in used]
    if len(keep) < len(model.opset_import):
        del model.opset_import[:]
        model.opset_import.extend(keep)
        onnx.checker.check_model(model)
        onnx.save(model, path)


def write_config(path, ck, files, positions=None):
    cfg = {
        "name": "fastplate-recognizer",
        "version": dt.datetime.now(dt.timezone.utc).strftime("%Y.%m.%d"),
        "architecture": "PlateNet CNN + dilated 1-D convs, CTC",
        "model_config": ck.get("model_config"),
        "training_step": ck.get("step"),
        "input_name": INPUT_NAME,
        "output_name": OUTPUT_NAME,
        "input_size": list(INPUT_SIZE),
        "channels": 1,
        "color": "gray",
        "normalization": {"scale": 1.0 / 255.0, "offset": 0.0},
        "alphabet": ALPHABET,
        "blank_index": BLANK,
        "time_steps": INPUT_SIZE[1] // 4,
        "output": "softmax probabilities (N, T, len(alphabet) + 1)",
        "files": files,
    }
    if positions is not None:
        cfg["step_positions"] = positions
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


def main(argv=None):
    from ._args import load_checkpoint_or_exit, output_folder

    ap = argparse.ArgumentParser(prog="python -m fastplate.train.export", description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--out", default=MODELS_DIR, help="folder for the model files (default: the package's)")
    ap.add_argument("--weights", default="ema", choices=["ema", "model"])
    ap.add_argument("--no-int8", action="store_true")
    args = ap.parse_args(argv)
    output_folder(ap, args.out)
    torch.set_num_threads(1)
    net, ck = load_checkpoint_or_exit(ap, args.checkpoint, args.weights)
    os.makedirs(args.out, exist_ok=True)
    fp32 = os.path.join(args.out, "recognizer.onnx")
    export_onnx(net, fp32)
    files = {"float32": "recognizer.onnx"}
    if not args.no_int8:
        export_int8(fp32, os.path.join(args.out, "recognizer.int8.onnx"))
        files["int8"] = "recognizer.int8.onnx"
    from .spans import calibrate

    config = os.path.join(args.out, "recognizer.json")
    write_config(config, ck, files)  # first: calibrate loads the model with it (not with an older one there)
    try:
        positions = calibrate(fp32)
    except RuntimeError as exc:  # an untrained model: characters are placed by their steps
        print(f"export: {exc}; recognizer.json gets no step_positions")
        positions = None
    if positions is not None:
        write_config(config, ck, files, positions)
    val = "" if ck.get("val") is None else f" (val {ck['val']})"  # a last.pt or a soup has none
    print(f"exported step {ck.get('step')}{val} to {os.path.abspath(args.out)}: {files}")


if __name__ == "__main__":
    main()
