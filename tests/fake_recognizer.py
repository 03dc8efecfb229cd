"""A stand-in for fastplate.Recognizer that knows the ground truth of synthetic scenes.

It reads a candidate quad as the true plate text when the quad's box overlaps a true plate's box with
IoU > 0.4, and as low-confidence noise otherwise, so reader tests exercise localization, verification,
NMS and result assembly without the trained model.
"""
import numpy as np

from fastplate.localize import box_iou, quad_box
from fastplate.types import Recognition


def recognition(text, confidence, alternatives=()):
    """A Recognition whose characters each have probability ``confidence`` (string score: their product)."""
    n = len(text)
    spans = (np.stack([np.arange(n), np.arange(1, n + 1)], axis=1) / max(n, 1)).astype(np.float32)
    score = confidence ** n
    cands = ((text, score),) + tuple((t, c ** len(t)) for t, c in alternatives)
    return Recognition(text, score, np.full(n, confidence, np.float32), spans, cands)


class FakeRecognizer:
    def __init__(self, truths, confidence=0.93):
        # truths: one [(text, quad), ...] list per image, or a single list used for every image
        self.truths = truths
        self.confidence = confidence
        self.calls = 0
        self.crops = 0

    def _truth(self, i):
        if self.truths and isinstance(self.truths[0], tuple):
            return self.truths
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
            out.append([self._read(q, self._truth(i)) for q in quads])
        return out
