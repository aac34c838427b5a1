"""An imported QNet written back as a quantized ONNX model: QDQ (QuantizeLinear/DequantizeLinear around float
operators) or QLinear (QLinearConv, QGemm / QLinearMatMul on int8 tensors). Importing either gives the same
QNet again (the tests check it), so the import paths for already quantized models are exercised on the real
networks."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from qnet import MvmLayer, PoolLayer


class _G:
    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(self, op, inputs, name, domain=None, **attrs):
        self.n += 1
        out = f"{name}.out{self.n}"
        kw = {"domain": domain} if domain else {}
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{name}.{op}{self.n}", **kw, **attrs))
        return out


def onnx_weights(layer):
    """The layer's int8 weights in ONNX layout: Conv (O, C, kh, kw); FC (N, K) with K in NCHW flattening order."""
    if layer.kind == "conv":
        c = layer.in_shape[2]
        return layer.w_q.reshape(layer.k, layer.k, c, layer.out_c).transpose(3, 2, 0, 1)
    w = layer.w_q
    if layer.flat_from is not None:
        h, ww, c = layer.flat_from
        perm = np.arange(h * ww * c).reshape(c, h, ww).transpose(1, 2, 0).reshape(-1)
        w = np.empty_like(layer.w_q)
        w[perm] = layer.w_q
    return w.T


def _input_shape(net):
    h, w, c = net.in_shape
    return ["N", c * h * w] if (h, w) == (1, 1) else ["N", c, h, w]


def _finish(g, net, x_out, opset, name, domains=()):
    graph = helper.make_graph(g.nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, _input_shape(net))],
                              [helper.make_tensor_value_info(x_out, TensorProto.FLOAT, ["N", net.n_classes])], g.inits)
    imports = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in domains]
    return helper.make_model(graph, producer_name="dynperiph-qnn", opset_imports=imports)


def _needs_flatten(net, i, layer):
    return layer.kind == "fc" and i > 0 and not (isinstance(net.layers[i - 1], MvmLayer) and net.layers[i - 1].kind == "fc")


def qdq_model(net):
    g = _G()
    s_in, z_in = net.in_qp
    sc = lambda nm, v: g.init(nm, np.asarray(v, np.float32))            # noqa: E731
    zp = lambda nm, v: g.init(nm, np.asarray(v, np.int8))               # noqa: E731
    x = g.node("QuantizeLinear", ["input", sc("in.s", s_in), zp("in.z", z_in)], "in")
    x = g.node("DequantizeLinear", [x, "in.s", "in.z"], "in")
    qp = net.in_qp
    mvms = net.mvm_layers
    for i, layer in enumerate(net.layers):
        nm = layer.name
        if isinstance(layer, PoolLayer):
            x = g.node("MaxPool", [x], nm, kernel_shape=[layer.k] * 2, strides=[layer.stride] * 2)
            continue
        if _needs_flatten(net, i, layer):
            x = g.node("Flatten", [x], nm + ".flatten", axis=1)
        w = g.init(nm + ".wq", onnx_weights(layer).astype(np.int8))
        ws = sc(nm + ".ws", layer.w_scale)
        wz = zp(nm + ".wz", np.zeros(layer.out_c))
        wd = g.node("DequantizeLinear", [w, ws, wz], nm + ".w", axis=0)
        bq = g.init(nm + ".bq", layer.b_q.astype(np.int32))
        bs = sc(nm + ".bs", np.float32(qp[0]) * layer.w_scale)
        bd = g.node("DequantizeLinear", [bq, bs, g.init(nm + ".bz", np.zeros(layer.out_c, np.int32))], nm + ".b", axis=0)
        if layer.kind == "conv":
            x = g.node("Conv", [x, wd, bd], nm, kernel_shape=[layer.k] * 2, strides=[layer.stride] * 2,
                       pads=[layer.pad] * 4)
        else:
            x = g.node("Gemm", [x, wd, bd], nm, transB=1)
        if layer.relu:
            x = g.node("Relu", [x], nm)
        if layer is not mvms[-1]:
            qp = layer.out_qp
            x = g.node("QuantizeLinear", [x, sc(nm + ".ys", qp[0]), zp(nm + ".yz", qp[1])], nm)
            x = g.node("DequantizeLinear", [x, nm + ".ys", nm + ".yz"], nm)
    m = _finish(g, net, x, 13, net.name + "_qdq")
    onnx.checker.check_model(m)
    return m


def qlinear_model(net, fc_op="QGemm"):
    """QLinearConv for convolutions; fc_op "QGemm" (com.microsoft, with bias) or "QLinearMatMul" (no bias
    input: only for networks whose FC biases are 0)."""
    g = _G()
    sc = lambda nm, v: g.init(nm, np.asarray(v, np.float32))            # noqa: E731
    zp = lambda nm, v: g.init(nm, np.asarray(v, np.int8))               # noqa: E731
    x = g.node("QuantizeLinear", ["input", sc("in.s", net.in_qp[0]), zp("in.z", net.in_qp[1])], "in")
    xs, xz = "in.s", "in.z"
    mvms = net.mvm_layers
    for i, layer in enumerate(net.layers):
        nm = layer.name
        if isinstance(layer, PoolLayer):
            x = g.node("MaxPool", [x], nm, kernel_shape=[layer.k] * 2, strides=[layer.stride] * 2)
            continue
        if _needs_flatten(net, i, layer):
            x = g.node("Flatten", [x], nm + ".flatten", axis=1)
        last = layer is mvms[-1]
        w = g.init(nm + ".wq", onnx_weights(layer).astype(np.int8))
        ws, wz = sc(nm + ".ws", layer.w_scale), zp(nm + ".wz", np.zeros(layer.out_c))
        b = g.init(nm + ".bq", layer.b_q.astype(np.int32))
        ys, yz = (sc(nm + ".ys", layer.out_qp[0]), zp(nm + ".yz", layer.out_qp[1])) if not last else (None, None)
        if layer.kind == "conv":
            if last:
                ys, yz = sc(nm + ".ys", 1.0), zp(nm + ".yz", 0)
            x = g.node("QLinearConv", [x, xs, xz, w, ws, wz, ys, yz, b], nm, kernel_shape=[layer.k] * 2,
                       strides=[layer.stride] * 2, pads=[layer.pad] * 4)
        elif fc_op == "QGemm":
            ins = [x, xs, xz, w, ws, wz, b] + ([ys, yz] if not last else [])
            x = g.node("QGemm", ins, nm, domain="com.microsoft", transB=1)
        else:
            if np.any(layer.b_q != 0):
                raise ValueError(f"layer '{nm}' has a bias; QLinearMatMul has no bias input")
            wt = g.init(nm + ".wqt", np.ascontiguousarray(onnx_weights(layer).T).astype(np.int8))
            if last:
                ys, yz = sc(nm + ".ys", 1.0), zp(nm + ".yz", 0)
            x = g.node("QLinearMatMul", [x, xs, xz, wt, ws, wz, ys, yz], nm)
        if layer.relu:
            x = g.node("Relu", [x], nm)
        xs, xz = ys, yz
    if not (mvms[-1].kind == "fc" and fc_op == "QGemm"):
        x = g.node("DequantizeLinear", [x, xs, xz], "out")
    return _finish(g, net, x, 14, net.name + "_qlinear", ["com.microsoft"] if fc_op == "QGemm" else [])


def save(model, path):
    onnx.save(model, path)
