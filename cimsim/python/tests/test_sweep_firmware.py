# cimsim sweep --firmware: the real firmware on QEMU per point (ctest cimsim.sweep_firmware, label firmware: it
# runs on every supported QEMU through build/bin/dp-test-qemu). The guest's accuracy, STARTs, logits hash and
# metric-register energy must equal what the qnn model computes with cimsim in-process for the same point.
import glob
import os
import tempfile

import numpy as np
import pandas as pd
import pytest

from cimsim import sweep
from cimsim.models import load_model

IMAGES = "40"
POINTS = ["--param", "adc_bits=4,6,99", "--param", "cell=sram,rram", "--set", "parallel_rows=64",
          "--set", "program_sigma=0.05", "--set", "read_noise_sigma=0.02", "--set", "seed=7"]


def run(*argv):
    return sweep.main(["--no-progress", "--model", "qnn:mlp", "--images", IMAGES, *argv])


def table(path):
    return pd.read_csv(path, dtype={"point_id": str, "cim.logits_fnv": str}).set_index(["adc_bits", "cell"])


def leftovers():
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "cimsim-sweep-fw-*")))


def test_firmware_equals_in_process_model(tmp_path):
    before = leftovers()
    fw, py = str(tmp_path / "fw.csv"), str(tmp_path / "py.csv")
    assert run(*POINTS, "--firmware", "--out", fw, "--workers", "2") == 0
    assert run(*POINTS, "--out", py, "--workers", "0") == 0
    a, b = table(fw), table(py)
    assert len(a) == 6 and set(a.index) == set(b.index)
    bad = a[a["error"].fillna("") != ""]
    # adc_bits=99 is not a config (the one-line error comes from the key table, before any QEMU)
    assert sorted(bad.index) == [(99, "rram"), (99, "sram")]
    assert bad["error"].str.contains("adc_bits").all() and not bad["error"].str.contains("\n").any()
    ok = a[a["error"].fillna("") == ""]
    assert len(ok) == 4
    for idx, r in ok.iterrows():
        q = b.loc[idx]
        assert r["accuracy"] == q["accuracy"], idx
        assert r["cim.logits_fnv"] == q["cim.logits_fnv"], idx   # the guest's logits, bit for bit
        assert r["cim.starts"] == q["cim.starts"] > 0, idx
        assert r["cim.energy_missing"] == 0
        assert r["cim.energy_pj_per_image"] == pytest.approx(q["cim.energy_pj_per_image"], rel=1e-3), idx  # the metric registers round each START
        assert r["cim.latency_ns_per_image"] == pytest.approx(q["cim.latency_ns_per_image"], rel=1e-3), idx  # the metric registers round each START
        assert r["fw.images"] == int(IMAGES) and r["fw.guest_ns_per_image"] > 0
    # the design points differ where they should: a 4-bit ADC over 64 rows loses accuracy, RRAM noise changes logits
    assert ok.loc[(4, "sram"), "accuracy"] < ok.loc[(6, "sram"), "accuracy"]
    assert ok.loc[(6, "rram"), "cim.logits_fnv"] != ok.loc[(6, "sram"), "cim.logits_fnv"]
    assert ok["cim.energy_pj_per_image"].nunique() == 4
    # the guest's CPU reference is the host's integer pipeline on the same images
    m = load_model("qnn:mlp")
    n = int(IMAGES)
    ref = float(np.mean(m.net.run_int(m.xq[:n]).argmax(1) == m.y[:n]))
    assert (ok["fw.cpu_accuracy"] == ref).all()
    assert a["pareto"].any()
    assert leftovers() <= before  # every point's TOML is gone


def test_firmware_resume_and_plugin_error(tmp_path, capsys):
    out = str(tmp_path / "fw.csv")
    # weight_bits=4 is a valid config, but the firmware's int8 weights do not fit it: the peripheral refuses the
    # START (its ERRCODE), the row says so, the sweep goes on
    assert run("--param", "weight_bits=4,8", "--firmware", "--out", out, "--workers", "0") == 0
    t = pd.read_csv(out).set_index("weight_bits")
    assert "ERRCODE" in t.loc[4, "error"] and pd.isna(t.loc[8, "error"])
    capsys.readouterr()
    assert run("--param", "weight_bits=4,8", "--firmware", "--out", out, "--workers", "0") == 0
    assert "2 already in" in capsys.readouterr().err  # resumed: nothing re-run


def test_firmware_needs_a_firmware_model(tmp_path, capsys):
    assert sweep.main(["--no-progress", "--model", "vgg8", "--firmware", "--param", "adc_bits=4",
                       "--out", str(tmp_path / "x.csv")]) == 1
    assert "--firmware runs the demo firmware's networks" in capsys.readouterr().err
    assert sweep.main(["--no-progress", "--model", "qnn:mlp", "--firmware", "--qemu", str(tmp_path / "nope"),
                       "--param", "adc_bits=4", "--out", str(tmp_path / "x.csv")]) == 1
    assert "QEMU is missing" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "x.csv")
