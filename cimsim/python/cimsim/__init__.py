"""cimsim from Python: the compute-in-memory simulator's functional MVM and cost model.

    import numpy as np, cimsim
    r = cimsim.mvm(W, X, {"cell": "rram", "adc_bits": 5, "program_sigma": 0.02})
    r["outputs"]        # numpy: int64 (integer W, X) or float32 (float W, X), n_vectors x cols (cols for 1-D X)
    r["metrics"]        # {"latency_ns", "energy_pj", "area_um2", "leakage_uw"}, as `cimsim mvm --json`
    cimsim.network("NetWork.csv", {"adc_bits": 4})          # PPA report, as `cimsim network --json`
    cimsim.network(layers, cfg, files=[("w1.csv", "in1.csv")])  # + functional run of every layer

Configs are dicts of the CLI's config keys (`cimsim.keys()`), with its defaults and its one-line errors
(cimsim.Error, a ValueError). Reports are the CLI's JSON as dicts: whatever fields the report has.
The simulation runs with the GIL released, so Python threads can run points side by side.
"""
import json as _json
import numbers as _numbers

from . import _cimsim

Error = _cimsim.Error

__all__ = ["Error", "keys", "resolve", "mvm", "network"]


def _plain(key, v):
    if isinstance(v, bool) or v is None:
        return v  # rejected by the key table with its own message
    if isinstance(v, _numbers.Integral):
        return int(v)
    if isinstance(v, _numbers.Real):
        return float(v)
    if isinstance(v, str):
        return v
    raise Error(f"cimsim: config key '{key}': expected a number or a string, got {type(v).__name__}")


def _config_json(config):
    if config is None:
        return "{}"
    if not isinstance(config, dict):
        raise Error(f"cimsim: config must be a dict of config keys, got {type(config).__name__}")
    for k in config:
        if not isinstance(k, str):
            raise Error(f"cimsim: config keys are strings, got {k!r}")
    return _json.dumps({k: _plain(k, v) for k, v in config.items()}, allow_nan=True)


def keys():
    """The config key table: [{"name", "type", "default", "doc"}, ...] (the CLI's `cimsim keys`)."""
    return _cimsim.keys()


def resolve(config=None):
    """Every config key with defaults filled in (as the reports show it); raises cimsim.Error."""
    return _json.loads(_cimsim.resolve(_config_json(config)))


def mvm(W, X=None, config=None):
    """y = x^T W for every vector x (a row of X; a 1-D X is one vector) through the functional model.

    W: rows x cols, X: n_vectors x rows (or rows). Integer arrays are used as they are (they must fit the
    config's weight_bits / input_bits); float arrays are quantized with one symmetric scale per tensor
    (float32 semantics). Returns the `cimsim mvm --json` report as a dict with "outputs" as a numpy array
    (exact int64 results, or float32) and, at the top level, the details (engine, scales, ppa, config).
    """
    import numpy as np

    out, report = _cimsim.mvm(np.asarray(W), None if X is None else np.asarray(X), _config_json(config))
    r = _json.loads(report)
    d = dict(r.get("details", {}))
    d["metrics"] = r.get("metrics", {})
    d["outputs"] = out
    return d


def network(layers, config=None, files=None, outputs_dir=""):
    """PPA of a network (and, with files, a functional run of every layer) as `cimsim network --json`.

    layers: a NetWork.csv path or rows of 8 integers IFM_H,IFM_W,IFM_C,K_H,K_W,OFM_C,pool,stride.
    files: optional [(weight_csv, input_csv), ...] in NeuroSim's format, one pair per layer.
    Returns the report dict plus "seconds" (host time of the run).
    """
    pairs = [(str(w), str(x)) for w, x in (files or [])]
    if not isinstance(layers, str):
        layers = [list(row) for row in layers]
    report, seconds = _cimsim.network(layers, pairs, _config_json(config), str(outputs_dir or ""))
    r = _json.loads(report)
    r["seconds"] = seconds
    return r
