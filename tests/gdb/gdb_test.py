#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later OR MIT
"""gdb-multiarch against a firmware on QEMU, through the gdbstub (tests/gdb/CMakeLists.txt).

Starts QEMU halted (-S) with its gdbstub on a free local TCP port and two dynperiph devices:
bench-regkinds.so (has DYNPERIPH_CAP_PEEK) at 0x40120000 and test-periph.so (no peek) at 0x40121000.
gdb, in batch mode: breaks at main, steps over a source line, prints a variable, breaks in
dp_gdb_probe, reads the peripheral registers twice with x/ (same values both times: no side effects;
the hooked register shows its stored value, the read-to-clear one keeps its value), single-steps an
instruction, fails to read the plugin without peek ("Cannot access memory"; last, since an error ends
gdb's batch script) and detaches, which lets QEMU run on. The firmware then reads the registers
itself and exits 0 only if the debugger's reads changed nothing; QEMU's exit status is that value. Prints both transcripts; exit status 0 = pass.
--device-extra ',isolate=on,...' runs the same with both plugins in child processes (peek/1 crosses).
"""
import argparse
import re
import socket
import subprocess
import sys
import tempfile

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def main():
    ap = argparse.ArgumentParser()
    for a in ("--qemu", "--gdb", "--elf", "--regkinds", "--no-peek"):
        ap.add_argument(a, required=True)
    ap.add_argument("--device-extra", default="",
                    help="appended to both -device options (e.g. ,isolate=on,isolate-host=PATH)")
    args = ap.parse_args()

    port = free_port()
    qemu = subprocess.Popen(
        [args.qemu, "-M", "mps2-an385", "-nographic", "-semihosting-config", "enable=on,target=native",
         "-kernel", args.elf, "-S", "-gdb", f"tcp:127.0.0.1:{port}",
         "-device", f"dynperiph,plugin={args.regkinds},addr=0x40120000,id=regkinds{args.device_extra}",
         "-device", f"dynperiph,plugin={args.no_peek},addr=0x40121000,id=nopeek{args.device_extra}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    script = f"""set pagination off
set confirm off
target remote 127.0.0.1:{port}
break main
break dp_gdb_probe
continue
next
print dp_gdb_counter
continue
print dp_gdb_counter
x/3wx 0x40120000
x/3wx 0x40120000
stepi
info registers pc
x/wx 0x40121000
"""
    with tempfile.NamedTemporaryFile("w", suffix=".gdb") as f:
        f.write(script)
        f.flush()
        try:
            gdb = subprocess.run([args.gdb, "-nx", "-batch", "-x", f.name, args.elf],
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=40)
            gdb_out = gdb.stdout + gdb.stderr
        except subprocess.TimeoutExpired as e:
            gdb_out = f"gdb timed out: {e}"
    try:
        qemu_out, _ = qemu.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        qemu.kill()
        qemu_out, _ = qemu.communicate()
    print("---- gdb ----\n" + gdb_out + "---- QEMU ----\n" + qemu_out)

    regs = r"0x40120000:\s+0x504c4149\s+0x00000000\s+0x52435243"
    want = [
        (r"Breakpoint 1, main \(\)", "breakpoint at main"),
        (r"\$1 = [0-9]+", "print after stepping"),
        (r"Breakpoint 2, (0x[0-9a-f]+ in )?dp_gdb_probe \(\)", "breakpoint in dp_gdb_probe"),
        (r"\$2 = 6", "dp_gdb_counter after the loop"),
        (regs + r"[\s\S]*" + regs, "x/3wx twice: stored values, no side effects"),
        (r"Cannot access memory at address 0x40121000", "plugin without peek: debugger read refused"),
        (r"pc\s+0x[0-9a-f]+", "stepi + info registers"),
    ]
    failed = [what for rx, what in want if not re.search(rx, gdb_out)]
    if qemu.returncode != 0:
        failed.append(f"QEMU exit status {qemu.returncode} (the firmware saw a side effect or failed)")
    if "PASS:" not in qemu_out:
        failed.append("firmware did not print PASS")
    for f in failed:
        print("gdb_test: FAILED:", f)
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
