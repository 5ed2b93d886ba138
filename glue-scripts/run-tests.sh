#!/usr/bin/env bash
# The Glue script's pure logic: unit tests and lint, with the machine's Python (pyspark is not needed).
set -euo pipefail
cd "$(dirname "$0")"
py=""
for candidate in /usr/bin/python3 python3; do
  if command -v "$candidate" >/dev/null 2>&1; then py=$candidate; break; fi
done
if [ -z "$py" ]; then
  echo "SKIPPED: no python3 on this machine, so the Glue script's unit tests did not run"
  exit 0
fi
"$py" -m unittest discover -p 'test_*.py'
if "$py" -c 'import pyflakes' 2>/dev/null; then
  "$py" -m pyflakes .
  echo "pyflakes: clean"
else
  echo "SKIPPED: pyflakes is not installed (apt-get install python3-pyflakes), so the Glue script was not linted"
fi
