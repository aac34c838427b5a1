"""Float ONNX graphs of the two digit classifiers (opset 13), from trained numpy parameters.

The MLP is Gemm/Relu (transB = 1, as frameworks export it); the CNN is NCHW Conv/Relu/MaxPool, Flatten and
a Gemm. Weights trained in NHWC order (train.py) are transposed here to ONNX's NCHW order.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def _init(name, arr):
    return numpy_helper.from_array(np.ascontiguousarray(arr), name)


def _model(nodes, inits, in_shape, n_out, name):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", n_out])], inits)
    m = helper.make_model(g, producer_name="dynperiph-qnn", opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(m)
    return m


def mlp_model(layers):
    """layers: [(W (in, out), b (out,)), ...]; ReLU after every layer but the last."""
    nodes, inits, x = [], [], "input"
    for i, (w, b) in enumerate(layers):
        last = i == len(layers) - 1
        y = "logits" if last else f"fc{i + 1}"
        inits += [_init(f"fc{i + 1}.weight", w.T.astype(np.float32)), _init(f"fc{i + 1}.bias", b.astype(np.float32))]
        nodes.append(helper.make_node("Gemm", [x, f"fc{i + 1}.weight", f"fc{i + 1}.bias"], [y], name=f"fc{i + 1}",
                                      transB=1))
        if not last:
            nodes.append(helper.make_node("Relu", [y], [y + ".relu"], name=f"relu{i + 1}"))
            y += ".relu"
        x = y
    return _model(nodes, inits, ["N", layers[0][0].shape[0]], layers[-1][0].shape[1], "digits_mlp")


def _conv_weight(w_hwc, k, c_in):
    """(k*k*c_in, out) in (kh, kw, c) row order -> ONNX (out, c_in, kh, kw)."""
    return w_hwc.reshape(k, k, c_in, -1).transpose(3, 2, 0, 1).astype(np.float32)


def cnn_model(p):
    c1, c2 = p["w1"].shape[1], p["w2"].shape[1]
    inits = [_init("conv1.weight", _conv_weight(p["w1"], 3, 1)), _init("conv1.bias", p["b1"]),
             _init("conv2.weight", _conv_weight(p["w2"], 3, c1)), _init("conv2.bias", p["b2"])]
    # flatten of NCHW (c, h, w) vs training's NHWC (h, w, c) rows
    hw = p["w3"].shape[0] // c2
    w3 = p["w3"].reshape(hw, c2, -1).transpose(1, 0, 2).reshape(hw * c2, -1)
    inits += [_init("fc.weight", w3.T.astype(np.float32)), _init("fc.bias", p["b3"])]
    n = helper.make_node
    nodes = [
        n("Conv", ["input", "conv1.weight", "conv1.bias"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        n("Relu", ["c1"], ["r1"], name="relu1"),
        n("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        n("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        n("Relu", ["c2"], ["r2"], name="relu2"),
        n("MaxPool", ["r2"], ["p2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        n("Flatten", ["p2"], ["f"], name="flatten", axis=1),
        n("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
    ]
    return _model(nodes, inits, ["N", 1, 8, 8], p["w3"].shape[1], "digits_cnn")


def save(model, path):
    onnx.save(model, path)
