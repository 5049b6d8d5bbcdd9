"""Runs every tests/e2e/test_*.py function named test_* and ends with the
line `N passed, N failed`. Usage: run.py [-j N] [--group parallel|serial] [substring-filter...]

Most e2e time is spent waiting (a duration running out, a hook being
stopped after its grace period), not computing, so test files run in up to
N processes at once (-j, or E2E_JOBS; default 3). The files that measure
time or rates (SERIAL below) run afterwards, one at a time, alone, so the
others' load cannot skew them. Each file's output is printed whole when it
is done; a file's tests run in order, in one process. `--group` runs only
one of the two groups (tests/run.sh runs the normal and the sanitizer
build's parallel groups at the same time, then the serial ones alone)."""
import importlib.util
import os
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# accuracy and timing measurements: never next to other tests
SERIAL = {"test_analysis.py", "test_rate.py", "test_progress.py", "test_fleet.py", "test_tls.py", "test_reliability.py"}


def run_file(fname, filters):
    """Run one file's tests here; returns (passed, failed)."""
    passed = failed = 0
    spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(HERE, fname))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name in sorted(n for n in dir(mod) if n.startswith("test_")):
        fn = getattr(mod, name)
        if not callable(fn):
            continue
        full = f"{fname[5:-3]}/{name[5:]}"
        if filters and not any(f in full for f in filters):
            continue
        t0 = time.time()
        try:
            fn()
            passed += 1
            print(f"ok   e2e/{full} ({time.time() - t0:.1f}s)", flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure
            failed += 1
            print(f"FAIL e2e/{full} ({time.time() - t0:.1f}s): {e}", flush=True)
            traceback.print_exc(limit=3, file=sys.stdout)
    return passed, failed


def wanted(fname, filters):
    """Whether a filter can match a test of this file (cheap pre-check)."""
    stem = fname[5:-3] + "/"
    return not filters or any(f in stem or "/" not in f or f.startswith(stem) for f in filters)


def main():
    args = sys.argv[1:]
    jobs = int(os.environ.get("E2E_JOBS", "3"))
    if args[:1] == ["-j"] and len(args) > 1:
        jobs, args = int(args[1]), args[2:]
    group = None
    if args[:1] == ["--group"] and len(args) > 1 and args[1] in ("parallel", "serial"):
        group, args = args[1], args[2:]
    if args[:1] == ["--file"]:  # one file, in this process (used by the parallel runner)
        p, f = run_file(args[1], args[2:])
        print(f"{p} passed, {f} failed")
        return 1 if f else 0
    filters = args
    files = [f for f in sorted(os.listdir(HERE))
             if f.startswith("test_") and f.endswith(".py") and wanted(f, filters)]
    passed = failed = 0

    def count(out):
        nonlocal passed, failed
        last = [ln for ln in out.splitlines() if ln.endswith(" failed") and " passed, " in ln]
        if not last:
            failed += 1
            print("FAIL e2e: a test file printed no summary", flush=True)
            return
        p, f = last[-1].split(" passed, ")
        passed += int(p)
        failed += int(f.split()[0])

    parallel = [f for f in files if f not in SERIAL and group != "serial"]
    serial = [f for f in files if f in SERIAL and group != "parallel"]
    running = []
    while parallel or running:
        while parallel and len(running) < max(1, jobs):
            f = parallel.pop(0)
            proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--file", f] + filters,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            running.append((f, proc))
        f, proc = running.pop(0)
        out, _ = proc.communicate()
        lines = out.splitlines()
        if lines and lines[-1].endswith(" failed") and " passed, " in lines[-1]:
            print("\n".join(lines[:-1]), flush=True)  # the file's own total goes into ours
        else:
            print(out, flush=True)
        count(out)
    for f in serial:
        p, fl = run_file(f, filters)
        passed += p
        failed += fl
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
