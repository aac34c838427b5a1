# cimsim sweep: sampling, serial == 2-worker LocalCluster, a killed worker loses no point, resume, errors.
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from cimsim import sweep

NOISY_ARGS = ["--param", "cell=sram,rram", "--param", "adc_bits=3..7", "--param", "parallel_rows=16,32,64",
              "--param", "program_sigma=0:0.08", "--param", "read_noise_sigma=0:0.03", "--set", "seed=5"]

SLOW_MODEL = '''
import time
from cimsim.models import DigitsTemplate

class Slow(DigitsTemplate):
    name = "slow-digits"
    def evaluate(self, config):
        time.sleep(0.05)
        return super().evaluate(config)

def load():
    return Slow()
'''


def run(*argv):
    return sweep.main(["--no-progress", *argv])


def table(path):
    return pd.read_csv(path, dtype={"point_id": str}).drop(columns=["eval_s"]).sort_values("point_id") \
        .reset_index(drop=True)


def test_points_are_seeded_and_latin():
    ps = [sweep.Param("adc_bits=2..9"), sweep.Param("program_sigma=0:0.1"), sweep.Param("cell=sram,rram")]
    a = sweep.make_points(ps, "lhs", 40, 3)
    assert a == sweep.make_points(ps, "lhs", 40, 3) and a != sweep.make_points(ps, "lhs", 40, 4)
    strata = sorted(int(p["program_sigma"] / 0.1 * 40) for p in a)
    assert strata == list(range(40))  # every stratum of the interval exactly once
    assert sorted(p["adc_bits"] for p in a) == sorted([b for b in range(2, 10)] * 5)
    g = sweep.make_points([sweep.Param("adc_bits=3,4"), sweep.Param("adc_range=0.5:1:3")], "grid", 0, 0)
    assert g == [{"adc_bits": b, "adc_range": r} for b in (3, 4) for r in (0.5, 0.75, 1.0)]
    assert len({sweep.point_id(p) for p in a}) == 40


def test_localcluster_equals_serial(tmp_path):
    s, d = str(tmp_path / "serial.csv"), str(tmp_path / "dask.csv")
    assert run(*NOISY_ARGS, "--lhs", "60", "--out", s, "--workers", "0") == 0
    assert run(*NOISY_ARGS, "--lhs", "60", "--out", d, "--workers", "2", "--batch", "3") == 0
    a, b = table(s), table(d)
    assert len(a) == 60 and (a["error"].isna()).all()
    pd.testing.assert_frame_equal(a, b)
    assert a["accuracy"].nunique() > 5 and a["pareto"].any() and not a["pareto"].all()
    assert sorted(os.listdir(tmp_path)) == ["dask.csv", "serial.csv"]  # no journal or temp file left


def test_killed_worker_loses_no_point(tmp_path):
    from distributed import Client, LocalCluster

    model = tmp_path / "slow.py"
    model.write_text(SLOW_MODEL)
    ref, out = str(tmp_path / "ref.csv"), str(tmp_path / "out.csv")
    args = ["--model", f"python:{model}", "--param", "adc_bits=3..8", "--param", "parallel_rows=16,32,64,128",
            "--param", "cell=sram,rram"]  # 48 points, 50 ms each
    assert run(*args, "--out", ref, "--workers", "0") == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        env = dict(os.environ)
        p = subprocess.Popen([sys.executable, "-m", "cimsim.sweep", "--no-progress", *args, "--out", out,
                              "--scheduler", cluster.scheduler_address, "--batch", "1"], env=env,
                             stderr=subprocess.PIPE, text=True)
        journal = out + ".partial"
        deadline = time.time() + 60
        while time.time() < deadline and (not os.path.exists(journal) or
                                          sum(1 for _ in open(journal)) < 8):
            time.sleep(0.05)
        pids = client.run(os.getpid)
        victim = sorted(pids.values())[0]
        os.kill(victim, signal.SIGKILL)  # a worker dies mid-sweep (its nanny starts a new one)
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        assert victim not in client.run(os.getpid).values()
    a, b = table(ref), table(out)
    assert len(b) == 48
    pd.testing.assert_frame_equal(a, b)


def test_resume_after_a_hard_kill(tmp_path):
    model = tmp_path / "slow.py"
    model.write_text(SLOW_MODEL)
    out, ref = str(tmp_path / "out.csv"), str(tmp_path / "ref.csv")
    args = ["--model", f"python:{model}", *NOISY_ARGS, "--random", "40", "--seed", "9"]
    assert run(*args, "--out", ref, "--workers", "0") == 0
    p = subprocess.Popen([sys.executable, "-m", "cimsim.sweep", "--no-progress", *args, "--out", out,
                          "--workers", "0", "--batch", "1"], stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and (not os.path.exists(out + ".partial") or
                                      sum(1 for _ in open(out + ".partial")) < 10):
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL)
    p.wait()
    n_before = sum(1 for _ in open(out + ".partial"))
    assert 10 <= n_before < 40
    r = subprocess.run([sys.executable, "-m", "cimsim.sweep", "--no-progress", *args, "--out", out,
                        "--workers", "0"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert f"{n_before} already in" in r.stderr
    pd.testing.assert_frame_equal(table(ref), table(out))
    r = subprocess.run([sys.executable, "-m", "cimsim.sweep", "--no-progress", *args, "--out", out,
                        "--workers", "0"], capture_output=True, text=True)
    assert "40 already in" in r.stderr and "0 to run" in r.stderr
    assert sorted(os.listdir(tmp_path)) == ["out.csv", "ref.csv", "slow.py"]


def test_plots_and_neurosim_model(tmp_path):
    net = tmp_path / "NetWork.csv"
    net.write_text("8,8,3,3,3,16,1,1\n1,1,1024,1,1,10,0,1\n")
    out = str(tmp_path / "ns.csv")
    assert run("--model", f"neurosim:{tmp_path}", "--param", "tech_node_nm=7,22,45", "--param", "adc_bits=3..6",
               "--out", out, "--workers", "0", "--plots", str(tmp_path / "ns")) == 0
    df = pd.read_csv(out)
    assert len(df) == 12 and df["metrics.area_um2"].gt(0).all() and "accuracy" not in df
    assert os.path.getsize(tmp_path / "ns-area-topsw.png") > 1000
    out2 = str(tmp_path / "d.csv")
    assert run("--param", "adc_bits=3..6", "--out", out2, "--workers", "0", "--plots", str(tmp_path / "d")) == 0
    assert os.path.getsize(tmp_path / "d-accuracy-energy.png") > 1000


@pytest.mark.parametrize("argv,msg", [
    (["--param", "adc_bitz=3,4"], "unknown config key 'adc_bitz' (did you mean 'adc_bits'?)"),
    (["--param", "adc_bits"], "--param 'adc_bits': expected KEY=VALUES"),
    (["--param", "adc_bits=5..3"], "expected KEY=a,b,c or KEY=lo..hi"),
    (["--param", "program_sigma=0:0.1"], "is an interval: give lo:hi:n for a grid"),
    (["--param", "adc_bits=3", "--param", "adc_bits=4"], "--param adc_bits is given twice"),
    (["--model", "vgg", "--param", "adc_bits=4"], "unknown model 'vgg'"),
    (["--model", "neurosim:/nonexistent", "--param", "adc_bits=4"], "no NetWork.csv there"),
    ([], "give at least one --param"),
    (["--param", "adc_bits=4", "--scheduler", "nonsense://x"], "cannot reach the Dask scheduler at nonsense://x"),
])
def test_bad_arguments_are_one_line_errors(tmp_path, capsys, argv, msg):
    assert run(*argv, "--out", str(tmp_path / "x.csv"), "--workers", "0") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert msg in err[-1] and err[-1].startswith("cimsim")  # the error: the last line, one line
    assert all(line.startswith("cimsim") for line in err) and len(err) <= 2
    assert os.listdir(tmp_path) == []


def test_an_invalid_point_is_a_row_with_its_error(tmp_path):
    out = str(tmp_path / "e.csv")
    assert run("--param", "adc_bits=4,40", "--out", out, "--workers", "0") == 0
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df["adc_bits"]) == [4, 40]
    assert df["error"][0] == "" and "'adc_bits'" in df["error"][1] and not df["pareto"][1]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert run("--param", "adc_bits=4", "--out", str(bad), "--workers", "0") == 1


def test_cli_entry_point(cli, tmp_path):
    out = tmp_path / "c.csv"
    r = subprocess.run([cli, "sweep", "--no-progress", "--param", "adc_bits=4,5", "--out", str(out), "--workers", "0"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert len(pd.read_csv(out)) == 2
    r = subprocess.run([cli, "sweep", "--param", "adc_bitz=4", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.strip().endswith("(did you mean 'adc_bits'?)")
