#!/usr/bin/python3
"""Runs cimsim's NeuroSim mode on every point of a NeuroSim V1.4 reference grid and reports, per metric,
the mean and max |relative error| against what the real NeuroSim printed there (chip level and per layer),
for all points, for the points the model was tuned on ("train") and for the held-out ones.

usage: validate_neurosim.py --cimsim PATH [--grid DIR] [--gen neurosim-gen.py] [--max-mean 0.15]
                            [--markdown] [--jobs N] [--only REGEX]

The grid folder holds runs.csv, layers.csv and NetWork_<net>.csv (the format of
cimsim/validation/neurosim-v1.4-grid: SETTINGS.md there says how it was made). For each distinct input set
(gen_cmd column) the inputs are regenerated with neurosim-gen.py into a private temporary folder (removed
afterwards); cimsim then runs with NeuroSim's own argv plus the build's knobs (cell, node, ADC levels,
novel mapping). A point where NeuroSim refused the floorplan must make cimsim refuse it too (exit 1, one
line). Exit status 1 when a metric's mean error over all points exceeds --max-mean (the CI guard), or on
any crash / wrong verdict.
"""
import argparse
import concurrent.futures
import csv
import json
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from neurosim_split import is_heldout  # noqa: E402

CHIP_METRICS = ['area_um2', 'latency_ns_per_image', 'dyn_energy_pj_per_image', 'leakage_uw', 'tops_per_w', 'tops']
LAYER_METRICS = [('latency_ns', 'latency_ns'), ('dyn_energy_pj', 'dyn_energy_pj')]


def rel_err(got, ref):
    if ref == 0:
        return 0.0 if abs(got) < 1e-9 else float('inf')
    return abs(got / ref - 1)


def load_grid(grid):
    with open(os.path.join(grid, 'runs.csv')) as f:
        runs = list(csv.DictReader(f))
    layers = {}
    with open(os.path.join(grid, 'layers.csv')) as f:
        for row in csv.DictReader(f):
            layers.setdefault(row['id'], []).append(row)
    for v in layers.values():
        v.sort(key=lambda r: int(r['layer']))
    return runs, layers


def gen_key(run):
    # gen_cmd: python3 neurosim-gen.py in/NetWork_X.csv in/<set> wb ab seed [...]
    a = shlex.split(run['gen_cmd'])
    return (os.path.basename(a[2]), os.path.basename(a[3])) + tuple(a[4:])


def regenerate(gen, grid, key, out_root):
    net, name = key[0], key[1]
    out = os.path.join(out_root, name)
    if not os.path.isdir(out):
        cmd = ['/usr/bin/python3', gen, os.path.join(grid, net), out] + list(key[2:])
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit('validate_neurosim: generator failed: %s: %s' % (' '.join(cmd), p.stderr.strip()))
    return out


def cimsim_argv(cimsim, grid, run, files_dir):
    a = shlex.split(run['neurosim_argv'])
    net = os.path.join(grid, os.path.basename(a[1]))
    files = [os.path.join(files_dir, os.path.basename(x)) for x in a[6:]]
    return [cimsim, 'neurosim', net] + a[2:6] + files + [
        '--cell', run['cell'], '--tech-node-nm', run['node_nm'], '--adc-bits', run['adc_bits'],
        '--novel-mapping', 'true' if run['novel_mapping'] == '1' else 'false', '--json']


def check_run(cimsim, grid, run, lays, files_dir):
    argv = cimsim_argv(cimsim, grid, run, files_dir)
    p = subprocess.run(argv, capture_output=True, text=True)
    res = {'id': run['id'], 'heldout': is_heldout(run['id']), 'problems': []}
    if run['status'] != 'ok':
        if p.returncode != 1 or 'SubArray Size is too large' not in p.stderr or len(p.stderr.strip().splitlines()) != 1:
            res['problems'].append('NeuroSim refused this floorplan; cimsim: exit %d, %r' % (p.returncode, p.stderr.strip()[:200]))
        res['refused'] = True
        return res
    if p.returncode != 0:
        res['problems'].append('exit %d: %s' % (p.returncode, p.stderr.strip()[:300]))
        return res
    j = json.loads(p.stdout)
    res['chip'] = {m: rel_err(float(j[m]), float(run[m])) for m in CHIP_METRICS}
    res['layers'] = {}
    for ours, theirs in LAYER_METRICS:
        res['layers'][ours] = [rel_err(float(l[ours]), float(ref[theirs])) for l, ref in zip(j['layers'], lays)]
    if len(j['layers']) != len(lays):
        res['problems'].append('%d layers, NeuroSim has %d' % (len(j['layers']), len(lays)))
    return res


def summarize(results, markdown):
    groups = [('all', lambda r: True), ('tuned on', lambda r: not r['heldout']), ('held out', lambda r: r['heldout'])]
    names = CHIP_METRICS + ['layer ' + m for m, _ in LAYER_METRICS]
    table = {}
    for gname, pred in groups:
        sel = [r for r in results if 'chip' in r and pred(r)]
        for m in names:
            if m.startswith('layer '):
                errs = [e for r in sel for e in r['layers'][m[6:]]]
            else:
                errs = [r['chip'][m] for r in sel]
            table[(gname, m)] = (sum(errs) / len(errs) if errs else float('nan'), max(errs) if errs else float('nan'), len(errs))
    n = {g: sum(1 for r in results if 'chip' in r and p(r)) for g, p in groups}
    if markdown:
        print('| metric | all points (n=%d): mean / max | tuned on (n=%d) | held out (n=%d) |' % (n['all'], n['tuned on'], n['held out']))
        print('|---|---|---|---|')
        for m in names:
            cells = ['%.1f %% / %.1f %%' % (100 * table[(g, m)][0], 100 * table[(g, m)][1]) for g, _ in groups]
            print('| %s | %s |' % (m, ' | '.join(cells)))
    else:
        print('%-26s %-22s %-22s %-22s' % ('metric (|rel. error|)', 'all n=%d mean/max' % n['all'],
                                           'tuned n=%d' % n['tuned on'], 'held out n=%d' % n['held out']))
        for m in names:
            print('%-26s %s' % (m, ' '.join('%8.2f%% / %7.2f%%   ' % (100 * table[(g, m)][0], 100 * table[(g, m)][1]) for g, _ in groups)))
    return table


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--cimsim', required=True)
    ap.add_argument('--grid', default=os.environ.get('NEUROSIM_GRID', os.path.join(HERE, 'neurosim-v1.4-grid')))
    ap.add_argument('--gen', default=os.path.join(HERE, 'neurosim-gen.py'))
    ap.add_argument('--max-mean', type=float, default=0.15)
    ap.add_argument('--markdown', action='store_true')
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--only', default='', help='regex on run ids')
    a = ap.parse_args()
    for p, what in ((a.cimsim, '--cimsim'), (a.gen, '--gen')):
        if not os.path.isfile(p):
            raise SystemExit('validate_neurosim: %s: no such file: %s' % (what, p))
    if not os.path.isfile(os.path.join(a.grid, 'runs.csv')):
        raise SystemExit('validate_neurosim: --grid: no runs.csv in %s' % a.grid)
    runs, layers = load_grid(a.grid)
    if a.only:
        runs = [r for r in runs if re.search(a.only, r['id'])]
    with tempfile.TemporaryDirectory(prefix='cimsim-validate-') as tmp:
        dirs = {}
        for run in runs:
            k = gen_key(run)
            if k not in dirs:
                dirs[k] = regenerate(a.gen, a.grid, k, tmp)
        with concurrent.futures.ThreadPoolExecutor(max(1, a.jobs)) as ex:
            results = list(ex.map(lambda run: check_run(a.cimsim, a.grid, run, layers.get(run['id'], []), dirs[gen_key(run)]), runs))
    problems = [(r['id'], p) for r in results for p in r['problems']]
    refused = sum(1 for r in results if r.get('refused'))
    print('validate_neurosim: %d points (%d refused by NeuroSim and by cimsim), grid %s' % (len(results), refused, a.grid))
    table = summarize(results, a.markdown)
    for rid, p in problems[:20]:
        print('PROBLEM %s: %s' % (rid, p))
    bad = [m for (g, m), (mean, mx, n) in table.items() if g == 'all' and n and not (mean <= a.max_mean)]
    if bad:
        print('validate_neurosim: mean error above %.0f %% for: %s' % (100 * a.max_mean, ', '.join(bad)))
    sys.exit(1 if bad or problems else 0)


if __name__ == '__main__':
    main()
