#!/usr/bin/env python3
"""Prints 'N passed, N failed' as its last line from one or more meson
testlog.json files (one JSON object per line), and before it 'N skipped'
when a test skipped. Exits 1 when any test failed."""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        # A build that failed before its tests left no log: that counts.
        print(f"test-summary: {path}: {e.strerror}; counted as a failure", file=sys.stderr)
        failed += 1
        continue
    with f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            result = json.loads(line).get("result", "")
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
if skipped:
    print(f"{skipped} skipped")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
