# STUB: replaced by the real kernel.
def find_character_rows(stats, min_height, max_height, max_height_ratio, max_gap, max_angle):
    raise NotImplementedError
