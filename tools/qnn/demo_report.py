#!/usr/bin/env python3
"""The main demo's table and plot, from the firmware's RESULT lines (firmware/qnn/qnn_demo.c) and the
operation config (which names each design point's backend and parameters).

    demo_report.py QEMU_OUTPUT.log CONFIG.toml PLOT.png

Per model and path: accuracy on the test split, drop against the CPU reference (percentage points),
energy and latency per inference = the sums of the ENERGY and LAT registers over every START / images,
guest instructions per inference = virtual time / images (-icount shift=0: 1 instruction = 1 ns) minus, on
the CIM paths, the time BUSY was set (the CPU sleeps in WFI meanwhile), and where the outputs come from.
"""
import os
import sys
import tomllib


def design(op):
    """(non-idealities named from the params, where ODR comes from)."""
    p = op.get("params", {})
    backend = op.get("backend", "")
    if backend.startswith("cim-exec") and (p.get("format") == "neurosim" or p.get("functional") is True):
        if p.get("functional", True):
            return "PPA only (NeuroSim format)", "exec backend's exact MVM (simulator: PPA only)"
    if backend.startswith("cim-ref"):
        return "ideal", "cim-ref exact MVM"
    parts = []
    if p.get("adc_bits"):
        parts.append(f"{p['adc_bits']}-bit ADC over {p.get('parallel_rows', 128)} rows"
                     + (f", range {p['adc_range']}" if p.get("adc_range", 1) != 1 else ""))
    if p.get("program_sigma"):
        parts.append(f"programming sigma {p['program_sigma'] * 100:g} %")
    if p.get("read_noise_sigma"):
        parts.append(f"read noise {p['read_noise_sigma'] * 100:g} %")
    if p.get("stuck_at_0_rate") or p.get("stuck_at_1_rate"):
        parts.append(f"stuck-at-0 {p.get('stuck_at_0_rate', 0) * 100:g} % / -1 {p.get('stuck_at_1_rate', 0) * 100:g} %")
    cell = p.get("cell", "sram").upper()
    where = "cimsim (exec, CSV files)" if backend.startswith("cim-exec") else "cimsim (in-process)"
    return f"{cell}: " + ("; ".join(parts) if parts else "ideal"), where


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: demo_report.py QEMU_OUTPUT.log CONFIG.toml PLOT.png")
    log, cfg_path, png = sys.argv[1:]
    with open(cfg_path, "rb") as f:
        ops = {o["index"]: o for o in tomllib.load(f).get("op", [])}
    rows = []
    with open(log, errors="replace") as f:
        for line in f:
            if line.startswith("RESULT "):
                rows.append(dict(kv.split("=", 1) for kv in line.split()[1:]))
    if not rows:
        sys.exit(f"demo_report.py: {log}: no RESULT lines (did the firmware run?)")
    ref = {r["model"]: r for r in rows if r["op"] == "cpu"}
    table = []
    for r in rows:
        if "error" in r:
            table.append((r["model"], r["op"], ops.get(int(r["op"]), {}).get("name", "?"), "ERROR " + r["error"]))
            continue
        n = int(r["n"])
        acc = 100.0 * int(r["correct"]) / n
        drop = 100.0 * int(ref[r["model"]]["correct"]) / int(ref[r["model"]]["n"]) - acc
        virt, lat = int(r["virt_ns"]), int(r["latency_ns"])
        e = float(r["energy_pj"]) / n if r["op"] != "cpu" and int(r["energy_missing"]) == 0 else None
        if r["op"] == "cpu":
            name, what, where = "CPU reference", "int8 on the Cortex-M3", "CPU"
        else:
            op = ops.get(int(r["op"]), {})
            name = op.get("name", f"op {r['op']}")
            what, where = design(op)
        table.append(dict(model=r["model"], op=r["op"], name=name, what=what, where=where, acc=acc, drop=drop,
                          identical=r["identical"], energy=e, latency=lat / n if r["op"] != "cpu" else None,
                          insns=(virt - lat) / n, starts=int(r["starts"])))
    hdr = ["model", "op", "design point", "non-idealities", "accuracy", "drop", "== CPU", "energy/inf",
           "latency/inf", "guest insns/inf", "STARTs", "outputs from"]
    lines = []
    for t in table:
        if not isinstance(t, dict):
            lines.append(list(t) + [""] * (len(hdr) - len(t)))
            continue
        lines.append([t["model"], t["op"], t["name"], t["what"], f"{t['acc']:.2f} %", f"{t['drop']:+.2f}",
                      {"ref": "-", "yes": "bit for bit", "no": "no"}[t["identical"]],
                      f"{t['energy'] / 1000:.3f} nJ" if t["energy"] is not None else "-",
                      f"{t['latency'] / 1000:.3f} us" if t["latency"] is not None else "-",
                      f"{t['insns'] / 1000:.1f} k", str(t["starts"]), t["where"]])
    widths = [max(len(str(x[i])) for x in lines + [hdr]) for i in range(len(hdr))]
    fmt = lambda row: "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |"  # noqa: E731
    print(fmt(hdr))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in lines:
        print(fmt(row))
    print("drop: percentage points below the CPU reference; energy and latency per inference: the sums of the "
          "peripheral's ENERGY and LAT registers over every START / images; guest instructions: virtual time "
          "at 1 instruction/ns (-icount shift=0) minus the time the CIM was BUSY, / images.")
    ppa_only = [t for t in table if isinstance(t, dict) and t["what"].startswith("PPA only")]
    if ppa_only:
        print("PPA only: that operation's simulator (NeuroSim's command line) computes no outputs; ODR holds the exec "
              "backend's exact MVM, so its accuracy says nothing about the simulator, and its energy/latency are "
              "NeuroSim's per-image figures for the one-layer NetWork.csv the exec backend writes, times each "
              "START's vectors, at that op's own design point (not in the plot).")
    plot([t for t in table if isinstance(t, dict) and t["energy"] is not None and t not in ppa_only], png)
    print(f"plot: {png}")


def plot(points, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5.5))
    names = dict(sorted({int(p['op']): f"op {p['op']}: {p['what']}" for p in points}.items()))
    fig.text(0.62, 0.5, "\n".join(names.values()), fontsize=7.5, va="center", family="monospace", wrap=True)
    fig.subplots_adjust(right=0.60)
    for model, marker in (("mlp", "o"), ("cnn", "s")):
        pts = [p for p in points if p["model"] == model]
        if not pts:
            continue
        ax.scatter([p["energy"] / 1000 for p in pts], [p["acc"] for p in pts], marker=marker, s=50, label=model.upper())
        same = {}
        for p in pts:                       # one label per point (identical design points share it)
            same.setdefault((round(p["energy"], 3), round(p["acc"], 3)), []).append(p)
        for (e, acc), group in same.items():
            ax.annotate("op " + ",".join(p["op"] for p in group), (e / 1000, acc), fontsize=8, xytext=(5, 3),
                        textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("energy per inference (nJ, sum of the CIM ENERGY register over every START)")
    ax.set_ylabel("top-1 accuracy on the 450-image test split (%)")
    ax.set_title("int8 MLP / CNN on the CIM peripheral: accuracy vs energy per inference")
    ax.margins(x=0.15, y=0.08)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower left")
    tmp = png + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, png)


if __name__ == "__main__":
    main()
