"""Tests of tools/qnn: the built models (QNN_BUILD_DIR = build/qnn), every import path (float + calibration,
QDQ, QLinear with QGemm / QLinearMatMul, MatMul + Add), zero points, the NeuroSim files (through cimsim,
QNN_CIMSIM) and one test per unsupported operator / attribute error."""
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.dirname(HERE)
sys.path.insert(0, TOOL)
import emit  # noqa: E402
import export_quantized  # noqa: E402
import onnx_import  # noqa: E402
from qnet import MvmLayer  # noqa: E402

BUILD = os.environ.get("QNN_BUILD_DIR", "")
CIMSIM = os.environ.get("QNN_CIMSIM", "")


def built(name):
    path = os.path.join(BUILD, name)
    if not os.path.exists(path):
        pytest.fail(f"{path} missing: set QNN_BUILD_DIR to build/qnn (built by the qnn-models target)")
    return path


@pytest.fixture(scope="module")
def data():
    with np.load(built("digits_split.npz")) as d:
        return {k: d[k] for k in d}


@pytest.fixture(scope="module")
def nets(data):
    return {m: onnx_import.import_model(built(f"{m}.onnx"), m, data["x_calib"]) for m in ("mlp", "cnn")}


def accuracy(net, data):
    return (net.run_int(net.quantize_input(data["x_test"])).argmax(1) == data["y_test"]).mean()


def assert_same(a, b):
    assert a.in_qp == b.in_qp
    assert len(a.layers) == len(b.layers)
    for la, lb in zip(a.layers, b.layers):
        assert type(la) is type(lb)
        if isinstance(la, MvmLayer):
            for f in ("w_q", "bias", "mult", "shift"):
                np.testing.assert_array_equal(getattr(la, f), getattr(lb, f), err_msg=f"{la.name}.{f}")
            assert (la.in_qp, la.out_qp, la.relu, la.kind, la.k, la.pad) == \
                   (lb.in_qp, lb.out_qp, lb.relu, lb.kind, lb.k, lb.pad)


# ---- the built networks ---------------------------------------------------------------------------------
def test_split_is_fixed_and_large_enough(data):
    assert len(data["y_test"]) >= 350 and len(data["y_test"]) == 450
    assert len(data["x_train"]) + len(data["y_test"]) == 1797


@pytest.mark.parametrize("model,target", [("mlp", 0.95), ("cnn", 0.96)])
def test_int8_accuracy_targets(nets, data, model, target):
    assert accuracy(nets[model], data) >= target


def test_cnn_shapes(nets):
    kinds = [(type(l).__name__, getattr(l, "kind", None), l.in_shape) for l in nets["cnn"].layers]
    assert kinds == [("MvmLayer", "conv", (8, 8, 1)), ("PoolLayer", None, (8, 8, 8)), ("MvmLayer", "conv", (4, 4, 8)),
                     ("PoolLayer", None, (4, 4, 16)), ("MvmLayer", "fc", (1, 1, 64))]


def test_integer_pipeline_follows_the_float_model(nets, data):
    for net in nets.values():
        _, fl = onnx_import.float_forward(net, data["x_test"])
        agree = (net.run_int(net.quantize_input(data["x_test"])).argmax(1) == fl.argmax(1)).mean()
        assert agree >= 0.98


def test_requantization_is_fixed_point(nets):
    for net in nets.values():
        for l in net.mvm_layers[:-1]:
            assert np.all((l.mult >= 2 ** 30) & (l.mult < 2 ** 31)) and np.all((l.shift >= 1) & (l.shift <= 62))
            m = np.float64(l.in_qp[0]) * l.w_scale.astype(np.float64) / l.out_qp[0]
            np.testing.assert_allclose(l.mult * 2.0 ** -l.shift.astype(np.float64), m, rtol=1e-9)


def test_header_matches_host_pipeline(nets, data, tmp_path):
    p = tmp_path / "qnn_cnn.h"
    emit.write_header(nets["cnn"], str(p), (data["x_test"], data["y_test"]))
    text = p.read_text()
    logits = nets["cnn"].run_int(nets["cnn"].quantize_input(data["x_test"]))
    assert f"#define CNN_HOST_LOGITS_FNV 0x{emit.fnv1a_int32(logits):08x}u" in text
    assert f"#define CNN_HOST_CORRECT {int((logits.argmax(1) == data['y_test']).sum())}" in text
    assert "static const qnn_model_t cnn_model" in text and ".kind = QNN_CONV" in text
    assert os.listdir(tmp_path) == ["qnn_cnn.h"]  # no temporary file left


# ---- already quantized models: the same network again ---------------------------------------------------
@pytest.mark.parametrize("model", ["mlp", "cnn"])
@pytest.mark.parametrize("form", ["qdq", "qlinear"])
def test_quantized_export_reimports_identically(nets, model, form, tmp_path):
    m = export_quantized.qdq_model(nets[model]) if form == "qdq" else export_quantized.qlinear_model(nets[model])
    path = tmp_path / f"{model}.onnx"
    onnx.save(m, str(path))
    ops = {n.op_type for n in m.graph.node}
    assert ({"QuantizeLinear", "DequantizeLinear"} <= ops) if form == "qdq" else ("QGemm" in ops)
    assert_same(nets[model], onnx_import.import_model(str(path), model))   # no calibration needed


def test_qlinearmatmul(nets, data):
    import copy
    net = copy.deepcopy(nets["mlp"])
    for l in net.mvm_layers:
        l.b_q, l.b_float = np.zeros(l.out_c, np.int32), None
    onnx_import.finish(net)
    m = export_quantized.qlinear_model(net, fc_op="QLinearMatMul")
    assert "QLinearMatMul" in {n.op_type for n in m.graph.node}
    assert_same(net, onnx_import.import_model(m, "mlp"))


def test_uint8_activations_shift_exactly(nets):
    """QDQ with uint8 activations (zero point 128) is the int8 network with zero point 0."""
    m = export_quantized.qdq_model(nets["cnn"])
    for init in m.graph.initializer:
        if init.name.endswith((".yz", "in.z")):
            init.CopyFrom(numpy_helper.from_array(np.asarray(128, np.uint8), init.name))
    assert_same(nets["cnn"], onnx_import.import_model(m, "cnn"))


def _q_model(nodes, inits, in_shape, out_shape, opset=14, domains=()):
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                          [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, out_shape)],
                          [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)] +
                             [helper.make_opsetid(d, 1) for d in domains])


def test_zero_points_fold_into_the_bias_and_padding():
    """Conv with input zero point 7 and padding 1 as the last layer: logits = sum (x - 7) w + b, padding = real 0."""
    rng = np.random.default_rng(1)
    w = rng.integers(-127, 128, (4, 2, 3, 3)).astype(np.int8)
    b = rng.integers(-1000, 1000, 4).astype(np.int32)
    inits = {"s": np.float32(0.05), "z": np.int8(7), "ws": np.full(4, 0.01, np.float32), "wz": np.zeros(4, np.int8),
             "w": w, "b": b, "ys": np.float32(1.0), "yz": np.int8(0)}
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="q"),
             helper.make_node("QLinearConv", ["q", "s", "z", "w", "ws", "wz", "ys", "yz", "b"], ["c"], name="conv",
                              kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("DequantizeLinear", ["c", "ys", "yz"], ["y"], name="dq")]
    net = onnx_import.import_model(_q_model(nodes, inits, ["N", 2, 5, 5], ["N", 4, 5, 5]), "t")
    xq = rng.integers(-128, 128, (3, 5 * 5 * 2)).astype(np.int8)           # HWC
    got = net.run_int(xq).reshape(3, 5, 5, 4)
    x = xq.reshape(3, 5, 5, 2).astype(np.int64) - 7
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))                         # real zero = zero point
    want = np.zeros((3, 5, 5, 4), np.int64)
    for i in range(3):
        for j in range(3):
            want += np.einsum("nhwc,oc->nhwo", xp[:, i:i + 5, j:j + 5, :], w[:, :, i, j].astype(np.int64))
    np.testing.assert_array_equal(got, want + b)


def test_matmul_add_equals_gemm(nets, data):
    g = onnx.load(built("mlp.onnx"))
    inits = {i.name: numpy_helper.to_array(i) for i in g.graph.initializer}
    nodes, new_inits, x = [], {}, "x"
    for i in (1, 2, 3):
        new_inits[f"w{i}"] = np.ascontiguousarray(inits[f"fc{i}.weight"].T)
        new_inits[f"b{i}"] = inits[f"fc{i}.bias"]
        nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"m{i}"], name=f"mm{i}"))
        nodes.append(helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"], name=f"add{i}"))
        x = f"a{i}"
        if i < 3:
            nodes.append(helper.make_node("Relu", [x], [f"r{i}"], name=f"relu{i}"))
            x = f"r{i}"
    m = _q_model(nodes, new_inits, ["N", 64], ["N", 10], opset=13)
    net = onnx_import.import_model(m, "mlp", data["x_calib"])
    for a, b in zip(nets["mlp"].mvm_layers, net.mvm_layers):
        np.testing.assert_array_equal(a.w_q, b.w_q)
        np.testing.assert_array_equal(a.bias, b.bias)


# ---- NeuroSim files -------------------------------------------------------------------------------------
def test_neurosim_files_run_in_cimsim(nets, data, tmp_path):
    if not (CIMSIM and os.path.exists(CIMSIM)):
        pytest.fail("QNN_CIMSIM must name build/bin/cimsim")
    d = tmp_path / "ns"
    emit.write_neurosim(nets["cnn"], str(d), nets["cnn"].quantize_input(data["x_test"][:2]))
    assert (d / "NetWork.csv").read_text() == "8,8,1,3,3,8,1,1\n4,4,8,3,3,16,1,1\n1,1,64,1,1,10,0,1\n"
    args = [CIMSIM, "network", str(d / "NetWork.csv")]
    for li in (1, 2, 3):
        args += [str(d / f"weight{li}.csv"), str(d / f"input{li}.csv")]
    out = tmp_path / "out"
    out.mkdir()
    r = subprocess.run(args + ["--outputs-dir", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for li in (1, 2, 3):
        got = np.loadtxt(out / f"output{li}.csv", delimiter=",", ndmin=2)
        want = np.loadtxt(d / f"expected{li}.csv", delimiter=",", ndmin=2)
        assert got.shape == want.shape and got.shape[0] == (128, 32, 2)[li - 1]
        np.testing.assert_array_equal(got, want)


# ---- errors: one line naming the node, the operator and what is unsupported -----------------------------
def _float_conv_model(conv_attrs=None, extra=None, pool_attrs=None):
    rng = np.random.default_rng(0)
    inits = {"w": rng.standard_normal((4, 1, 3, 3)).astype(np.float32), "b": np.zeros(4, np.float32),
             "fw": rng.standard_normal((10, 16)).astype(np.float32), "fb": np.zeros(10, np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv1",
                              **(conv_attrs or {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]})),
             helper.make_node("Relu", ["c"], ["r"], name="relu1"),
             helper.make_node("MaxPool", ["r"], ["p"], name="pool1", **(pool_attrs or {"kernel_shape": [2, 2], "strides": [2, 2]})),
             helper.make_node("Flatten", ["p"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)]
    if extra:
        nodes, inits = extra(nodes, inits)
    return _q_model(nodes, inits, ["N", 1, 4, 4], ["N", 10], opset=13)


def _run_tool(model, tmp_path, *extra):
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    calib = tmp_path / "c.npz"
    np.savez(calib, x_calib=np.random.default_rng(0).random((8, 16), np.float32))
    r = subprocess.run([sys.executable, os.path.join(TOOL, "onnx_import.py"), str(path), "--name", "m",
                        "--calib", str(calib), "--header", str(tmp_path / "m.h"), *extra],
                       capture_output=True, text=True)
    return r


def test_a_good_model_passes_the_cli(tmp_path):
    r = _run_tool(_float_conv_model(), tmp_path)
    assert r.returncode == 0, r.stderr
    assert "static const qnn_model_t m_model" in (tmp_path / "m.h").read_text()


def _replace(op, name, **attrs):
    def f(nodes, inits):
        return [helper.make_node(op, n.input, n.output, name=n.name, **attrs) if n.name == name else n
                for n in nodes], inits
    return f


def _insert_after(name, node_fn):
    def f(nodes, inits):
        out = []
        for n in nodes:
            out.append(n)
            if n.name == name:
                new, rewired = node_fn(n.output[0])
                out.append(new)
                nxt = None
                for m in nodes[nodes.index(n) + 1:]:
                    if n.output[0] in m.input and nxt is None:
                        nxt = m
                        m.input[list(m.input).index(n.output[0])] = rewired
        return out, inits
    return f


def _residual(nodes, inits):
    nodes = list(nodes)
    i = [n.name for n in nodes].index("relu1")
    nodes.insert(i + 1, helper.make_node("Add", ["r", "c"], ["rr"], name="resid"))
    nodes[i + 2].input[0] = "rr"
    return nodes, inits


def _bad_reshape(nodes, inits):
    inits = dict(inits, shape=np.asarray([-1, 4, 4], np.int64))
    nodes = list(nodes)
    i = [n.name for n in nodes].index("flat")
    nodes[i] = helper.make_node("Reshape", ["p", "shape"], ["f"], name="reshape")
    return nodes, inits


def _branch(nodes, inits):
    nodes = list(nodes)
    nodes[-1].input[0] = "c"          # the Gemm reads the conv's output, skipping relu/pool/flatten
    return nodes, inits


def _softmax_inside(nodes, inits):
    nodes = list(nodes)
    i = [n.name for n in nodes].index("relu1")
    nodes[i] = helper.make_node("Softmax", ["c"], ["r"], name="soft", axis=1)
    return nodes, inits


ERRORS = [
    ("branch", lambda: _float_conv_model(extra=_branch),
     "node 'fc' (Gemm): input 'c' is not the previous node's output (only single-path graphs"),
    ("softmax_inside", lambda: _float_conv_model(extra=_softmax_inside),
     "node 'soft' (Softmax): Softmax only as the last node"),
    ("sigmoid", lambda: _float_conv_model(extra=_replace("Sigmoid", "relu1")), "node 'relu1' (Sigmoid): operator unsupported"),
    ("group", lambda: _float_conv_model({"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": 2}),
     "node 'conv1' (Conv): attribute group=2 unsupported (only 1)"),
    ("dilation", lambda: _float_conv_model({"kernel_shape": [3, 3], "pads": [2, 2, 2, 2], "dilations": [2, 2]}),
     "node 'conv1' (Conv): attribute dilations=[2, 2] unsupported (only 1)"),
    ("pads", lambda: _float_conv_model({"kernel_shape": [3, 3], "pads": [1, 0, 1, 0]}),
     "node 'conv1' (Conv): attribute pads=[1, 0, 1, 0] unsupported"),
    ("autopad", lambda: _float_conv_model({"kernel_shape": [3, 3], "auto_pad": "SAME_UPPER"}),
     "node 'conv1' (Conv): attribute auto_pad="),
    ("pool_pads", lambda: _float_conv_model(pool_attrs={"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
     "node 'pool1' (MaxPool): attribute pads=[1, 1, 1, 1] unsupported (only 0)"),
    ("pool_ceil", lambda: _float_conv_model(pool_attrs={"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
     "node 'pool1' (MaxPool): attribute ceil_mode=1 unsupported"),
    ("transA", lambda: _float_conv_model(extra=_replace("Gemm", "fc", transA=1, transB=1)),
     "node 'fc' (Gemm): attribute transA=1 unsupported (only 0)"),
    ("alpha", lambda: _float_conv_model(extra=_replace("Gemm", "fc", alpha=0.5, transB=1)),
     "node 'fc' (Gemm): attribute alpha=0.5 unsupported (only 1.0)"),
    ("residual", lambda: _float_conv_model(extra=_residual),
     "node 'resid' (Add): Add of two activations (a residual connection) unsupported"),
    ("reshape", lambda: _float_conv_model(extra=_bad_reshape),
     "node 'reshape' (Reshape): shape [-1, 4, 4] unsupported (only flattening to [N, -1])"),
    ("unknown_attr", lambda: _float_conv_model(extra=_replace("Relu", "relu1", foo=1)),
     "node 'relu1' (Relu): attribute 'foo' unsupported"),
]


@pytest.mark.parametrize("case,make,message", ERRORS, ids=[e[0] for e in ERRORS])
def test_unsupported_is_one_line(case, make, message, tmp_path):
    r = _run_tool(make(), tmp_path)
    assert r.returncode == 1, (case, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"onnx-import: {tmp_path / 'm.onnx'}: ")
    assert message in lines[0], lines[0]
    assert not (tmp_path / "m.h").exists()


def test_weight_zero_point_unsupported(tmp_path):
    w = np.ones((4, 1, 3, 3), np.int8)
    inits = {"s": np.float32(0.05), "z": np.int8(0), "ws": np.float32(0.01), "wz": np.int8(3), "w": w,
             "ys": np.float32(1.0), "yz": np.int8(0)}
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="q"),
             helper.make_node("QLinearConv", ["q", "s", "z", "w", "ws", "wz", "ys", "yz"], ["c"], name="qconv",
                              kernel_shape=[3, 3]),
             helper.make_node("DequantizeLinear", ["c", "ys", "yz"], ["y"], name="dq")]
    r = _run_tool(_q_model(nodes, inits, ["N", 1, 4, 4], ["N", 4, 2, 2]), tmp_path)
    assert r.returncode == 1 and "node 'qconv' (QLinearConv): weight zero point != 0 unsupported" in r.stderr


def test_float_model_needs_calibration(tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(_float_conv_model(), str(path))
    r = subprocess.run([sys.executable, os.path.join(TOOL, "onnx_import.py"), str(path), "--name", "m"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "needs calibration data (--calib)" in r.stderr


def test_not_a_model(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"\x00garbage")
    r = subprocess.run([sys.executable, os.path.join(TOOL, "onnx_import.py"), str(path), "--name", "m"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "cannot read the model" in r.stderr
