"""The one rule that splits reference points into the part cimsim's constants were tuned on and the part
held out to measure the model: a point is held out when crc32(run id) mod 10 < 3 (30 %). Shared by the
fitting script and the validation test so both always mean the same split."""
import zlib


def is_heldout(run_id):
    return zlib.crc32(run_id.encode()) % 10 < 3
