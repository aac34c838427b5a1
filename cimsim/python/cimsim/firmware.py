"""`cimsim sweep --firmware`: a design point measured by the real firmware on QEMU.

Per point, one QEMU (mps2-an385, icount: deterministic) runs the demo firmware (firmware/qnn/qnn_demo.c) on one
model, every MVM through the CIM peripheral plugin (build/plugins/cim.so) whose only operation is the in-process
cimsim backend (cim-cimsim.so) configured with the point's keys; the firmware's RESULT line gives the guest's
accuracy, the energy and latency it read from the peripheral's metric registers (summed over its STARTs) and
an FNV-1a hash of its logits. The operation config is a temporary TOML file, removed when QEMU has exited.
"""
import os
import re
import shutil
import subprocess
import tempfile

import cimsim
from cimsim.models import _build_paths

CIM_ADDR, CIM_IRQ = "0x40100000", 17        # where firmware/qnn expects the peripheral (as scripts/demo.sh)
RESULT = re.compile(r"^RESULT (.*)$", re.M)


def _toml_value(key, v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if v == v and abs(v) != float("inf") else None
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return None


def op_config(config):
    """The CIM peripheral's operation config (peripherals/cim/configs format) with one cimsim operation."""
    lines = ["# written by cimsim sweep --firmware: one design point", "[[op]]", "index = 0",
             'name = "sweep point"', 'backend = "cim-cimsim.so"', "[op.params]"]
    for k, v in sorted(config.items()):
        if k == "threads":
            continue  # the backend's own choice; results do not depend on it
        t = _toml_value(k, v)
        if t is None:
            raise cimsim.Error(f"cimsim sweep: config key '{k}' = {v!r} cannot be written to the plugin's TOML")
        lines.append(f"{k} = {t}")
    return "\n".join(lines) + "\n"


def parse_results(text, model):
    """The firmware's RESULT fields for `model`: {"cpu": {...}, "cim": {...}}; raises cimsim.Error."""
    got = {}
    for m in RESULT.finditer(text):
        fields = dict(f.split("=", 1) for f in m.group(1).split() if "=" in f)
        if fields.get("model") == model:
            got["cpu" if fields.get("op") == "cpu" else "cim"] = fields
    return got


class Firmware:
    def __init__(self, qemu=None, timeout_s=600.0):
        paths = _build_paths()
        b = paths.BUILD_DIR
        self.qemu = qemu or os.environ.get("DYNPERIPH_TEST_QEMU") or paths.QEMU
        self.plugin = os.path.join(b, "plugins", "cim.so")
        self.elf = os.path.join(b, "firmware", "qnn-demo.elf")
        self.timeout_s = timeout_s
        for what, path, target in (("QEMU", self.qemu, "qemu/build-qemu.sh"), ("the CIM plugin", self.plugin, "cim_plugin"),
                                   ("the backend", os.path.join(b, "plugins", "cim-cimsim.so"), "cim_backend_cimsim"),
                                   ("the firmware", self.elf, "firmware/qnn-demo.elf")):
            if not path or not os.path.exists(path):
                raise cimsim.Error(f"cimsim sweep --firmware: {what} is missing ({path or 'no path'}; build {target})")

    def command(self, config_path, model, images):
        args = f"models={model} ops=0 exact=" + (f" n={images}" if images else "")
        return [self.qemu, "-M", "mps2-an385", "-nographic", "-icount", "shift=0,align=off,sleep=off",
                "-semihosting-config", "enable=on,target=native", "-kernel", self.elf,
                "-device", f"dynperiph,plugin={self.plugin},addr={CIM_ADDR},irq={CIM_IRQ},id=cim,args=config={config_path}",
                "-append", args]

    def run(self, model, config, images=None):
        """One point: the guest's figures as sweep columns; raises cimsim.Error with a one-line reason."""
        tmp = tempfile.mkdtemp(prefix="cimsim-sweep-fw-")
        try:
            cfg = os.path.join(tmp, "op.toml")
            with open(cfg, "w") as f:
                f.write(op_config(config))
            try:
                p = subprocess.run(self.command(cfg, model, images), stdin=subprocess.DEVNULL, capture_output=True,
                                   text=True, errors="replace", timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                raise cimsim.Error(f"cimsim sweep --firmware: QEMU did not finish within {self.timeout_s:g} s") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        got = parse_results(p.stdout, model)
        if "cim" not in got:
            why = (p.stderr.strip().splitlines() or p.stdout.strip().splitlines() or ["no output"])[-1]
            raise cimsim.Error(f"cimsim sweep --firmware: no result from the firmware (QEMU exit {p.returncode}: {why})")
        r = got["cim"]
        if "error" in r:
            raise cimsim.Error(f"cimsim sweep --firmware: the CIM peripheral answered ERRCODE {r['error']}")
        n = int(r["n"])
        row = {"accuracy": int(r["correct"]) / n, "cim.starts": int(r["starts"]),
               "cim.energy_pj_per_image": float(r["energy_pj"]) / n,
               "cim.latency_ns_per_image": float(r["latency_ns"]) / n,
               "cim.energy_missing": int(r["energy_missing"]), "fw.images": n,
               "fw.guest_ns_per_image": float(r["virt_ns"]) / n, "cim.logits_fnv": "0x%08x" % int(r["fnv"], 16)}
        if "cpu" in got:
            row["fw.cpu_accuracy"] = int(got["cpu"]["correct"]) / int(got["cpu"]["n"])
        return row
