#!/usr/bin/env bash
# The Glue script's pure logic: unit tests and lint, with the machine's Python (pyspark is not needed).
# A missing python3 or pyflakes fails the run: `npm test` must not pass on checks that never ran.
set -euo pipefail
cd "$(dirname "$0")"
py=""
for candidate in /usr/bin/python3 python3; do
  if command -v "$candidate" >/dev/null 2>&1; then py=$candidate; break; fi
done
if [ -z "$py" ]; then
  echo "error: no python3 on this machine, so the Glue script's unit tests cannot run (Debian/Ubuntu: apt-get install python3)" >&2
  exit 1
fi
"$py" -m unittest discover -p 'test_*.py'
if ! "$py" -c 'import pyflakes' 2>/dev/null; then
  echo "error: pyflakes is not installed for $py, so the Glue script cannot be linted (Debian/Ubuntu: apt-get install python3-pyflakes)" >&2
  exit 1
fi
"$py" -m pyflakes .
echo "pyflakes: clean"
