#!/usr/bin/python3
"""Fits the chip model's unit costs (src/chip_coeffs.inc) to the NeuroSim V1.4 reference runs that are
NOT held out (neurosim_split.py), and prints the fit's error on the tuned-on and the held-out points.

usage: fit_neurosim.py --cimsim PATH --rebuild "CMD" [--grid DIR] [--gen neurosim-gen.py] [--out src/chip_coeffs.inc]
                       [--passes 3] [--exclude-node NM]

The model is cimsim's: `cimsim neurosim ... --features` prints, for a design point, the structural counts
(features) of every target — clock period, area by component, dynamic energy per layer and component, the
leakage of a busy and of an idle tile. Each target is Σ c_k·f_k with non-negative unit costs c_k, one set
per cell type and node, fitted by non-negative least squares on the relative error. The targets are what
NeuroSim printed: its clock period, area breakdown, per-layer ADC / accumulation / buffer / interconnect /
other energies; wire lengths (interconnect area and energy) come from the model's own predicted block
areas, so the fit runs in passes: fit, write the coefficients, rebuild cimsim (--rebuild), fit again; busy-tile leakage from layers whose stage is the pipeline's slowest so far (they leak only
while busy), idle-tile leakage from the others by undoing NeuroSim's averaging with its own latencies.
"""
import argparse
import collections
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy.optimize import nnls

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from neurosim_split import is_heldout  # noqa: E402
import validate_neurosim as V  # noqa: E402

AREA_PARTS = ['area_array_um2', 'area_adc_um2', 'area_accum_um2', 'area_other_um2', 'area_ic_um2']


def f(x):
    return float(x)


def targets(run, lays, feats):
    """(target, layer) -> reference value for one run."""
    t = {('clock_ns', 0): f(run['clock_period_ns'])}
    for k in AREA_PARTS[1:]:
        t[(k, 0)] = f(run[k])
    t[('area_empty_um2', 0)] = f(run['area_um2']) - sum(f(run[k]) for k in AREA_PARTS)
    tiles = feats['tiles']
    running = 0.0
    for i, l in enumerate(lays, 1):
        t[('energy_adc_pj', i)] = f(l['adc_dyn_energy_pj'])
        t[('energy_accum_pj', i)] = f(l['accum_dyn_energy_pj'])
        t[('energy_buffer_pj', i)] = f(l['buffer_dyn_energy_pj'])
        t[('energy_ic_pj', i)] = f(l['ic_dyn_energy_pj'])
        t[('energy_other_pj', i)] = f(l['other_dyn_energy_pj']) - f(l['buffer_dyn_energy_pj']) - f(l['ic_dyn_energy_pj'])
        lat = f(l['latency_ns'])
        running = max(running, lat)
        p = f(l['leakage_power_uw']) / tiles[i - 1]
        if lat >= running * (1 - 1e-9):
            t[('leak_busy_uw', i)] = p
        else:
            t[('leak_idle_pending', i)] = (p, lat, running)
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--cimsim', required=True)
    ap.add_argument('--grid', default=os.path.join(HERE, 'neurosim-v1.4-grid'))
    ap.add_argument('--gen', default=os.path.join(HERE, 'neurosim-gen.py'))
    ap.add_argument('--out', default=os.path.join(HERE, '..', 'src', 'chip_coeffs.inc'))
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--rebuild', default='', help='shell command that rebuilds the cimsim binary after the coefficients change')
    ap.add_argument('--passes', type=int, default=3)
    ap.add_argument('--exclude-node', type=int, default=0,
                    help='fit without this node (to measure how the model carries over to a node it was not fitted at)')
    a = ap.parse_args()
    for p in range(a.passes if a.rebuild else 1):
        print('fit_neurosim: pass %d' % (p + 1))
        fit_once(a)
        if a.rebuild:
            r = subprocess.run(a.rebuild, shell=True, capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit('fit_neurosim: rebuild failed: %s' % (r.stdout + r.stderr)[-2000:])


def fit_once(a):
    runs, layers = V.load_grid(a.grid)
    runs = [r for r in runs if r['status'] == 'ok' and int(r['node_nm']) != a.exclude_node]
    with tempfile.TemporaryDirectory(prefix='cimsim-fit-') as tmp:
        dirs = {}
        for run in runs:
            k = V.gen_key(run)
            if k not in dirs:
                dirs[k] = V.regenerate(a.gen, a.grid, k, tmp)

        def feats(run):
            argv = V.cimsim_argv(a.cimsim, a.grid, run, dirs[V.gen_key(run)])
            argv[-1] = '--features'
            p = subprocess.run(argv, capture_output=True, text=True)
            if p.returncode != 0:
                raise SystemExit('fit_neurosim: %s: %s' % (run['id'], p.stderr.strip()))
            return json.loads(p.stdout)
        with concurrent.futures.ThreadPoolExecutor(max(1, a.jobs)) as ex:
            allf = list(ex.map(feats, runs))

    # rows[(target, cell, node)] = list of (features, y, heldout)
    rows = collections.defaultdict(list)
    pending = []
    for run, fj in zip(runs, allf):
        fmap = {(x['target'], x['layer']): x['f'] for x in fj['features']}
        tg = targets(run, layers[run['id']], fj)
        key = (run['cell'], int(run['node_nm']))
        for (name, layer), y in tg.items():
            if name == 'leak_idle_pending':
                pending.append((key, fmap[('leak_busy_uw', layer)], fmap[('leak_idle_uw', layer)], y, is_heldout(run['id'])))
                continue
            rows[(name,) + key].append((fmap[(name, layer)], y, is_heldout(run['id'])))

    coeffs = {}

    def fit(name, key, data):
        X = np.array([d[0] for d in data], float)
        y = np.array([d[1] for d in data], float)
        tr = np.array([not d[2] for d in data])
        ok = tr & (np.abs(y) > 1e-12)
        if not ok.any():
            return np.zeros(X.shape[1])
        scale = np.maximum(np.abs(X[ok]).max(axis=0), 1e-300)
        w = 1 / np.abs(y[ok])
        c, _ = nnls((X[ok] / scale) * w[:, None], y[ok] * w)
        return c / scale

    report = []
    for (name, cell, node), data in sorted(rows.items()):
        c = fit(name, (cell, node), data)
        coeffs[(name, cell, node)] = c
        report.append((name, cell, node, c, data))
    # idle leakage: P·SC/n = idle·(SC − lat) + busy·lat  →  idle = (P·SC/n − busy·lat)/(SC − lat)
    idle = collections.defaultdict(list)
    for key, fb, fi, (p, lat, sc), held in pending:
        busy = float(np.dot(coeffs.get(('leak_busy_uw',) + key, np.zeros(len(fb))), fb))
        idle[('leak_idle_uw',) + key].append((fi, (p * sc - busy * lat) / (sc - lat), held))
    for (name, cell, node), data in sorted(idle.items()):
        data = [d for d in data if d[1] > 0]
        c = fit(name, (cell, node), data)
        coeffs[(name, cell, node)] = c
        report.append((name, cell, node, c, data))

    print('%-18s %-5s %4s %14s %14s' % ('target', 'cell', 'node', 'tuned mean/max', 'held-out mean/max'))
    for name, cell, node, c, data in report:
        X = np.array([d[0] for d in data], float)
        y = np.array([d[1] for d in data], float)
        held = np.array([d[2] for d in data])
        nz = np.abs(y) > 1e-12
        e = np.abs(X @ c / np.where(nz, y, 1) - 1)
        def mm(sel):
            sel = sel & nz
            return '%5.1f%% /%6.1f%%' % (100 * e[sel].mean(), 100 * e[sel].max()) if sel.any() else '      -       '
        print('%-18s %-5s %4d %s %s' % (name, cell, node, mm(~held), mm(held)))

    with open(a.out, 'w') as out:
        out.write('// generated by cimsim/validation/fit_neurosim.py from %s (points not held out) — do not edit\n' % os.path.basename(os.path.normpath(a.grid)))
        for (name, cell, node), c in sorted(coeffs.items()):
            out.write('{"%s", "%s", %d, {%s}},\n' % (name, cell, node, ', '.join('%.9g' % v for v in c)))
    print('fit_neurosim: wrote %d coefficient rows to %s' % (len(coeffs), a.out))


if __name__ == '__main__':
    main()
