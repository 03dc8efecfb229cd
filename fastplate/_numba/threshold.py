# STUB: replaced by the real kernel.
def adaptive_threshold(src, out, block_size, c, method, k, invert):
    raise NotImplementedError
