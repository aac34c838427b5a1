"""QNet: an int8 network as the firmware runs it, and its integer reference pipeline.

Integer pipeline (the same in firmware/qnn/qnn.c, bit for bit):
  activations: int8 q with a per-tensor scale s and zero point z, real value = s * (q - z); layout HWC.
  MVM layer (FC, or conv through im2col with padding value z_in, rows in (kh, kw, c) order):
      acc[j] = sum_i x[i] * W[i][j] + bias[j]                    int8 x int8, int32 accumulation
        W: int8, per-output-channel scale s_w[j], zero point 0;  bias[j] = round(b[j] / (s_in s_w[j]))
        - z_in * sum_i W[i][j]  (the input zero point folded in: sum (x - z_in) W = sum x W - z_in sum W)
  requantization (not after the last layer, whose acc are the logits):
      y[j] = z_out + ((acc[j] * mult[j] + 2^(shift[j]-1)) >> shift[j])      int64 product, arithmetic shift
        mult[j] * 2^-shift[j] = s_in s_w[j] / s_out, mult in [2^30, 2^31)   (Q31 fixed point)
      then clamp to [z_out if ReLU else -128, 127]
  max pooling: on int8 (commutes with the monotonic requantization).
The CIM peripheral computes only sum_i x[i] * W[i][j] (DTYPE int8); bias, requantization, ReLU, pooling run
on the CPU.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np


@dataclass
class MvmLayer:
    name: str
    kind: str                       # "conv" | "fc"
    in_shape: Tuple[int, int, int]  # (H, W, C); FC: (1, 1, F)
    out_c: int
    k: int = 1
    stride: int = 1
    pad: int = 0
    relu: bool = False
    flat_from: Optional[Tuple[int, int, int]] = None  # FC after a Flatten of an (H, W, C) tensor
    # float view (from a float model; None when imported already quantized)
    w_float: Optional[np.ndarray] = None   # (rows, cols) in im2col row order
    b_float: Optional[np.ndarray] = None
    # quantized
    w_q: Optional[np.ndarray] = None       # int8 (rows, cols)
    w_scale: Optional[np.ndarray] = None   # float32 (cols,)
    b_q: Optional[np.ndarray] = None       # int32 (cols,), before the input zero point is folded in
    b_scale: Optional[np.ndarray] = None   # the scale a quantized model gave b_q (checked = s_in * s_w)
    in_qp: Optional[Tuple[float, int]] = None
    out_qp: Optional[Tuple[float, int]] = None
    # derived by finish()
    bias: Optional[np.ndarray] = None      # int32, zero point folded in
    mult: Optional[np.ndarray] = None
    shift: Optional[np.ndarray] = None

    @property
    def out_hw(self):
        h, w, _ = self.in_shape
        if self.kind == "fc":
            return 1, 1
        return (h + 2 * self.pad - self.k) // self.stride + 1, (w + 2 * self.pad - self.k) // self.stride + 1

    @property
    def rows(self):
        return self.k * self.k * self.in_shape[2]


@dataclass
class PoolLayer:
    name: str
    in_shape: Tuple[int, int, int]
    k: int
    stride: int

    @property
    def out_hw(self):
        h, w, _ = self.in_shape
        return (h - self.k) // self.stride + 1, (w - self.k) // self.stride + 1


@dataclass
class QNet:
    name: str
    in_shape: Tuple[int, int, int]          # (H, W, C) of the input image
    layers: list = field(default_factory=list)
    in_qp: Optional[Tuple[float, int]] = None

    @property
    def mvm_layers(self) -> List[MvmLayer]:
        return [l for l in self.layers if isinstance(l, MvmLayer)]

    @property
    def n_classes(self):
        return self.mvm_layers[-1].out_c

    # ---- input --------------------------------------------------------------------------------------
    def quantize_input(self, x):
        """x float (N, H*W*C) in the model's NCHW flattening order -> int8 (N, H*W*C) in HWC order."""
        h, w, c = self.in_shape
        x = np.asarray(x, np.float64).reshape(len(x), c, h, w).transpose(0, 2, 3, 1).reshape(len(x), -1)
        s, z = self.in_qp
        return np.clip(np.round(x / s) + z, -128, 127).astype(np.int8)

    # ---- integer reference --------------------------------------------------------------------------
    def run_int(self, xq, trace=None, mvm=None):
        """xq int8 (N, H*W*C), HWC -> logits int32 (N, classes). trace (a list): gets each MVM layer's input
        matrix (vectors x rows, the im2col rows for a conv). mvm(X, W) -> X @ W as int64 (vectors x cols), for
        X (vectors x rows) and W int8 (rows x cols): another engine for the MVMs (default: exact numpy),
        e.g. a CIM simulator; vectors are in the firmware's order (image, output row, output column)."""
        n = len(xq)
        a = np.asarray(xq, np.int64).reshape((n,) + self.in_shape)
        mvms = self.mvm_layers
        for layer in self.layers:
            if isinstance(layer, PoolLayer):
                a = maxpool(a, layer.k, layer.stride)
                continue
            cols = im2col(a, layer.k, layer.stride, layer.pad, layer.in_qp[1]) if layer.kind == "conv" \
                else a.reshape(n, 1, 1, -1)
            if trace is not None:
                trace.append(cols.reshape(-1, cols.shape[-1]))
            if mvm is None:
                prod = cols @ layer.w_q.astype(np.int64)
            else:
                flat = cols.reshape(-1, cols.shape[-1])
                prod = np.asarray(mvm(flat, layer.w_q), np.int64).reshape(cols.shape[:-1] + (layer.out_c,))
            acc = wrap32(prod + layer.bias)
            if layer is mvms[-1]:
                return acc.reshape(n, -1).astype(np.int32)
            a = requantize(acc, layer.mult, layer.shift, layer.out_qp[1], layer.relu)
        raise AssertionError("network without an MVM layer")


def wrap32(v):
    return ((v + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def requantize(acc, mult, shift, zp, relu):
    shift = shift.astype(np.int64)
    y = ((acc * mult.astype(np.int64) + (np.int64(1) << (shift - 1))) >> shift) + zp
    return np.clip(y, zp if relu else -128, 127)


def im2col(a, k, stride, pad, pad_value):
    """a (N, H, W, C) -> (N, OH, OW, k*k*C), order (kh, kw, c); padding holds pad_value (= the zero point)."""
    n, h, w, c = a.shape
    ap = np.full((n, h + 2 * pad, w + 2 * pad, c), pad_value, a.dtype)
    ap[:, pad:pad + h, pad:pad + w, :] = a
    oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    cols = np.empty((n, oh, ow, k, k, c), a.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, :, i, j, :] = ap[:, i:i + stride * oh:stride, j:j + stride * ow:stride, :]
    return cols.reshape(n, oh, ow, k * k * c)


def maxpool(a, k, stride):
    n, h, w, c = a.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.full((n, oh, ow, c), np.iinfo(np.int64).min, a.dtype)
    for i in range(k):
        for j in range(k):
            out = np.maximum(out, a[:, i:i + stride * oh:stride, j:j + stride * ow:stride, :])
    return out


def fixed_point(m):
    """m > 0 (float64) -> (mult, shift): mult in [2^30, 2^31), m ~= mult * 2^-shift, 1 <= shift <= 62."""
    frac, exp = np.frexp(m)                 # m = frac * 2^exp, frac in [0.5, 1)
    mult = np.round(frac * (1 << 31)).astype(np.int64)
    carry = mult == (1 << 31)
    mult = np.where(carry, 1 << 30, mult)
    exp = exp + carry
    shift = 31 - exp
    return mult, shift
