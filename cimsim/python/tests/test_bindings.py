# cimsim bindings against the CLI (same keys, defaults, errors, outputs and reports) and numpy.
import json
import subprocess
import threading
import time

import numpy as np
import pytest

import cimsim

NOISY = {"cell": "rram", "bits_per_cell": 2, "adc_bits": 5, "program_sigma": 0.05, "read_noise_sigma": 0.02,
         "stuck_at_0_rate": 0.01, "seed": 7, "subarray_rows": 64, "subarray_cols": 64, "parallel_rows": 32}


def write_csv(path, a):
    np.savetxt(path, np.atleast_2d(a), delimiter=",", fmt="%d" if a.dtype.kind in "iu" else "%.9g")


def cli_json(cli, *args):
    r = subprocess.run([cli, *args, "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def cli_error(cli, *args):
    r = subprocess.run([cli, *args], capture_output=True, text=True)
    assert r.returncode == 1, r.stdout
    return r.stderr.strip()


def data(rows=40, cols=24, n=5, seed=3):
    g = np.random.default_rng(seed)
    return g.integers(-128, 128, (rows, cols)).astype(np.int8), g.integers(-128, 128, (n, rows)).astype(np.int8)


def test_keys_and_defaults_are_the_clis(cli, tmp_path):
    names = [k["name"] for k in cimsim.keys()]
    table = subprocess.run([cli, "keys"], capture_output=True, text=True, check=True).stdout
    for n in names:
        assert f"`{n}`" in table
    w, x = data()
    write_csv(tmp_path / "w.csv", w)
    write_csv(tmp_path / "x.csv", x)
    rep = cli_json(cli, "mvm", "--weights", str(tmp_path / "w.csv"), "--inputs", str(tmp_path / "x.csv"))
    assert cimsim.resolve({}) == rep["details"]["config"]
    assert cimsim.resolve(NOISY) == cimsim.mvm(w, x, NOISY)["config"]


@pytest.mark.parametrize("cfg", [{"adc_bitz": 4}, {"adc_bits": "x"}, {"adc_bits": -1}, {"cell": "dram"},
                                 {"parallel_rows": 0}])
def test_config_errors_are_the_clis_one_line_errors(cli, tmp_path, cfg):
    w, x = data()
    write_csv(tmp_path / "w.csv", w)
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    want = cli_error(cli, "mvm", "--weights", str(tmp_path / "w.csv"), "--config", str(tmp_path / "c.json"))
    with pytest.raises(cimsim.Error) as e:
        cimsim.mvm(w, x, cfg)
    got = str(e.value)
    assert "\n" not in got
    assert got == want.replace(str(tmp_path / "c.json"), "config")


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_ideal_mvm_is_the_exact_product(dtype):
    w, x = data(130, 70, 9)
    r = cimsim.mvm(w.astype(dtype), x.astype(dtype))
    assert r["outputs"].dtype == np.int64 and r["outputs"].shape == (9, 70)
    np.testing.assert_array_equal(r["outputs"], x.astype(np.int64) @ w.astype(np.int64))
    one = cimsim.mvm(w.astype(dtype), x[2].astype(dtype))
    np.testing.assert_array_equal(one["outputs"], r["outputs"][2])


@pytest.mark.parametrize("cfg", [{}, NOISY, {"adc_bits": 3, "parallel_rows": 16, "tech_node_nm": 7}])
@pytest.mark.parametrize("floats", [False, True])
def test_mvm_equals_cli_bit_for_bit(cli, tmp_path, cfg, floats):
    w, x = data()
    if floats:
        w, x = (w / 37.0).astype(np.float32), (x / 11.0).astype(np.float32)
    write_csv(tmp_path / "w.csv", w)
    write_csv(tmp_path / "x.csv", x)
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    rep = cli_json(cli, "mvm", "--weights", str(tmp_path / "w.csv"), "--inputs", str(tmp_path / "x.csv"),
                   "--config", str(tmp_path / "c.json"))
    r = cimsim.mvm(w, x, cfg)
    want = np.array(rep["outputs"]).reshape(x.shape[0], w.shape[1])
    if floats:
        assert r["outputs"].dtype == np.float32
        np.testing.assert_array_equal(r["outputs"], want.astype(np.float32))
    else:
        np.testing.assert_array_equal(r["outputs"], want)  # small values: no 32-bit wrap
    assert r["metrics"] == rep["metrics"]
    assert r["ppa"] == rep["details"]["ppa"] and r["engine"] == rep["details"]["engine"]


def test_noise_is_seeded_and_real():
    w, x = data(128, 32, 16)
    a, b = cimsim.mvm(w, x, NOISY)["outputs"], cimsim.mvm(w, x, NOISY)["outputs"]
    np.testing.assert_array_equal(a, b)
    c = cimsim.mvm(w, x, dict(NOISY, seed=8))["outputs"]
    exact = x.astype(np.int64) @ w.astype(np.int64)
    assert (a != c).any() and (a != exact).any()
    t1 = cimsim.mvm(w, x, dict(NOISY, threads=1))["outputs"]
    np.testing.assert_array_equal(a, t1)  # results never depend on the thread count
    x21 = x[:7].repeat(3, axis=0)  # 21 vectors: different chunkings for 1, 2 and 3 threads
    outs = [cimsim.mvm(w, x21, dict(NOISY, threads=t, parallel_rows=p))["outputs"] for p in (32, 30)
            for t in (1, 2, 3)]
    for o in outs[1:3]:
        np.testing.assert_array_equal(outs[0], o)
    for o in outs[4:]:
        np.testing.assert_array_equal(outs[3], o)


@pytest.mark.parametrize("w,x,msg", [
    (np.zeros((2, 2, 2), np.int8), None, "W must be a 2-D array, got 3 dimensions"),
    (np.array([["a"]]), None, "W must hold integers or floats"),
    (np.zeros((4, 3), np.int8), np.zeros((2, 5), np.int8), "X has 5 values per vector but W has 4 rows"),
    (np.zeros((4, 3), np.int8), np.zeros((2, 4), np.float32), "both be integer or both be float"),
    (np.full((2, 2), 300, np.int16), np.zeros((1, 2), np.int16), "weight [0][0] = 300 does not fit 8-bit"),
    (np.zeros((2, 2), np.int64) + 2**40, None, "W [0][0] = 1099511627776 does not fit int32"),
    (np.array([[np.nan, 1.0]]), np.ones((1, 1)), "is not finite"),
])
def test_bad_arrays_are_one_line_errors(w, x, msg):
    with pytest.raises(cimsim.Error) as e:
        cimsim.mvm(w, x)
    assert msg in str(e.value) and "\n" not in str(e.value)


def test_network_report_equals_cli(cli, tmp_path):
    net = tmp_path / "NetWork.csv"
    net.write_text("8,8,3,3,3,16,1,1\n4,4,16,3,3,32,0,1\n1,1,512,1,1,10,0,1\n")
    cfg = {"adc_bits": 4, "parallel_rows": 64, "cell": "rram"}
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    rep = cli_json(cli, "network", str(net), "--config", str(tmp_path / "c.json"))
    for layers in (str(net), [[8, 8, 3, 3, 3, 16, 1, 1], [4, 4, 16, 3, 3, 32, 0, 1], (1, 1, 512, 1, 1, 10, 0, 1)]):
        r = cimsim.network(layers, cfg)
        for k in rep:
            if k not in ("host_seconds", "seconds"):
                assert r[k] == rep[k], k
    with pytest.raises(cimsim.Error, match="layer 1: has 3 values, expected 8"):
        cimsim.network([[1, 2, 3]])
    with pytest.raises(cimsim.Error, match="layer 2: value 6 = 0 is outside"):
        cimsim.network([[1, 1, 4, 1, 1, 4, 0, 1], [1, 1, 4, 1, 1, 0, 0, 1]])


def test_network_functional_run_on_neurosim_files(cli, tmp_path):
    net = tmp_path / "NetWork.csv"
    net.write_text("4,4,2,3,3,8,0,1\n1,1,32,1,1,10,0,1\n")
    g = np.random.default_rng(5)
    files = []
    for i, (rows, cols, nv) in enumerate([(18, 8, 16), (32, 10, 1)], 1):
        wf, xf = tmp_path / f"weight{i}.csv", tmp_path / f"input{i}.csv"
        np.savetxt(wf, np.round(g.uniform(-1, 1, (rows, cols)) * 128) / 128, delimiter=",", fmt="%.7f")
        np.savetxt(xf, g.integers(0, 2, (rows, nv * 8)), delimiter=",", fmt="%d")
        files.append((str(wf), str(xf)))
    cfg = dict(NOISY, subarray_rows=16, subarray_cols=16, parallel_rows=8)
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    rep = cli_json(cli, "network", str(net), *[f for p in files for f in p], "--config", str(tmp_path / "c.json"))
    r = cimsim.network(str(net), cfg, files=files)
    assert r["layers"] == rep["layers"]
    assert [l["functional"]["vectors_run"] for l in r["layers"]] == [16, 1]
    assert r["layers"][0]["functional"]["rms_error"] > 0  # the noisy config is not the exact MVM


def test_gil_is_released_during_simulation():
    g = np.random.default_rng(1)
    w = g.integers(-128, 128, (1024, 256)).astype(np.int8)
    x = g.integers(-128, 128, (256, 1024)).astype(np.int8)
    cfg = dict(NOISY, subarray_rows=128, subarray_cols=128, parallel_rows=128, threads=1)
    t0 = time.perf_counter()
    cimsim.mvm(w, x, cfg)
    alone = time.perf_counter() - t0
    done = threading.Event()
    ticks = 0

    def run():
        cimsim.mvm(w, x, cfg)
        done.set()

    th = threading.Thread(target=run)
    th.start()
    time.sleep(0.01)
    while not done.is_set():
        ticks += 1
    th.join()
    # with the GIL held during the call this thread could not count at all while it runs
    assert alone > 0.05 and ticks > 10000, (alone, ticks)
