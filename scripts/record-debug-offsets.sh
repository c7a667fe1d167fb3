#!/usr/bin/env bash
# Records the first bytes of `_PyRuntime` (where 3.13+ keep `_Py_DebugOffsets`) of live CPython 3.13, 3.14 and
# 3.15 processes into test/fixtures/debug-offsets-3.X.bin, for test/unit/debug-offsets.test.ts.
# Each interpreter reads its own memory with ctypes. 3.14 and 3.15 come from the sid rootfs of
# scripts/provision-chroots.sh; a missing interpreter is reported and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

bytes=1024
sid=.cache/rootfs/sid
dump="import ctypes, sys
runtime = ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, '_PyRuntime'))
sys.stdout.buffer.write(ctypes.string_at(runtime, $bytes))"

record() {
  local version=$1
  shift
  if ! "$@" -c 'pass' 2>/dev/null; then
    echo "skipped $version: cannot run $*" >&2
    return
  fi
  "$@" -c "$dump" >"test/fixtures/debug-offsets-$version.bin"
  echo "recorded $version from $("$@" -c 'import platform; print(platform.python_version())') ($*)"
}

mkdir -p test/fixtures
record 3.13 /root/.pyenv/versions/3.13.0/bin/python3
record 3.14 chroot "$sid" python3.14
record 3.15 chroot "$sid" python3.15
