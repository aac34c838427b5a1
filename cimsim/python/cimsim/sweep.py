"""cimsim sweep: a design-space sweep of cimsim config keys over a model, on Dask.

  cimsim sweep --model digits-template --param cell=sram,rram --param adc_bits=3..8 \\
               --param parallel_rows=16,32,64,128 --param program_sigma=0:0.1 --lhs 1000 --seed 1 \\
               --out sweep.csv [--workers 2 | --scheduler tcp://HOST:8786 | --workers 0] [--plots PREFIX]
  cimsim sweep --model qnn:mlp --firmware --param adc_bits=3..6 --out fw.csv   (the firmware on QEMU per point)

Points: --grid (the cartesian product of every --param's values), --random N or --lhs N (seeded uniform /
Latin-hypercube sample). A --param is KEY=a,b,c (values), KEY=lo..hi (integers lo to hi), KEY=lo:hi (real
interval; in a grid lo:hi:n gives n evenly spaced values). --set KEY=VALUE fixes a key for every point.
Per point: the model's PPA through cimsim's network report (every scalar field, flattened to columns such as
metrics.energy_pj or total.tops_per_w) and the model's functional results (e.g. accuracy), one row per point
in --out (CSV), with `pareto` marking the points no other point beats on every objective (accuracy up;
energy, latency, area down). A point whose config is invalid gets its one-line error in `error`.

--firmware (models qnn:mlp and qnn:cnn): per point the real firmware (firmware/qnn) runs on QEMU with the CIM
plugin's one operation configured with the point's keys (cimsim/python/cimsim/firmware.py; one QEMU per task):
`accuracy` is the guest's, `cim.energy_pj_per_image` / `cim.latency_ns_per_image` are what it read from the
peripheral's metric registers, `cim.starts` its STARTs, `cim.logits_fnv` a hash of its logits. Without
--firmware the qnn models compute the same columns with cimsim in the sweep's process, issuing the same MVMs
(equal to the guest's bit for bit; a test checks it). --images N: only the first N test images.

Engine: Dask. Default a LocalCluster of --workers processes (1 thread each) on this machine; --scheduler
tcp://HOST:PORT uses an existing cluster (the model spec must be loadable on every worker); --workers 0 runs
serially in this process. Every point is a pure function of its config (seeded), so the results do not
depend on the engine, the worker count or the order; a task lost with a worker is recomputed.
Resumable: points already in --out (matched by point_id, a hash of the point's keys) are skipped; finished
points are journalled to --out.partial while running and merged into --out at the end or on Ctrl-C.
"""
import argparse
import hashlib
import itertools
import json
import math
import os
import sys
import time

import numpy as np

import cimsim
from cimsim.models import load_model

OBJECTIVES = [  # (column candidates, first present wins; +1 = maximize, -1 = minimize)
    (["accuracy"], +1),
    (["rms_error"], -1),
    (["cim.energy_pj_per_image", "dyn_energy_pj_per_image", "energy_pj_per_image", "metrics.energy_pj"], -1),
    (["cim.latency_ns_per_image", "latency_ns_per_image", "metrics.latency_ns"], -1),
    (["area_um2", "metrics.area_um2"], -1),
]
TOPS_W = ["tops_per_w", "total.tops_per_w"]
ENERGY = OBJECTIVES[2][0]
AREA = OBJECTIVES[4][0]


class SweepError(Exception):
    pass


# ---------------------------------------------------------------------------------------------- points
def _scalar(text):
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


class Param:
    def __init__(self, spec):
        if "=" not in spec:
            raise SweepError(f"cimsim sweep: --param '{spec}': expected KEY=VALUES")
        self.key, v = spec.split("=", 1)
        self.key = self.key.strip().replace("-", "_")
        self.values, self.lo, self.hi, self.steps = None, None, None, None
        try:
            if ".." in v and "," not in v:
                lo, hi = (int(t) for t in v.split(".."))
                if hi < lo:
                    raise ValueError
                self.values = list(range(lo, hi + 1))
            elif ":" in v and "," not in v:
                parts = v.split(":")
                self.lo, self.hi = float(parts[0]), float(parts[1])
                if len(parts) == 3:
                    self.steps = int(parts[2])
                    if self.steps < 1:
                        raise ValueError
                elif len(parts) != 2:
                    raise ValueError
                if not (math.isfinite(self.lo) and math.isfinite(self.hi)) or self.hi < self.lo:
                    raise ValueError
            else:
                self.values = [_scalar(t.strip()) for t in v.split(",") if t.strip()]
                if not self.values:
                    raise ValueError
        except ValueError:
            raise SweepError(f"cimsim sweep: --param '{spec}': expected KEY=a,b,c or KEY=lo..hi (integers) "
                             "or KEY=lo:hi[:n] (reals, lo <= hi)") from None

    def grid_values(self):
        if self.values is not None:
            return self.values
        if self.steps is None:
            raise SweepError(f"cimsim sweep: --param {self.key}={self.lo}:{self.hi} is an interval: "
                             "give lo:hi:n for a grid, or use --random/--lhs")
        if self.steps == 1:
            return [self.lo]
        return [float(x) for x in np.linspace(self.lo, self.hi, self.steps)]

    def at(self, u):
        """The value at quantile u in [0, 1) (values: equal-probability bins)."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        return float(self.lo + u * (self.hi - self.lo))


def make_points(params, mode, n, seed):
    if mode == "grid":
        return [dict(zip([p.key for p in params], combo))
                for combo in itertools.product(*[p.grid_values() for p in params])]
    rng = np.random.default_rng(seed)
    if mode == "random":
        u = rng.random((n, len(params)))
    else:  # Latin hypercube: every parameter's n strata used once, strata permuted independently
        u = np.empty((n, len(params)))
        for j in range(len(params)):
            u[:, j] = (rng.permutation(n) + rng.random(n)) / n
    return [{p.key: p.at(u[i, j]) for j, p in enumerate(params)} for i in range(n)]


def point_id(point, mode=""):
    """A point's id in --out: a hash of its keys (and, for --firmware, of the mode: a resumed firmware sweep never
    takes a functional model's row for the guest's)."""
    key = json.dumps(point, sort_keys=True) + (f"|{mode}" if mode else "")
    return hashlib.sha1(key.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- one point
def _flatten(d, prefix, out):
    for k, v in d.items():
        if k in ("layers", "config", "host_seconds", "seconds"):
            continue
        name = prefix + k
        if isinstance(v, dict):
            _flatten(v, name + ".", out)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[name] = v


def evaluate_point(model_spec, fixed, point, opts=None):
    """One design point: a dict row (point keys, PPA columns, model results, error, eval_s). opts: "images" (the
    first N test images), "firmware" ({"qemu", "timeout_s"}: the real firmware on QEMU instead of the model)."""
    opts = opts or {}
    fw = opts.get("firmware")
    t0 = time.perf_counter()
    row = {"point_id": point_id(point, "firmware" if fw else ""), **point}
    try:
        model = load_model(model_spec)
        cfg = {**model.defaults, **fixed, **point, "threads": 1}
        cimsim.resolve(cfg)  # the one-line error of an invalid point, before any work
        report = cimsim.network(model.layers, cfg)
        ppa = {}
        _flatten(report, "", ppa)
        row.update(ppa)
        if fw:
            from cimsim.firmware import Firmware

            run_cfg = {k: v for k, v in cfg.items() if k != "threads"}
            row.update(Firmware(fw.get("qemu"), fw.get("timeout_s", 600.0)).run(model.which, run_cfg, opts.get("images")))
        elif opts.get("images"):
            row.update(model.evaluate(cfg, images=opts["images"]))
        else:
            row.update(model.evaluate(cfg))
        row["error"] = ""
    except cimsim.Error as e:
        row["error"] = str(e)
    row["eval_s"] = time.perf_counter() - t0
    return row


def evaluate_batch(model_spec, fixed, points, opts=None):
    return [evaluate_point(model_spec, fixed, p, opts) for p in points]


# ---------------------------------------------------------------------------------------------- results
def first_col(df, names):
    for n in names:
        if n in df.columns and df[n].notna().any():
            return n
    return None


def pareto_mask(df):
    """True for rows no other error-free row dominates on the objectives present."""
    cols = [(first_col(df, names), sign) for names, sign in OBJECTIVES]
    cols = [(c, s) for c, s in cols if c is not None]
    ok = (df["error"].fillna("") == "").to_numpy()
    mask = np.zeros(len(df), bool)
    if not cols or not ok.any():
        return mask
    v = np.column_stack([df[c].to_numpy(float) * -s for c, s in cols])  # all minimized
    v[~ok] = np.inf
    v = np.where(np.isnan(v), np.inf, v)
    idx = np.flatnonzero(ok)
    for i in idx:
        le = np.all(v[idx] <= v[i], axis=1)
        lt = np.any(v[idx] < v[i], axis=1)
        mask[i] = not np.any(le & lt)
    return mask


def read_existing(out):
    import pandas as pd

    rows = []
    if os.path.exists(out) and os.path.getsize(out) > 0:
        try:
            df = pd.read_csv(out, keep_default_na=False, na_values=[""], dtype={"point_id": str, "error": str})
        except Exception as e:  # pandas' parser errors have no common base
            raise SweepError(f"cimsim sweep: {out}: cannot be read as a sweep CSV ({str(e).splitlines()[0]})")
        if "point_id" not in df.columns:
            raise SweepError(f"cimsim sweep: {out}: has no point_id column (not a sweep result)")
        df = df.drop(columns=["pareto"], errors="ignore")
        rows = [{k: v for k, v in r.items() if not (isinstance(v, float) and math.isnan(v))}
                for r in df.to_dict("records")]
    part = out + ".partial"
    if os.path.exists(part):
        with open(part) as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # a line cut short by a hard kill: that point is simply run again
    for r in rows:
        r["point_id"] = str(r["point_id"])
        r["error"] = "" if r.get("error") in (None, "") or (isinstance(r.get("error"), float)) else r["error"]
    return {r["point_id"]: r for r in rows}


def write_results(out, rows, order):
    """rows: point_id -> row. Writes --out atomically (sorted by `order`, then the rest), pareto marked."""
    import pandas as pd

    part = out + ".partial"
    if not rows:  # nothing finished (e.g. the cluster was unreachable): no output file at all
        if os.path.exists(part):
            os.unlink(part)
        return pd.DataFrame({"error": [], "pareto": []})
    rank = {pid: i for i, pid in enumerate(order)}
    recs = sorted(rows.values(), key=lambda r: (rank.get(r["point_id"], len(rank)), r["point_id"]))
    df = pd.DataFrame.from_records(recs)
    if "error" not in df.columns:
        df["error"] = ""
    df["error"] = df["error"].fillna("")
    df["pareto"] = pareto_mask(df) if len(df) else []
    front = ["point_id"] + [c for c in df.columns if c not in ("point_id", "error", "eval_s", "pareto")]
    df = df[front + ["pareto", "error", "eval_s"]]
    tmp = out + ".tmp"
    try:
        df.to_csv(tmp, index=False)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    if os.path.exists(part):
        os.unlink(part)
    return df


def front_2d(x, y, x_sign, y_sign):
    """Mask of the points no other point beats on both x and y (sign +1 = larger is better)."""
    v = np.column_stack([np.asarray(x, float) * -x_sign, np.asarray(y, float) * -y_sign])
    v = np.where(np.isnan(v), np.inf, v)
    order = np.lexsort((v[:, 1], v[:, 0]))
    mask = np.zeros(len(v), bool)
    best = np.inf
    for i in order:  # ascending in x (then y): on the front iff strictly better in y than everything before
        if v[i, 1] < best:
            mask[i], best = True, v[i, 1]
    return mask


def plot(df, prefix, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = df[df["error"] == ""]
    written = []
    energy, area, topsw = first_col(ok, ENERGY), first_col(ok, AREA), first_col(ok, TOPS_W)
    quality = first_col(ok, ["accuracy"]) or first_col(ok, ["rms_error"])
    qsign = +1 if quality == "accuracy" else -1
    for name, xcol, ycol, xs, ys, xlog, ylog in (("accuracy-energy", energy, quality, -1, qsign, True, False),
                                                 ("area-topsw", topsw, area, +1, -1, True, True)):
        if not xcol or not ycol:
            continue
        fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
        m = front_2d(ok[xcol], ok[ycol], xs, ys)
        rest, front = ok[~m], ok[m].sort_values(xcol)
        ax.scatter(rest[xcol], rest[ycol], s=6, c="#9db4c8", label=f"design points ({len(ok)})")
        ax.plot(front[xcol], front[ycol], "-o", ms=4, lw=1, c="#c0392b", label=f"Pareto front of this pair ({len(front)})")
        if xlog:
            ax.set_xscale("log")
        if ylog:
            ax.set_yscale("log")
        ax.set_xlabel(xcol)
        ax.set_ylabel(ycol)
        ax.set_title(title, fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = f"{prefix}-{name}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written


# ---------------------------------------------------------------------------------------------- engine
def chunks(seq, n):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def run_serial(model_spec, fixed, todo, batch, sink, opts):
    for b in chunks(todo, batch):
        sink(evaluate_batch(model_spec, fixed, b, opts))


def run_dask(client, model_spec, fixed, todo, batch, sink, opts):
    from distributed import as_completed

    futures = [client.submit(evaluate_batch, model_spec, fixed, b, opts, pure=False, retries=3)
               for b in chunks(todo, batch)]
    try:
        for fut in as_completed(futures):
            sink(fut.result())
    finally:
        for f in futures:
            f.cancel()


def open_client(args):
    from distributed import Client, LocalCluster

    if args.scheduler:
        try:
            return Client(args.scheduler, timeout="20s"), None
        except Exception as e:  # OSError, TimeoutError, ValueError (bad address) ...
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise SweepError(f"cimsim sweep: cannot reach the Dask scheduler at {args.scheduler} ({msg})") from None
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    return Client(cluster), cluster


def main(argv=None):
    ap = argparse.ArgumentParser(prog="cimsim sweep", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="digits-template", help="digits-template | vgg8 | neurosim:PATH | python:FILE.py")
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUES", help="a swept config key")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a config key for every point")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--grid", action="store_true", help="every combination of the --param values (default)")
    g.add_argument("--random", type=int, metavar="N", help="N seeded uniform random points")
    g.add_argument("--lhs", type=int, metavar="N", help="N seeded Latin-hypercube points")
    ap.add_argument("--seed", type=int, default=1, help="seed of the random / LHS sample (default 1)")
    ap.add_argument("--out", required=True, help="results CSV (resumed if it exists)")
    ap.add_argument("--plots", metavar="PREFIX", help="write PREFIX-accuracy-energy.png and PREFIX-area-topsw.png")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes; 0 = serial (default 2)")
    ap.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this existing Dask cluster")
    ap.add_argument("--batch", type=int, default=0, help="points per Dask task (default: about 8 tasks per worker)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument("--firmware", action="store_true",
                    help="per point, the real firmware on QEMU with the CIM plugin configured for it (one QEMU per "
                         "point; models qnn:mlp and qnn:cnn): the guest's accuracy and metric-register energy")
    ap.add_argument("--images", type=int, metavar="N", help="qnn models: only the first N test images (default all 450)")
    ap.add_argument("--qemu", metavar="PATH", help="--firmware: qemu-system-arm (default $DYNPERIPH_TEST_QEMU, else "
                                                   "the one the build was configured with)")
    ap.add_argument("--fw-timeout", type=float, default=600.0, metavar="S", help="--firmware: seconds per QEMU run (default 600)")
    args = ap.parse_args(argv)
    try:
        return sweep(args)
    except (SweepError, cimsim.Error) as e:
        print(str(e), file=sys.stderr)
        return 1


def sweep(args):
    if args.workers < 0 or args.batch < 0:
        raise SweepError("cimsim sweep: --workers and --batch must be >= 0")
    if not args.param:
        raise SweepError("cimsim sweep: give at least one --param KEY=VALUES")
    for n in (args.random, args.lhs):
        if n is not None and not 1 <= n <= 10_000_000:
            raise SweepError("cimsim sweep: --random/--lhs N must be 1..10000000")
    params = [Param(s) for s in args.param]
    dup = {p.key for p in params if [q.key for q in params].count(p.key) > 1}
    if dup:
        raise SweepError(f"cimsim sweep: --param {sorted(dup)[0]} is given twice")
    known = {k["name"] for k in cimsim.keys()}
    fixed = {}
    for s in args.set:
        if "=" not in s:
            raise SweepError(f"cimsim sweep: --set '{s}': expected KEY=VALUE")
        k, v = s.split("=", 1)
        fixed[k.strip().replace("-", "_")] = _scalar(v.strip())
    for k in [p.key for p in params] + list(fixed):
        if k not in known:
            cimsim.resolve({k: 0})  # raises the key table's "unknown config key ... (did you mean ...)"
    model = load_model(args.model)  # a bad model spec fails here, once, not per point
    opts = {}
    if args.images is not None:
        if not hasattr(model, "xq"):
            raise SweepError(f"cimsim sweep: --images applies to the qnn models, not to {model.name}")
        if not 1 <= args.images <= len(model.xq):
            raise SweepError(f"cimsim sweep: --images {args.images}: the model has 1..{len(model.xq)} test images")
        opts["images"] = args.images
    if args.firmware:
        from cimsim.firmware import Firmware

        if getattr(model, "which", None) not in ("mlp", "cnn"):
            raise SweepError(f"cimsim sweep: --firmware runs the demo firmware's networks: --model qnn:mlp or qnn:cnn, "
                             f"not {model.name}")
        if not args.fw_timeout > 0:
            raise SweepError("cimsim sweep: --fw-timeout must be > 0 seconds")
        Firmware(args.qemu, args.fw_timeout)  # missing QEMU / plugin / firmware: one error here, not per point
        opts["firmware"] = {"qemu": args.qemu, "timeout_s": args.fw_timeout}
    mode, n = ("random", args.random) if args.random else ("lhs", args.lhs) if args.lhs else ("grid", 0)
    points = make_points(params, mode, n, args.seed)
    order = [point_id(p, "firmware" if args.firmware else "") for p in points]
    unique = dict(zip(order, points))
    done = read_existing(args.out)
    todo = [p for pid, p in unique.items() if pid not in done]
    sampled = "" if len(unique) == len(points) else f" ({len(points)} sampled, duplicates dropped)"
    print(f"cimsim sweep: {len(unique)} points ({mode}{sampled}) over {', '.join(p.key for p in params)} on {model.name}; "
          f"{len(unique) - len(todo)} already in {args.out}, {len(todo)} to run", file=sys.stderr)

    t0 = time.perf_counter()
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), unit="pt", file=sys.stderr, dynamic_ncols=True)
    journal = open(args.out + ".partial", "a") if todo else None

    def sink(rows):
        for r in rows:
            done[r["point_id"]] = r
            journal.write(json.dumps(r) + "\n")
        journal.flush()
        if bar:
            bar.update(len(rows))

    client = cluster = None
    t_start = 0.0
    interrupted = False
    try:
        if todo and args.workers == 0 and not args.scheduler:
            run_serial(args.model, fixed, todo, max(1, args.batch or (1 if args.firmware else 64)), sink, opts)
        elif todo:
            client, cluster = open_client(args)
            t_start = time.perf_counter() - t0
            nw = max(1, len(client.scheduler_info().get("workers", {})) or args.workers or 1)
            batch = args.batch or (1 if args.firmware else max(1, min(256, len(todo) // (8 * nw) or 1)))
            run_dask(client, args.model, fixed, todo, batch, sink, opts)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar:
            bar.close()
        if journal:
            journal.close()
        if client:
            client.close()
        if cluster:
            cluster.close()
        wall = time.perf_counter() - t0
        df = write_results(args.out, done, order)
    if interrupted:
        print(f"cimsim sweep: interrupted; {len(df)} points saved in {args.out} (re-run to resume)", file=sys.stderr)
        return 130
    errors = int((df["error"] != "").sum())
    started = f" (of which {t_start:.1f} s starting the cluster)" if cluster else ""
    print(f"cimsim sweep: {len(todo)} points run in {wall:.1f} s wall{started}; {len(df)} in {args.out}, "
          f"{int(df['pareto'].sum())} on the Pareto front, {errors} with an error", file=sys.stderr)
    if args.plots:
        for p in plot(df, args.plots, f"cimsim sweep, {model.name}, {len(df)} points"):
            print(f"cimsim sweep: wrote {p}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
