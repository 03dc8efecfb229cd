# STUB: replaced by the real kernel.
def warp_batch(src, matrices, out, scale, n_threads):
    raise NotImplementedError
