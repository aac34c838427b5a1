"""Models a sweep evaluates at every design point (`cimsim sweep --model SPEC`).

A model has `name`, `layers` (NeuroSim NetWork.csv rows: IFM_H,IFM_W,IFM_C,K_H,K_W,OFM_C,pool,stride, used for
the PPA), `defaults` (config keys the model needs, e.g. its precision; a swept key overrides them) and
`evaluate(config) -> dict` (functional results of that point, e.g. {"accuracy": 0.93}). SPEC is one of

  digits-template      the CIM demo firmware's classifier (firmware/cim/gen_digits.py): nearest class mean on
                       sklearn's handwritten digits as one 65x10 int16 MVM; accuracy on the 297 test images
                       (data set images 1500..1796; the class means come from images 0..1499)
  qnn:mlp, qnn:cnn      the main demo's int8 networks (tools/qnn: trained at build time, imported from ONNX and
                       quantized), every MVM through cimsim exactly as the firmware issues them to the CIM
                       peripheral (tiles of at most 128x128 weights, 50 images per layer pass, partial sums
                       added on the CPU); accuracy on the 450-image test split, plus the summed per-START energy
                       and latency the peripheral's metric registers would show. Needs the dynperiph build tree
                       (build/qnn, tools/qnn). `cimsim sweep --firmware` runs the real firmware on QEMU instead.
  vgg8                 NeuroSim's VGG-8 (NetWork_VGG8.csv shapes), PPA only
  neurosim:PATH        a NeuroSim-format network: PATH = NetWork.csv (or a directory holding it) with, if
                       present next to it, weight<L>.csv / input<L>.csv for every layer; the functional run
                       reports the mean RMS output error against the exact MVM (NeuroSim files carry no labels)
  python:FILE.py       your own model: FILE defines `load()` returning an object with the attributes above
                       (every Dask worker must be able to read FILE)

Models are loaded once per process (load_model caches them).
"""
import functools
import importlib.util
import os

import numpy as np

import cimsim


class DigitsTemplate:
    name = "digits-template"
    TRAIN = 1500
    layers = [[1, 1, 65, 1, 1, 10, 0, 1]]

    def __init__(self):
        from sklearn.datasets import load_digits

        d = load_digits()
        x, y = d.data.astype(np.int64), d.target.astype(np.int64)
        tr = slice(0, self.TRAIN)
        w = np.zeros((64, 10), np.int64)
        for c in range(10):
            w[:, c] = np.round(2 * x[tr][y[tr] == c].mean(axis=0))  # half to even, like gen_digits.py's round()
        bias = -((w ** 2).sum(axis=0) // 4)
        self.W = np.vstack([w, bias[None, :]]).astype(np.int32)              # 65 x 10
        self.X = np.hstack([x[self.TRAIN:], np.ones((len(x) - self.TRAIN, 1), np.int64)]).astype(np.int32)
        self.y = y[self.TRAIN:]
        # the narrowest two's-complement precision that holds the data: 13-bit weights (bias row), 6-bit inputs
        bits = lambda a: int(max(int(a.max()).bit_length(), int(-a.min() - 1).bit_length())) + 1
        self.defaults = {"weight_bits": bits(self.W), "input_bits": bits(self.X)}

    def evaluate(self, config):
        r = cimsim.mvm(self.W, self.X, config)
        pred = np.argmax(r["outputs"], axis=1)
        return {"accuracy": float(np.mean(pred == self.y))}


def fnv1a(values, h=0x811C9DC5):
    """FNV-1a over int32 values' little-endian bytes (firmware/qnn/qnn.c qnn_fnv1a)."""
    for b in np.ascontiguousarray(values, "<i4").tobytes():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def _build_paths():
    try:
        from . import _paths
    except ImportError:
        raise cimsim.Error("cimsim sweep: this cimsim package has no build tree (_paths.py): the qnn models and "
                           "--firmware need the dynperiph build") from None
    return _paths


class QnnNetwork:
    """One of tools/qnn's int8 networks, its MVMs on cimsim as firmware/qnn/qnn.c issues them to the peripheral."""
    TILE_ROWS = TILE_COLS = 128      # firmware/qnn/qnn_demo.c defaults (tile=128x128, batch=50)
    BATCH = 50
    MAX_ELEMENTS = 1 << 20           # weights, inputs and result words per START (peripherals/cim/REGISTERS.md)

    def __init__(self, which):
        import sys

        paths = _build_paths()
        qdir = os.path.join(paths.BUILD_DIR, "qnn")
        onnx_path, split = os.path.join(qdir, f"{which}.onnx"), os.path.join(qdir, "digits_split.npz")
        if not which.isidentifier() or not os.path.isfile(onnx_path) or not os.path.isfile(split):
            raise cimsim.Error(f"cimsim sweep: model 'qnn:{which}': no {onnx_path} and {split} (the networks are "
                               "mlp and cnn, made by the build target qnn-models)")
        tools = os.path.join(paths.SOURCE_DIR, "tools", "qnn")
        if tools not in sys.path:
            sys.path.insert(0, tools)
        import onnx_import

        with np.load(split) as d:
            x_calib, x_test, y_test = d["x_calib"], d["x_test"], d["y_test"]
        self.net = onnx_import.import_model(onnx_path, which, x_calib)
        self.which = which
        self.name = f"qnn:{which}"
        self.xq = self.net.quantize_input(x_test)
        self.y = np.asarray(y_test)
        net_csv = os.path.join(qdir, "neurosim", which, "NetWork.csv")  # the same build step writes it
        self.layers = [list(map(int, map(float, line.split(",")[:8]))) for line in open(net_csv) if line.strip()]
        self.defaults = {}

    def cim_mvm(self, config, totals):
        tr, tc = self.TILE_ROWS, self.TILE_COLS

        def mvm(x, w):
            v, r = x.shape
            c = w.shape[1]
            rt, ct = min(tr, r), min(tc, c)
            vt = min(v, self.MAX_ELEMENTS // rt, self.MAX_ELEMENTS // ct)
            acc = np.zeros((v, c), np.int64)
            for r0 in range(0, r, rt):
                for c0 in range(0, c, ct):
                    wt = np.ascontiguousarray(w[r0:r0 + rt, c0:c0 + ct])
                    for v0 in range(0, v, vt):
                        res = cimsim.mvm(wt, np.ascontiguousarray(x[v0:v0 + vt, r0:r0 + rt], np.int8), config)
                        acc[v0:v0 + vt, c0:c0 + ct] += res["outputs"]
                        m = res["metrics"]
                        totals["starts"] += 1
                        totals["energy_pj"] += m.get("energy_pj", 0.0)
                        totals["latency_ns"] += m.get("latency_ns", 0.0)
            return acc
        return mvm

    def logits(self, config, n=None):
        """int32 logits of the first n test images (all by default), and the per-START metric totals."""
        xq = self.xq[:n] if n else self.xq
        totals = {"starts": 0, "energy_pj": 0.0, "latency_ns": 0.0}
        mvm = self.cim_mvm(config, totals)
        out = [self.net.run_int(xq[i:i + self.BATCH], mvm=mvm) for i in range(0, len(xq), self.BATCH)]
        return np.concatenate(out), totals

    def evaluate(self, config, images=None):
        lg, t = self.logits(config, images)
        n = len(lg)
        return {"accuracy": float(np.mean(lg.argmax(1) == self.y[:n])), "cim.starts": t["starts"],
                "cim.energy_pj_per_image": t["energy_pj"] / n, "cim.latency_ns_per_image": t["latency_ns"] / n,
                "cim.logits_fnv": "0x%08x" % fnv1a(lg)}


class NeuroSimNetwork:
    def __init__(self, path):
        net = os.path.join(path, "NetWork.csv") if os.path.isdir(path) else path
        if not os.path.isfile(net):
            raise cimsim.Error(f"cimsim sweep: model '{path}': no NetWork.csv there")
        self.name = "neurosim:" + os.path.abspath(net)
        self.layers = [list(map(int, map(float, line.split(",")[:8])))
                       for line in open(net) if line.strip()]
        d = os.path.dirname(os.path.abspath(net))
        files = [(os.path.join(d, f"weight{i}.csv"), os.path.join(d, f"input{i}.csv"))
                 for i in range(1, len(self.layers) + 1)]
        self.files = files if all(os.path.isfile(w) and os.path.isfile(x) for w, x in files) else []
        self.defaults = {}

    def evaluate(self, config):
        if not self.files:
            return {}
        r = cimsim.network(self.layers, config, files=self.files)
        errs = [l["functional"]["rms_error"] for l in r["layers"] if "functional" in l]
        return {"rms_error": float(np.mean(errs)) if errs else float("nan")}


class Vgg8:
    name = "vgg8"
    layers = [[32, 32, 3, 3, 3, 128, 0, 1], [32, 32, 128, 3, 3, 128, 1, 1], [16, 16, 128, 3, 3, 256, 0, 1],
              [16, 16, 256, 3, 3, 256, 1, 1], [8, 8, 256, 3, 3, 512, 0, 1], [8, 8, 512, 3, 3, 512, 1, 1],
              [1, 1, 8192, 1, 1, 1024, 0, 1], [1, 1, 1024, 1, 1, 10, 0, 1]]   # = cimsim::vgg8_layers()
    defaults = {}

    def evaluate(self, config):
        return {}


def _python_model(path):
    if not os.path.isfile(path):
        raise cimsim.Error(f"cimsim sweep: model file '{path}' does not exist")
    spec = importlib.util.spec_from_file_location("cimsim_sweep_user_model", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not hasattr(mod, "load"):
        raise cimsim.Error(f"cimsim sweep: model file '{path}' defines no load()")
    m = mod.load()
    for attr in ("layers", "evaluate"):
        if not hasattr(m, attr):
            raise cimsim.Error(f"cimsim sweep: the model from '{path}' has no '{attr}'")
    if not hasattr(m, "defaults"):
        m.defaults = {}
    if not hasattr(m, "name"):
        m.name = "python:" + os.path.abspath(path)
    return m


@functools.lru_cache(maxsize=8)
def load_model(spec):
    if spec == "digits-template":
        return DigitsTemplate()
    if spec == "vgg8":
        return Vgg8()
    if spec.startswith("qnn:"):
        return QnnNetwork(spec[len("qnn:"):])
    if spec.startswith("neurosim:"):
        return NeuroSimNetwork(spec[len("neurosim:"):])
    if spec.startswith("python:"):
        return _python_model(spec[len("python:"):])
    raise cimsim.Error(f"cimsim sweep: unknown model '{spec}' (digits-template, qnn:mlp, qnn:cnn, vgg8, neurosim:PATH or python:FILE.py)")
