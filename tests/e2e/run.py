"""Runs every tests/e2e/test_*.py function named test_* and ends with the
line `N passed, N failed`. Usage: run.py [substring-filter...]"""
import importlib.util
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    filters = sys.argv[1:]
    passed = failed = 0
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
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
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
