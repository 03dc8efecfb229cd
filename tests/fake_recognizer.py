"""A stand-in for fastplate.Recognizer that knows the ground truth of synthetic scenes.

It reads a candidate quad as the true plate text when the quad's box overlaps a true plate's box with
IoU > 0.4, and as low-confidence noise otherwise, so reader tests exercise localization, verification,
NMS and result assembly without the trained model.
"""
import hashlib

import numpy as np

from fastplate.images import load_gray, sharpen, stretch_levels
from fastplate.localize import box_iou, quad_box
from fastplate.reader import SECOND_LOOK_AMOUNT, SECOND_LOOK_SIGMA
from fastplate.types import Recognition


def recognition(text, confidence, alternatives=()):
    """A Recognition whose characters each have probability ``confidence`` (string score: their product)."""
    n = len(text)
    spans = (np.stack([np.arange(n), np.arange(1, n + 1)], axis=1) / max(n, 1)).astype(np.float32)
    score = confidence ** n
    cands = ((text, score),) + tuple((t, c ** len(t)) for t, c in alternatives)
    return Recognition(text, score, np.full(n, confidence, np.float32), spans, cands)


def _key(gray):
    return gray.shape, hashlib.sha1(np.ascontiguousarray(gray).tobytes()).hexdigest()


class FakeRecognizer:
    """``truths``: one ``[(text, quad), ...]`` list for every image, or one such list per image of
    ``images`` (the reader may split a batch into runs, each its own call: images are told apart by
    their pixels, not by their place in a call)."""

    def __init__(self, truths, confidence=0.93, images=None):
        self.truths = truths
        self.confidence = confidence
        self.calls = 0
        self.crops = 0
        self.keys = None
        if images is not None:  # as given, and as the Reader passes a frame of few gray levels (stretched),
            grays = [load_gray(im) for im in images]  # and a frame it takes a second look at (sharpened)
            self.keys = {_key(g): k for k, g in enumerate(grays)}
            self.keys.update({_key(stretch_levels(g)): k for k, g in enumerate(grays)})
            self.keys.update({_key(sharpen(stretch_levels(g), SECOND_LOOK_SIGMA, SECOND_LOOK_AMOUNT)): k
                              for k, g in enumerate(grays)})

    def _truth(self, i, image):
        if self.truths and isinstance(self.truths[0], tuple):
            return self.truths
        if self.keys is not None:
            return self.truths[self.keys[_key(image)]]
        return self.truths[i]

    def _read(self, quad, truth):
        for text, q in truth:
            if box_iou(quad_box(quad), quad_box(q)) > 0.4:
                return recognition(text, self.confidence, ((text[:-1] + "Z", 0.4),))
        return recognition("X1", 0.08)

    def recognize_quads_batch(self, jobs):
        self.calls += 1
        out = []
        for i, (image, quads) in enumerate(jobs):
            assert image.ndim == 2 and image.dtype == np.uint8
            self.crops += len(quads)
            out.append([self._read(q, self._truth(i, image)) for q in quads])
        return out
