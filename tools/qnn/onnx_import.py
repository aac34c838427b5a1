#!/usr/bin/env python3
"""onnx-import: an ONNX model -> an int8 network for the CIM firmware (C header) and NeuroSim-format files.

    onnx_import.py MODEL.onnx --name NAME [--calib DATA.npz] [--test DATA.npz] [--header OUT.h]
                   [--neurosim-dir DIR] [--neurosim-images N] [--qdq OUT.onnx] [--qlinear OUT.onnx]

Accepted graphs: one path from the input to the output (no branches) of
  float:      Conv, Gemm, MatMul (+ Add of a constant = bias), Relu, MaxPool, Flatten, Reshape (to [N, -1]),
              Identity/Dropout (no-ops), Softmax/LogSoftmax as the last node (argmax unchanged: dropped);
              quantized by the tool on calibration data (--calib: symmetric per-tensor activation scales from
              the calibration maxima, per-output-channel symmetric int8 weights);
  QDQ:        the same with QuantizeLinear/DequantizeLinear pairs on activations and DequantizeLinear on the
              int8 weights / int32 biases (the model's scales are used, no calibration needed);
  QLinear:    QuantizeLinear, QLinearConv, QLinearMatMul, QGemm (com.microsoft), Relu, MaxPool, Flatten,
              DequantizeLinear.
int8 or uint8 activations (uint8 is shifted to int8 exactly: q - 128, z - 128); weights int8 with zero
point 0 (uint8 with zero point 128). The last MVM layer's int32 accumulators are the logits.
Anything else is one line naming the node, its operator and what is unsupported, exit status 1:
    onnx-import: m.onnx: node 'conv1' (Conv): attribute group=2 unsupported (only 1)
The integer pipeline is documented in qnet.py.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qnet import MvmLayer, PoolLayer, QNet, fixed_point  # noqa: E402


class ImportFailure(Exception):
    """One line: what was wrong."""


def _fail(node, msg):
    raise ImportFailure(f"node '{node.name or node.output[0]}' ({node.op_type}): {msg}")


def _attrs(node, allowed):
    """Attributes as python values; an attribute outside `allowed` is an error."""
    from onnx import helper
    out = {}
    for a in node.attribute:
        if a.name not in allowed:
            _fail(node, f"attribute '{a.name}' unsupported")
        out[a.name] = helper.get_attribute_value(a)
    return out


def _qp_from(scale, zp, node, what):
    """(scale, zero point) of a per-tensor quantized activation, uint8 shifted to int8."""
    s = np.asarray(scale, np.float32).reshape(-1)
    if s.size != 1:
        _fail(node, f"per-channel {what} scale unsupported (activations need one scale per tensor)")
    if zp is None:
        return float(s[0]), 0, np.uint8
    z = np.asarray(zp).reshape(-1)
    if z.dtype not in (np.int8, np.uint8):
        _fail(node, f"{what} zero point of type {z.dtype} unsupported (int8 or uint8)")
    zi = int(z[0]) - (128 if z.dtype == np.uint8 else 0)
    return float(s[0]), zi, z.dtype


def _weights_q(q, scale, zp, node, n_out):
    """int8 weights + per-output-channel scales from a quantized initializer."""
    q = np.asarray(q)
    if q.dtype == np.uint8:
        if zp is None or np.any(np.asarray(zp) != 128):
            _fail(node, "uint8 weights need zero point 128 (symmetric weights only)")
        q, zp = (q.astype(np.int16) - 128).astype(np.int8), None
    elif q.dtype != np.int8:
        _fail(node, f"weights of type {q.dtype} unsupported (int8)")
    if zp is not None and np.any(np.asarray(zp) != 0):
        _fail(node, "weight zero point != 0 unsupported (symmetric weights only)")
    s = np.asarray(scale, np.float32).reshape(-1)
    if s.size == 1:
        s = np.full(n_out, s[0], np.float32)
    elif s.size != n_out:
        _fail(node, f"weight scale has {s.size} values for {n_out} output channels")
    return q, s


class _Importer:
    def __init__(self, model, name):
        import onnx
        from onnx import numpy_helper
        self.onnx, self.nh = onnx, numpy_helper
        self.model = model
        self.g = model.graph
        self.name = name
        self.const = {i.name: numpy_helper.to_array(i) for i in self.g.initializer}
        self.qconst = {}            # DQ(initializer) output -> (q, scale, zp, axis)
        for opset in model.opset_import:
            if opset.domain not in ("", "ai.onnx", "com.microsoft"):
                raise ImportFailure(f"operator set domain '{opset.domain}' unsupported")

    # ---- graph walk ----------------------------------------------------------------------------------
    def run(self):
        inputs = [i for i in self.g.input if i.name not in self.const]
        if len(inputs) != 1:
            raise ImportFailure(f"the graph has {len(inputs)} data inputs (one is supported)")
        gin = inputs[0]
        tt = gin.type.tensor_type
        if tt.elem_type != self.onnx.TensorProto.FLOAT:
            raise ImportFailure(f"input '{gin.name}': element type {tt.elem_type} unsupported (float)")
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        if len(dims) == 2 and dims[1]:
            shape = (1, 1, dims[1])
        elif len(dims) == 4 and all(dims[1:]):
            shape = (dims[2], dims[3], dims[1])
        else:
            raise ImportFailure(f"input '{gin.name}': shape {dims} unsupported ([N, F] or [N, C, H, W], static)")
        if len(self.g.output) != 1:
            raise ImportFailure(f"the graph has {len(self.g.output)} outputs (one is supported)")
        self.net = QNet(self.name, shape)
        self.cur = gin.name
        self.shape = shape          # (H, W, C) of the current tensor; flat: (1, 1, F)
        self.flat = len(dims) == 2
        self.chw_before_flatten = None
        self.qp = None              # (scale, zp) of the current tensor when it is quantized/annotated
        self.quantized = False      # the current tensor holds integers (after QuantizeLinear)
        self.pending = None         # last MVM layer whose output scale is not yet known
        self.dropped_tail = False
        for node in self.g.node:
            self.node(node)
        if self.cur != self.g.output[0].name:
            raise ImportFailure(f"output '{self.g.output[0].name}' is not the end of the single path")
        if not self.net.mvm_layers:
            raise ImportFailure("no Conv/Gemm/MatMul layer")
        if isinstance(self.net.layers[-1], PoolLayer):
            raise ImportFailure(f"node '{self.net.layers[-1].name}': pooling after the last MVM layer unsupported")
        return self.net

    def data_input(self, node, idx=0):
        if node.input[idx] != self.cur:
            _fail(node, f"input '{node.input[idx]}' is not the previous node's output "
                        "(only single-path graphs: no branches or residual connections)")

    def constant(self, node, name, what):
        if name in self.qconst:
            q, s, z, axis = self.qconst[name]
            return self.dequant(q, s, z, axis)
        if name not in self.const:
            _fail(node, f"{what} '{name}' is not a constant (initializer)")
        return self.const[name]

    @staticmethod
    def dequant(q, s, z, axis):
        s = np.asarray(s, np.float32)
        z = np.zeros(1, np.int32) if z is None else np.asarray(z).astype(np.int32)
        if s.size > 1:
            shape = [1] * q.ndim
            shape[axis] = -1
            s, z = s.reshape(shape), z.reshape(shape) if z.size > 1 else z
        return ((q.astype(np.int32) - z) * s).astype(np.float32)

    def opt(self, node, i):
        return node.input[i] if len(node.input) > i and node.input[i] else None

    def node(self, n):
        op = n.op_type
        if self.dropped_tail:
            _fail(n, "nodes after Softmax/LogSoftmax unsupported")
        if n.domain not in ("", "ai.onnx") and not (op == "QGemm" and n.domain == "com.microsoft"):
            _fail(n, f"operator domain '{n.domain}' unsupported")
        h = getattr(self, "op_" + op, None)
        if h is None:
            _fail(n, "operator unsupported (supported: Conv, Gemm, MatMul, Add (bias), Relu, MaxPool, Flatten, "
                     "Reshape, QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul, QGemm, Identity, "
                     "Dropout, Softmax (last))")
        h(n)

    # ---- constants and annotations -------------------------------------------------------------------
    def op_Constant(self, n):
        a = _attrs(n, {"value"})
        if "value" not in a:
            _fail(n, "only the 'value' attribute is supported")
        self.const[n.output[0]] = self.nh.to_array(a["value"])

    def op_QuantizeLinear(self, n):
        a = _attrs(n, {"axis"})
        s = self.constant(n, n.input[1], "scale")
        z = self.const.get(self.opt(n, 2)) if self.opt(n, 2) else None
        if self.opt(n, 2) and z is None:
            _fail(n, f"zero point '{n.input[2]}' is not a constant")
        if n.input[0] in self.const:
            _fail(n, "quantizing a constant at run time unsupported (store the quantized initializer)")
        self.data_input(n)
        if self.quantized:
            _fail(n, "QuantizeLinear of an already quantized tensor")
        if a.get("axis", 1) != 1 and np.asarray(s).size > 1:
            _fail(n, "per-channel activation quantization unsupported")
        qp = _qp_from(s, z, n, "activation")[:2]
        self.set_qp(n, qp)
        self.quantized = True
        self.cur = n.output[0]

    def set_qp(self, n, qp):
        if self.pending is not None:
            self.pending.out_qp = qp
            self.pending = None
        elif self.qp is None:
            if not self.net.layers:
                self.net.in_qp = qp
            else:
                _fail(n, "a tensor without an earlier scale is quantized here (quantize at the input or "
                         "right after an MVM layer)")
        elif not np.isclose(qp[0], self.qp[0], rtol=1e-6) or qp[1] != self.qp[1]:
            _fail(n, f"rescaling from scale {self.qp[0]:.6g}/zero point {self.qp[1]} to {qp[0]:.6g}/{qp[1]} "
                     "outside an MVM layer unsupported")
        self.qp = qp

    def op_DequantizeLinear(self, n):
        a = _attrs(n, {"axis"})
        zname = self.opt(n, 2)
        if n.input[0] in self.const:          # a quantized weight or bias
            z = self.const.get(zname) if zname else None
            s = self.constant(n, n.input[1], "scale")
            self.qconst[n.output[0]] = (self.const[n.input[0]], s, z, a.get("axis", 1))
            return
        self.data_input(n)
        if not self.quantized:
            _fail(n, "DequantizeLinear of a tensor that is not quantized")
        s = self.constant(n, n.input[1], "scale")
        z = self.const.get(zname) if zname else None
        qp = _qp_from(s, z, n, "activation")[:2]
        if not np.isclose(qp[0], self.qp[0], rtol=1e-6) or qp[1] != self.qp[1]:
            _fail(n, "dequantizes with another scale/zero point than the tensor was quantized with")
        self.quantized = False
        self.cur = n.output[0]

    # ---- pass-through -------------------------------------------------------------------------------
    def op_Identity(self, n):
        _attrs(n, set())
        self.data_input(n)
        self.cur = n.output[0]

    def op_Dropout(self, n):
        _attrs(n, {"seed"})
        self.data_input(n)
        self.cur = n.output[0]

    def op_Softmax(self, n):
        _attrs(n, {"axis"})
        self.data_input(n)
        if n.output[0] != self.g.output[0].name:
            _fail(n, "Softmax only as the last node (it is dropped: argmax unchanged)")
        self.cur = n.output[0]
        self.dropped_tail = True

    op_LogSoftmax = op_Softmax

    # ---- shape ---------------------------------------------------------------------------------------
    def flatten_to(self, n):
        if self.flat:
            return
        self.chw_before_flatten = self.shape
        h, w, c = self.shape
        self.shape = (1, 1, h * w * c)
        self.flat = True

    def op_Flatten(self, n):
        a = _attrs(n, {"axis"})
        if a.get("axis", 1) != 1:
            _fail(n, f"attribute axis={a['axis']} unsupported (only 1)")
        self.data_input(n)
        self.flatten_to(n)
        self.cur = n.output[0]

    def op_Reshape(self, n):
        _attrs(n, {"allowzero"})
        self.data_input(n)
        shape = [int(v) for v in self.constant(n, n.input[1], "shape").reshape(-1)]
        h, w, c = self.shape
        if len(shape) != 2 or shape[1] not in (-1, h * w * c) or shape[0] not in (-1, 0, 1):
            _fail(n, f"shape {shape} unsupported (only flattening to [N, -1])")
        self.flatten_to(n)
        self.cur = n.output[0]

    # ---- activation / pooling ------------------------------------------------------------------------
    def last_mvm(self, n, what):
        if not self.net.layers or not isinstance(self.net.layers[-1], MvmLayer) or self.net.layers[-1].relu:
            _fail(n, f"{what} must directly follow a Conv/Gemm/MatMul layer")
        return self.net.layers[-1]

    def op_Relu(self, n):
        _attrs(n, set())
        self.data_input(n)
        layer = self.last_mvm(n, "Relu")
        if layer.out_qp is not None and self.pending is None and not self.quantized and self.qp != layer.out_qp:
            _fail(n, "Relu after a rescaled tensor unsupported")
        layer.relu = True
        self.cur = n.output[0]

    def op_MaxPool(self, n):
        a = _attrs(n, {"kernel_shape", "strides", "pads", "ceil_mode", "dilations", "storage_order", "auto_pad"})
        self.data_input(n)
        k = a.get("kernel_shape")
        s = a.get("strides", [1, 1])
        if self.flat:
            _fail(n, "MaxPool of a flat tensor unsupported")
        if len(k) != 2 or k[0] != k[1]:
            _fail(n, f"attribute kernel_shape={k} unsupported (square 2-D only)")
        if len(s) != 2 or s[0] != s[1]:
            _fail(n, f"attribute strides={s} unsupported (equal strides only)")
        if any(a.get("pads", [0, 0, 0, 0])):
            _fail(n, f"attribute pads={a['pads']} unsupported (only 0)")
        if a.get("ceil_mode", 0):
            _fail(n, "attribute ceil_mode=1 unsupported (only 0)")
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            _fail(n, f"attribute dilations={a['dilations']} unsupported (only 1)")
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID", "NOTSET", "VALID"):
            _fail(n, f"attribute auto_pad={a['auto_pad']} unsupported (NOTSET or VALID)")
        if len(n.output) > 1 and n.output[1]:
            _fail(n, "the Indices output unsupported")
        layer = PoolLayer(n.name or n.output[0], self.shape, k[0], s[0])
        oh, ow = layer.out_hw
        if oh < 1 or ow < 1:
            _fail(n, f"kernel {k[0]} larger than the {self.shape[0]}x{self.shape[1]} input")
        self.net.layers.append(layer)
        self.shape = (oh, ow, self.shape[2])
        self.cur = n.output[0]

    # ---- MVM layers ----------------------------------------------------------------------------------
    def new_mvm(self, n, kind, out_c, k=1, stride=1, pad=0):
        # A pending layer (float output without a QuantizeLinear after it) gets its scale from calibration.
        layer = MvmLayer(n.name or n.output[0], kind, self.shape, out_c, k, stride, pad)
        layer.in_qp = self.qp
        if self.net.in_qp is None and not self.net.layers and self.qp is not None:
            self.net.in_qp = self.qp
        self.net.layers.append(layer)
        return layer

    def fc_rows_perm(self, rows_onnx):
        """Row permutation that turns ONNX's NCHW flattening (c, h, w) into the firmware's HWC (h, w, c)."""
        if self.chw_before_flatten is None or self.chw_before_flatten[:2] == (1, 1):
            return None
        h, w, c = self.chw_before_flatten
        return np.arange(rows_onnx).reshape(c, h, w).transpose(1, 2, 0).reshape(-1)

    def after_mvm(self, n, layer, out_qp):
        oh, ow = layer.out_hw
        self.shape = (oh, ow, layer.out_c)
        self.flat = layer.kind == "fc"
        self.chw_before_flatten = None
        layer.out_qp = out_qp
        self.pending = layer if out_qp is None else None
        self.quantized = out_qp is not None
        self.qp = out_qp
        self.cur = n.output[0]

    def weight(self, n, name, n_out, axis_out):
        """(float weights, None, None) or (None, quantized weights, (scale, zero point)) of a weight input."""
        if name in self.qconst:
            q, s, z, axis = self.qconst[name]
            if np.asarray(s).size > 1 and axis % q.ndim != axis_out:
                _fail(n, f"per-channel weight scales along axis {axis} unsupported (output channels: {axis_out})")
            return None, q, (s, z)
        if name not in self.const:
            _fail(n, f"weights '{name}' are not a constant (initializer)")
        w = self.const[name]
        if w.dtype != np.float32:
            _fail(n, f"float weights of type {w.dtype} unsupported (float32, or quantized via DequantizeLinear)")
        return w, None, None

    def bias(self, n, name, layer, n_out):
        if name is None:
            return
        if name in self.qconst:
            q, s, z, _ = self.qconst[name]
            if q.dtype != np.int32 or (z is not None and np.any(np.asarray(z) != 0)):
                _fail(n, "a quantized bias must be int32 with zero point 0")
            layer.b_q = q.reshape(-1).astype(np.int32)
            layer.b_scale = np.asarray(s, np.float32).reshape(-1)
            return
        b = self.constant(n, name, "bias").reshape(-1)
        if b.size != n_out:
            _fail(n, f"bias has {b.size} values for {n_out} outputs")
        layer.b_float = b.astype(np.float32)

    def op_Conv(self, n):
        a = _attrs(n, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"})
        self.data_input(n)
        if self.quantized:
            _fail(n, "float Conv of a quantized tensor (missing DequantizeLinear)")
        self.conv(n, a, n.input[1], self.opt(n, 2))

    def conv_geometry(self, n, a, wshape):
        if self.flat:
            _fail(n, "Conv of a flat tensor unsupported")
        if len(wshape) != 4:
            _fail(n, f"weights of rank {len(wshape)} unsupported (2-D convolution only)")
        out_c, in_c, kh, kw = wshape
        if a.get("group", 1) != 1:
            _fail(n, f"attribute group={a['group']} unsupported (only 1)")
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            _fail(n, f"attribute dilations={a['dilations']} unsupported (only 1)")
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            _fail(n, f"attribute auto_pad={a['auto_pad']} unsupported (explicit pads only)")
        if kh != kw:
            _fail(n, f"kernel {kh}x{kw} unsupported (square kernels only)")
        pads = a.get("pads", [0, 0, 0, 0])
        if len(set(pads)) != 1:
            _fail(n, f"attribute pads={pads} unsupported (equal padding on every side only)")
        s = a.get("strides", [1, 1])
        if len(set(s)) != 1:
            _fail(n, f"attribute strides={s} unsupported (equal strides only)")
        if in_c != self.shape[2]:
            _fail(n, f"weights expect {in_c} input channels, the input has {self.shape[2]}")
        return out_c, in_c, kh, pads[0], s[0]

    @staticmethod
    def conv_rows(w):
        """(O, C, kh, kw) -> (kh*kw*C, O), rows in (kh, kw, c) order."""
        o, c, kh, kw = w.shape
        return np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(kh * kw * c, o))

    def conv(self, n, a, wname, bname, qw=None, out_qp=None, in_qp=None):
        if qw is None:
            wf, wq, ws = self.weight(n, wname, None, 0)
            wshape = (wf if wf is not None else wq).shape
            if wq is not None:
                wq, ws = _weights_q(wq, ws[0], ws[1], n, wshape[0])
        else:
            wf, (wq, ws) = None, qw
            wshape = wq.shape
        out_c, in_c, k, pad, stride = self.conv_geometry(n, a, wshape)
        layer = self.new_mvm(n, "conv", out_c, k, stride, pad)
        if in_qp is not None:
            layer.in_qp = in_qp
        if wf is not None:
            layer.w_float = self.conv_rows(wf)
        else:
            layer.w_q, layer.w_scale = self.conv_rows(wq), ws
        if layer.out_hw[0] < 1 or layer.out_hw[1] < 1:
            _fail(n, "output smaller than 1x1")
        if bname is not None:
            self.bias(n, bname, layer, out_c)
        self.after_mvm(n, layer, out_qp)

    def fc(self, n, wf, wq, ws, k_in, n_out, out_qp=None, in_qp=None):
        if not self.flat:
            h, w, c = self.shape
            if (h, w) != (1, 1):
                _fail(n, f"matrix product of a {h}x{w}x{c} tensor (Flatten it first)")
        if k_in != self.shape[2]:
            _fail(n, f"weights expect {k_in} inputs, the input has {self.shape[2]}")
        perm = self.fc_rows_perm(k_in)
        layer = self.new_mvm(n, "fc", n_out)
        layer.flat_from = self.chw_before_flatten if perm is not None else None
        if in_qp is not None:
            layer.in_qp = in_qp
        if wf is not None:
            layer.w_float = wf[perm] if perm is not None else wf
        else:
            layer.w_q, layer.w_scale = (wq[perm] if perm is not None else wq), ws
        return layer

    def op_Gemm(self, n):
        a = _attrs(n, {"alpha", "beta", "transA", "transB"})
        self.data_input(n)
        if self.quantized:
            _fail(n, "float Gemm of a quantized tensor (missing DequantizeLinear)")
        if a.get("transA", 0):
            _fail(n, "attribute transA=1 unsupported (only 0)")
        for key in ("alpha", "beta"):
            if a.get(key, 1.0) != 1.0:
                _fail(n, f"attribute {key}={a[key]} unsupported (only 1.0)")
        wf, wq, ws = self.weight(n, n.input[1], None, 0 if a.get("transB", 0) else 1)
        w = wf if wf is not None else wq
        if w.ndim != 2:
            _fail(n, f"weights of rank {w.ndim} unsupported")
        if a.get("transB", 0):
            w = w.T
        k_in, n_out = w.shape
        if wq is not None:
            wq, ws = _weights_q(np.ascontiguousarray(w), ws[0], ws[1], n, n_out)
            layer = self.fc(n, None, wq, ws, k_in, n_out)
        else:
            layer = self.fc(n, np.ascontiguousarray(w), None, None, k_in, n_out)
        self.bias(n, self.opt(n, 2), layer, n_out)
        self.after_mvm(n, layer, None)

    def op_MatMul(self, n):
        _attrs(n, set())
        self.data_input(n)
        if self.quantized:
            _fail(n, "float MatMul of a quantized tensor (missing DequantizeLinear)")
        wf, wq, ws = self.weight(n, n.input[1], None, 1)
        w = wf if wf is not None else wq
        if w.ndim != 2:
            _fail(n, f"weights of rank {w.ndim} unsupported")
        k_in, n_out = w.shape
        if wq is not None:
            wq, ws = _weights_q(wq, ws[0], ws[1], n, n_out)
        layer = self.fc(n, wf, wq, ws, k_in, n_out)
        self.after_mvm(n, layer, None)

    def op_Add(self, n):
        _attrs(n, set())
        if self.cur not in n.input:
            self.data_input(n)
        other = n.input[1] if n.input[0] == self.cur else n.input[0]
        if other not in self.const and other not in self.qconst:
            _fail(n, "Add of two activations (a residual connection) unsupported; only a constant bias")
        layer = self.net.layers[-1] if self.net.layers else None
        if (self.pending is None or layer is not self.pending or layer.relu or layer.b_float is not None
                or layer.b_q is not None):
            _fail(n, "Add only as the bias of a Conv/Gemm/MatMul without a bias")
        b = self.constant(n, other, "bias").reshape(-1)
        if b.size == 1:
            b = np.full(layer.out_c, b[0], np.float32)
        if b.size != layer.out_c:
            _fail(n, f"bias has {b.size} values for {layer.out_c} outputs")
        layer.b_float = b.astype(np.float32)
        self.cur = n.output[0]

    # ---- QLinear operators ---------------------------------------------------------------------------
    def qlinear_inputs(self, n, idx_x=0):
        self.data_input(n, idx_x)
        if not self.quantized:
            _fail(n, "input is not quantized (missing QuantizeLinear)")

    def qparams(self, n, i_s, i_z, what):
        s = self.constant(n, n.input[i_s], f"{what} scale")
        zname = self.opt(n, i_z)
        z = self.const.get(zname) if zname else None
        if zname and z is None:
            _fail(n, f"{what} zero point '{zname}' is not a constant")
        return s, z

    def check_in_qp(self, n, s, z):
        qp = _qp_from(s, z, n, "input")[:2]
        if not np.isclose(qp[0], self.qp[0], rtol=1e-6) or qp[1] != self.qp[1]:
            _fail(n, "input scale/zero point differ from the producer's")
        return qp

    def qint_bias(self, n, name, layer, in_scale):
        if name is None:
            return
        b = self.constant(n, name, "bias")
        if b.dtype != np.int32:
            _fail(n, f"bias of type {b.dtype} unsupported (int32)")
        layer.b_q = b.reshape(-1).astype(np.int32)
        layer.b_scale = np.float32(in_scale) * layer.w_scale

    def op_QLinearConv(self, n):
        a = _attrs(n, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"})
        self.qlinear_inputs(n)
        xs, xz = self.qparams(n, 1, 2, "input")
        in_qp = self.check_in_qp(n, xs, xz)
        wq = self.constant(n, n.input[3], "weights") if n.input[3] in self.const else None
        if wq is None:
            _fail(n, f"weights '{n.input[3]}' are not a constant")
        ws, wz = self.qparams(n, 4, 5, "weight")
        wq, ws = _weights_q(wq, ws, wz, n, wq.shape[0])
        ys, yz = self.qparams(n, 6, 7, "output")
        out_qp = _qp_from(ys, yz, n, "output")[:2]
        self.conv(n, a, None, None, qw=(wq, ws), out_qp=out_qp, in_qp=in_qp)
        self.qint_bias(n, self.opt(n, 8), self.net.layers[-1], in_qp[0])

    def op_QLinearMatMul(self, n):
        _attrs(n, set())
        self.qlinear_inputs(n)
        xs, xz = self.qparams(n, 1, 2, "input")
        in_qp = self.check_in_qp(n, xs, xz)
        if n.input[3] not in self.const:
            _fail(n, f"weights '{n.input[3]}' are not a constant")
        wq = self.const[n.input[3]]
        if wq.ndim != 2:
            _fail(n, f"weights of rank {wq.ndim} unsupported")
        ws, wz = self.qparams(n, 4, 5, "weight")
        wq, ws = _weights_q(wq, ws, wz, n, wq.shape[1])
        ys, yz = self.qparams(n, 6, 7, "output")
        out_qp = _qp_from(ys, yz, n, "output")[:2]
        layer = self.fc(n, None, wq, ws, wq.shape[0], wq.shape[1], in_qp=in_qp)
        self.after_mvm(n, layer, out_qp)

    def op_QGemm(self, n):
        a = _attrs(n, {"alpha", "transA", "transB"})
        self.qlinear_inputs(n)
        if a.get("transA", 0):
            _fail(n, "attribute transA=1 unsupported (only 0)")
        if a.get("alpha", 1.0) != 1.0:
            _fail(n, f"attribute alpha={a['alpha']} unsupported (only 1.0)")
        xs, xz = self.qparams(n, 1, 2, "input")
        in_qp = self.check_in_qp(n, xs, xz)
        if n.input[3] not in self.const:
            _fail(n, f"weights '{n.input[3]}' are not a constant")
        w = self.const[n.input[3]]
        if w.ndim != 2:
            _fail(n, f"weights of rank {w.ndim} unsupported")
        if a.get("transB", 0):
            w = w.T
        ws, wz = self.qparams(n, 4, 5, "weight")
        wq, ws = _weights_q(np.ascontiguousarray(w), ws, wz, n, w.shape[1])
        out_qp = None
        if self.opt(n, 7):
            ys, yz = self.qparams(n, 7, 8, "output")
            out_qp = _qp_from(ys, yz, n, "output")[:2]
        layer = self.fc(n, None, wq, ws, w.shape[0], w.shape[1], in_qp=in_qp)
        self.qint_bias(n, self.opt(n, 6), layer, in_qp[0])
        self.after_mvm(n, layer, out_qp)
        if out_qp is None:           # float output: the logits
            self.pending = None
            self.quantized = False


# ---- quantization ------------------------------------------------------------------------------------
def _scale_of(maxabs):
    return float(np.float32(max(float(maxabs), 1e-8) / 127.0))


def quantize_weights(layer, s_in):
    """Per-output-channel symmetric int8. A channel's scale is at least what keeps its bias within +-2^30
    at the accumulator scale s_in * s_w (a dead channel with a bias would otherwise overflow int32)."""
    if layer.w_q is not None:
        return
    w = layer.w_float.astype(np.float64)
    b = np.abs(layer.b_float.astype(np.float64)) if layer.b_float is not None else np.zeros(w.shape[1])
    s = np.maximum(np.abs(w).max(axis=0) / 127.0, b / (float(s_in) * 2.0 ** 30))
    s = np.where(s > 0, s, 1.0)
    layer.w_scale = s.astype(np.float32)
    layer.w_q = np.clip(np.round(w / layer.w_scale.astype(np.float64)), -127, 127).astype(np.int8)


def float_forward(net, x):
    """Float forward (dequantized weights where the model was quantized) recording each MVM layer's input and
    output ranges -> list of (max |input|, max |output after ReLU|)."""
    from qnet import im2col, maxpool
    n = len(x)
    h, w, c = net.in_shape
    a = np.asarray(x, np.float64).reshape(n, c, h, w).transpose(0, 2, 3, 1)
    stats = []
    for layer in net.layers:
        if isinstance(layer, PoolLayer):
            a = maxpool(a, layer.k, layer.stride)
            continue
        wf = layer.w_float if layer.w_float is not None else layer.w_q * layer.w_scale[None, :]
        b = layer.b_float if layer.b_float is not None else (
            layer.b_q * layer.b_scale if layer.b_q is not None else 0)
        cols = im2col(a, layer.k, layer.stride, layer.pad, 0.0) if layer.kind == "conv" else a.reshape(n, 1, 1, -1)
        y = cols @ wf.astype(np.float64) + b
        if layer.relu:
            y = np.maximum(y, 0)
        stats.append((float(np.abs(a).max()), float(np.abs(y).max())))
        a = y
    return stats, a.reshape(n, -1)


def finish(net, calib=None):
    """Fills in what the model did not give: activation scales (calibration), int8 weights, int32 biases;
    then folds the input zero points into the biases and computes the fixed-point requantization."""
    mvms = net.mvm_layers
    need_calib = net.in_qp is None or any(l.in_qp is None or (l.out_qp is None and l is not mvms[-1]) for l in mvms)
    if need_calib:
        if calib is None:
            raise ImportFailure("a float model (or one with unquantized activations) needs calibration data (--calib)")
        stats, _ = float_forward(net, calib)
        if net.in_qp is None:
            net.in_qp = (_scale_of(stats[0][0]), 0)
        for i, layer in enumerate(mvms):
            if layer.in_qp is None:
                layer.in_qp = net.in_qp if i == 0 else mvms[i - 1].out_qp
            if layer.out_qp is None and layer is not mvms[-1]:
                layer.out_qp = (_scale_of(stats[i][1]), 0)
    for i, layer in enumerate(mvms):
        if i and layer.in_qp != mvms[i - 1].out_qp:
            raise ImportFailure(f"layer '{layer.name}': input scale differs from layer '{mvms[i - 1].name}''s output "
                                "scale (a rescale between layers is unsupported)")
        quantize_weights(layer, layer.in_qp[0])
        s_in = np.float64(layer.in_qp[0])
        acc_scale = s_in * layer.w_scale.astype(np.float64)
        if layer.b_q is None:
            b = layer.b_float if layer.b_float is not None else np.zeros(layer.out_c)
            b_q = np.round(np.asarray(b, np.float64) / acc_scale)
            if np.any(np.abs(b_q) > 2 ** 31 - 1):
                raise ImportFailure(f"layer '{layer.name}': bias does not fit int32 at scale s_in*s_w")
            layer.b_q = b_q.astype(np.int32)
        elif layer.b_scale is not None and not np.allclose(layer.b_scale, acc_scale, rtol=1e-5):
            raise ImportFailure(f"layer '{layer.name}': bias scale differs from input scale x weight scale")
        layer.b_q = layer.b_q.reshape(-1)
        if layer.b_q.size == 1:
            layer.b_q = np.full(layer.out_c, layer.b_q[0], np.int32)
        if layer.b_q.size != layer.out_c:
            raise ImportFailure(f"layer '{layer.name}': bias has {layer.b_q.size} values for {layer.out_c} outputs")
        colsum = layer.w_q.astype(np.int64).sum(axis=0)
        bias = layer.b_q.astype(np.int64) - layer.in_qp[1] * colsum
        if np.any(np.abs(bias) > 2 ** 31 - 1):
            raise ImportFailure(f"layer '{layer.name}': bias with the zero point folded in does not fit int32")
        layer.bias = bias.astype(np.int32)
        if layer is mvms[-1]:             # its int32 accumulators are the logits: no output scale
            layer.out_qp = None
            layer.mult = np.zeros(layer.out_c, np.int64)
            layer.shift = np.ones(layer.out_c, np.int64)
        else:
            m = acc_scale / np.float64(layer.out_qp[0])
            mult, shift = fixed_point(m)
            if np.any(shift < 1) or np.any(shift > 62):
                raise ImportFailure(f"layer '{layer.name}': requantization factor out of range")
            layer.mult, layer.shift = mult, shift
    return net


def import_model(path_or_model, name, calib=None):
    import onnx
    if isinstance(path_or_model, str):
        try:
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = onnx.load(path_or_model)
        except Exception as e:  # noqa: BLE001 - protobuf raises several types
            raise ImportFailure(f"cannot read the model: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    else:
        model = path_or_model
    net = _Importer(model, name).run()
    return finish(net, calib)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="onnx-import", description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--name", required=True, help="C identifier prefix, e.g. mlp")
    ap.add_argument("--calib", help="npz with x_calib (float model inputs) for a float model")
    ap.add_argument("--test", help="npz with x_test / y_test: embedded in the header with host results")
    ap.add_argument("--header", help="write the firmware header here")
    ap.add_argument("--neurosim-dir", help="write NetWork.csv and per-layer weight/input CSVs here")
    ap.add_argument("--neurosim-images", type=int, default=1, help="test images in the input CSVs (default 1)")
    ap.add_argument("--qdq", help="also write the quantized network as a QDQ ONNX model")
    ap.add_argument("--qlinear", help="also write the quantized network as a QLinear ONNX model")
    args = ap.parse_args(argv)
    prog = f"onnx-import: {args.model}"
    try:
        if not args.name.isidentifier():
            raise ImportFailure(f"--name '{args.name}' is not a C identifier")
        calib = _npz(args.calib, "x_calib") if args.calib else None
        net = import_model(args.model, args.name, calib)
        test = (_npz(args.test, "x_test"), _npz(args.test, "y_test")) if args.test else None
        import emit
        if args.header:
            emit.write_header(net, args.header, test)
        if args.neurosim_dir:
            if test is None:
                raise ImportFailure("--neurosim-dir needs --test (the input CSVs hold test images)")
            emit.write_neurosim(net, args.neurosim_dir, net.quantize_input(test[0][:args.neurosim_images]))
        if args.qdq or args.qlinear:
            import export_quantized
            if args.qdq:
                export_quantized.save(export_quantized.qdq_model(net), args.qdq)
            if args.qlinear:
                export_quantized.save(export_quantized.qlinear_model(net), args.qlinear)
        if test is not None:
            logits = net.run_int(net.quantize_input(test[0]))
            acc = (logits.argmax(1) == test[1]).mean() * 100
            print(f"onnx-import: {args.name}: {len(net.mvm_layers)} MVM layers, int8 test accuracy {acc:.2f} % "
                  f"({len(test[1])} images)")
    except ImportFailure as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{prog}: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0


def _npz(path, key):
    try:
        with np.load(path) as d:
            if key not in d:
                raise ImportFailure(f"{path}: no array '{key}'")
            return d[key]
    except (OSError, ValueError) as e:
        raise ImportFailure(f"{path}: cannot read ({e})")


if __name__ == "__main__":
    sys.exit(main())
