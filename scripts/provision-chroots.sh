#!/usr/bin/env bash
# Builds (once, cached as .cache/rootfs/NAME.tar.zst) and unpacks Debian root filesystems that carry the
# CPython versions the host lacks, so live tests can run `chroot .cache/rootfs/NAME python3.X ...`.
#   --only NAME   provision just that rootfs (bullseye, bookworm, trixie or sid)
# Prints one line per rootfs and writes .cache/rootfs/status.json; a failure of one never stops the others.
set -uo pipefail
cd "$(dirname "$0")/.."

all_names=(bullseye bookworm trixie sid)
# Installed wherever the suite has them; absent ones are skipped, not fatal (bullseye has no FastAPI…).
optional_packages='python3-flask python3-gunicorn gunicorn python3-django python3-uvicorn python3-fastapi python3.15'
cache=.cache/rootfs

names=("${all_names[@]}")
while [ $# -gt 0 ]; do
  case "$1" in
    --only)
      [ -n "${2:-}" ] || { echo "usage: $0 [--only NAME]" >&2; exit 2; }
      [[ " ${all_names[*]} " == *" $2 "* ]] || { echo "unknown rootfs '$2' (known: ${all_names[*]})" >&2; exit 2; }
      names=("$2")
      shift 2
      ;;
    *) echo "usage: $0 [--only NAME]" >&2; exit 2 ;;
  esac
done

mkdir -p "$cache"
# Two test runs may provision at once; the second waits, then finds everything cached.
exec 9>"$cache/.lock"
flock 9

ensure_tools() {
  command -v zstd >/dev/null && command -v mmdebstrap >/dev/null && return 0
  [ "$(id -u)" -eq 0 ] || { echo "mmdebstrap and zstd are missing and installing them needs root"; return 1; }
  { apt-get install -y mmdebstrap zstd || { apt-get update && apt-get install -y mmdebstrap zstd; }; } \
    >"$cache/apt-install.log" 2>&1 || { tail -n 1 "$cache/apt-install.log"; return 1; }
}

# Installs the optional packages the suite knows, from inside the new chroot (run by mmdebstrap as a hook).
# Names are checked exactly: apt reads an unknown name with a dot as a regex ("python3.15" would pull in
# postgresql-plpython3-15 on bookworm).
optional_script='for p in '"$optional_packages"'; do apt-cache pkgnames "$p" | grep -qx "$p" && set -- "$@" "$p"; done;'
optional_script+=' [ $# -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"'
optional_hook="chroot \"\$1\" sh -c $(printf %q "$optional_script") sh"

build_tarball() {
  # The partial name keeps the .tar.zst suffix: mmdebstrap picks the output format from it.
  local name=$1 tarball=$cache/$1.tar.zst partial=$cache/$1.partial.tar.zst log=$cache/$1.log
  local extra=()
  # sid's Release files are re-signed daily; a mirror snapshot of them is "expired" within a week.
  [ "$name" = sid ] && extra+=(--aptopt='Acquire::Check-Valid-Until "false"')
  local start=$SECONDS
  # eatmydata skips dpkg's fsyncs, which are most of the time spent on a busy 2-core machine.
  if ! mmdebstrap --variant=apt --include=python3,procps "${extra[@]}" --hook-dir=/usr/share/mmdebstrap/hooks/eatmydata \
    --customize-hook="$optional_hook" "$name" "$partial" >"$log" 2>&1; then
    rm -f "$partial"
    grep -E '^(E:|mmdebstrap: error)' "$log" | tail -n 1 || tail -n 1 "$log"
    return 1
  fi
  mv "$partial" "$tarball"
  echo "built $tarball in $((SECONDS - start)) s ($(du -h "$tarball" | cut -f1))" >&2
}

unpack() {
  local name=$1 dir=$cache/$1
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  tar --zstd -xpf "$cache/$name.tar.zst" -C "$dir.tmp" 2>"$cache/$name.unpack.log" || {
    rm -rf "$dir.tmp"
    tail -n 1 "$cache/$name.unpack.log"
    return 1
  }
  mv "$dir.tmp" "$dir"
}

# Space-separated full versions (3.14.0 …) of every python3.X inside the rootfs.
find_pythons() {
  local dir=$1 bin versions=()
  for bin in "$dir"/usr/bin/python3.*; do
    [[ "$(basename "$bin")" =~ ^python3\.[0-9]+$ ]] || continue
    versions+=("$(chroot "$dir" "/usr/bin/$(basename "$bin")" -c 'import platform; print(platform.python_version())')")
  done
  echo "${versions[*]}"
}

# name<TAB>ok<TAB>pythons-or-error lines, turned into status.json at the end.
results=$(mktemp)
trap 'rm -f "$results"' EXIT

tools_error=$(ensure_tools) || tools_error=${tools_error:-cannot install mmdebstrap}
for name in "${names[@]}"; do
  dir=$cache/$name
  error=''
  if [ ! -d "$dir" ]; then
    if [ ! -f "$cache/$name.tar.zst" ]; then
      if [ -n "${tools_error:-}" ] && ! command -v mmdebstrap >/dev/null; then
        error=$tools_error
      else
        error=$(build_tarball "$name") && error=''
      fi
    fi
    [ -z "$error" ] && { error=$(unpack "$name") && error=''; }
  fi
  if [ -z "$error" ]; then
    pythons=$(find_pythons "$dir")
    [ -n "$pythons" ] || error="no python3.X found in $dir"
  fi
  if [ -n "$error" ]; then
    echo "$name: FAILED: $error"
    printf '%s\tfalse\t%s\n' "$name" "${error//$'\t'/ }" >>"$results"
  else
    echo "$name: $pythons"
    printf '%s\ttrue\t%s\n' "$name" "$pythons" >>"$results"
  fi
done

# Merge into the existing status so --only keeps the other entries.
node --input-type=module -e '
  import fs from "node:fs";
  const [statusPath, resultsPath, root] = process.argv.slice(1);
  let status = {};
  try { status = JSON.parse(fs.readFileSync(statusPath, "utf8")); } catch {}
  for (const line of fs.readFileSync(resultsPath, "utf8").split("\n").filter(Boolean)) {
    const [name, ok, rest] = line.split("\t");
    status[name] = ok === "true"
      ? { ok: true, root: `${root}/${name}`, pythons: rest.split(" ") }
      : { ok: false, pythons: [], error: rest };
  }
  fs.writeFileSync(statusPath, JSON.stringify(status, null, 2) + "\n");
' "$cache/status.json" "$results" "$PWD/$cache"
exit 0
