#!/usr/bin/env python3
"""Trains the two digit classifiers of the CIM demo and exports them as float ONNX models.

    train.py OUT_DIR        writes OUT_DIR/{mlp,cnn}.onnx and OUT_DIR/digits_split.npz

  mlp: 64 -> 64 -> 32 -> 10, ReLU (sklearn MLPClassifier, adam, random_state 0)
  cnn: 1x8x8 -> conv 3x3x8 (pad 1) -> ReLU -> maxpool 2 -> conv 3x3x16 (pad 1) -> ReLU -> maxpool 2
       -> flatten (64) -> FC 10   (numpy, mini-batch Adam, seed 0)

Deterministic: fixed split, fixed seeds, single-threaded BLAS (set before numpy loads). Data: digits.py.
digits_split.npz holds x_train / y_train / x_test / y_test / x_calib (float32 pixel/16, int64 labels).
"""
import os
import sys

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import digits  # noqa: E402
import onnx_build  # noqa: E402


# ---- MLP (sklearn) ---------------------------------------------------------------------------------------
def train_mlp(x, y):
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(64, 32), activation="relu", solver="adam", alpha=1e-4,
                        batch_size=64, learning_rate_init=1e-3, max_iter=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x, y)
    # sklearn: h = relu(x @ W + b), W is (in, out)
    return [(w.astype(np.float32), b.astype(np.float32)) for w, b in zip(clf.coefs_, clf.intercepts_)]


def mlp_forward(layers, x):
    h = x
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = np.maximum(h, 0)
    return h


# ---- CNN (numpy, NHWC inside; exported NCHW) -------------------------------------------------------------
def im2col(x, k, pad):
    """x (N, H, W, C) -> (N, H, W, k*k*C), 'same' output size, order (kh, kw, c)."""
    n, h, w, c = x.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    cols = np.empty((n, h, w, k, k, c), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, :, i, j, :] = xp[:, i:i + h, j:j + w, :]
    return cols.reshape(n, h, w, k * k * c)


def col2im(dcols, shape, k, pad):
    n, h, w, c = shape
    d = dcols.reshape(n, h, w, k, k, c)
    dxp = np.zeros((n, h + 2 * pad, w + 2 * pad, c), dcols.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, i:i + h, j:j + w, :] += d[:, :, :, i, j, :]
    return dxp[:, pad:pad + h, pad:pad + w, :]


def maxpool2(x):
    n, h, w, c = x.shape
    r = x.reshape(n, h // 2, 2, w // 2, 2, c)
    out = r.max(axis=(2, 4))
    mask = r == out[:, :, None, :, None, :]
    # one winner per window (the first), so the gradient is not duplicated on ties
    flat = mask.transpose(0, 1, 3, 5, 2, 4).reshape(n, h // 2, w // 2, c, 4)
    first = np.zeros_like(flat)
    first[np.arange(flat.shape[0])[:, None, None, None], np.arange(h // 2)[None, :, None, None],
          np.arange(w // 2)[None, None, :, None], np.arange(c)[None, None, None, :],
          flat.argmax(axis=-1)] = True
    mask = first.reshape(n, h // 2, w // 2, c, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(n, h, w, c)
    return out, mask


def cnn_forward(p, x, keep=False):
    """x (N, 64) in [0,1] -> logits (N, 10). p: dict of params (w1 (9,8), b1, w2 (72,16), b2, w3 (64,10), b3)."""
    n = x.shape[0]
    a0 = x.reshape(n, 8, 8, 1)
    c1 = im2col(a0, 3, 1)
    z1 = c1 @ p["w1"] + p["b1"]
    r1 = np.maximum(z1, 0)
    p1, m1 = maxpool2(r1)
    c2 = im2col(p1, 3, 1)
    z2 = c2 @ p["w2"] + p["b2"]
    r2 = np.maximum(z2, 0)
    p2, m2 = maxpool2(r2)
    f = p2.reshape(n, -1)              # (h, w, c) order
    out = f @ p["w3"] + p["b3"]
    if keep:
        return out, (a0, c1, z1, m1, p1, c2, z2, m2, p2, f)
    return out


def cnn_backward(p, cache, dout):
    a0, c1, z1, m1, p1, c2, z2, m2, p2, f = cache
    g = {"w3": f.T @ dout, "b3": dout.sum(0)}
    dp2 = (dout @ p["w3"].T).reshape(p2.shape)
    dr2 = np.repeat(np.repeat(dp2, 2, axis=1), 2, axis=2) * m2
    dz2 = dr2 * (z2 > 0)
    g["w2"] = c2.reshape(-1, c2.shape[-1]).T @ dz2.reshape(-1, dz2.shape[-1])
    g["b2"] = dz2.sum((0, 1, 2))
    dc2 = dz2 @ p["w2"].T
    dp1 = col2im(dc2, p1.shape, 3, 1)
    dr1 = np.repeat(np.repeat(dp1, 2, axis=1), 2, axis=2) * m1
    dz1 = dr1 * (z1 > 0)
    g["w1"] = c1.reshape(-1, c1.shape[-1]).T @ dz1.reshape(-1, dz1.shape[-1])
    g["b1"] = dz1.sum((0, 1, 2))
    return g


def train_cnn(x, y, epochs=40, batch=32, lr=3e-3, seed=0):
    rng = np.random.default_rng(seed)

    def he(fan_in, shape):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    p = {"w1": he(9, (9, 8)), "b1": np.zeros(8, np.float32),
         "w2": he(72, (72, 16)), "b2": np.zeros(16, np.float32),
         "w3": he(64, (64, 10)), "b3": np.zeros(10, np.float32)}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    b1, b2, eps, t = 0.9, 0.999, 1e-8, 0
    onehot = np.eye(10, dtype=np.float32)[y]
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        rate = lr * (0.5 * (1 + np.cos(np.pi * epoch / epochs)))   # cosine decay
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            out, cache = cnn_forward(p, x[idx], keep=True)
            e = np.exp(out - out.max(1, keepdims=True))
            prob = e / e.sum(1, keepdims=True)
            dout = ((prob - onehot[idx]) / len(idx)).astype(np.float32)
            g = cnn_backward(p, cache, dout)
            t += 1
            for k in p:
                gk = g[k] + 1e-4 * p[k]
                m[k] = b1 * m[k] + (1 - b1) * gk
                v[k] = b2 * v[k] + (1 - b2) * gk * gk
                mh, vh = m[k] / (1 - b1 ** t), v[k] / (1 - b2 ** t)
                p[k] = (p[k] - rate * mh / (np.sqrt(vh) + eps)).astype(np.float32)
    return p


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: train.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    x_tr, y_tr, x_te, y_te = digits.load_split()
    mlp = train_mlp(x_tr, y_tr)
    acc_mlp = (mlp_forward(mlp, x_te).argmax(1) == y_te).mean()
    cnn = train_cnn(x_tr, y_tr)
    acc_cnn = (cnn_forward(cnn, x_te).argmax(1) == y_te).mean()
    onnx_build.save(onnx_build.mlp_model(mlp), os.path.join(out, "mlp.onnx"))
    onnx_build.save(onnx_build.cnn_model(cnn), os.path.join(out, "cnn.onnx"))
    np.savez(os.path.join(out, "digits_split.npz"), x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te,
             x_calib=digits.calibration(x_tr))
    print(f"train.py: float test accuracy mlp {acc_mlp * 100:.2f} %, cnn {acc_cnn * 100:.2f} % "
          f"({len(y_te)} test images) -> {out}")


if __name__ == "__main__":
    main()
