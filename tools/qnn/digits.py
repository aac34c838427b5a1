"""The handwritten digits data set as Debian's python3-sklearn ships it (no download) and the fixed split
the networks are trained, calibrated and tested on.

    train: 1347 images, test: 450 images (train_test_split, test_size=0.25, stratified, random_state=0)
    calibration: the first 256 training images (what a float model is quantized on)

Pixels are 0..16; the models take pixel / 16 (float, [0, 1]).
"""
import numpy as np

TEST_FRACTION = 0.25
SPLIT_SEED = 0
N_CALIB = 256


def load_split():
    """Returns (x_train, y_train, x_test, y_test): x float32 in [0, 1], shape (n, 64); y int64."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=TEST_FRACTION, random_state=SPLIT_SEED,
                                              stratify=y)
    return x_tr, y_tr, x_te, y_te


def calibration(x_train):
    return x_train[:N_CALIB]
