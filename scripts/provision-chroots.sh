#!/usr/bin/env bash
# Provisions the Debian root filesystems that carry the CPython versions the host lacks, so live tests can run
# `chroot .cache/rootfs/NAME python3.X ...`. Tarballs are built once with mmdebstrap into a cache outside the
# work tree (${XDG_CACHE_HOME:-~/.cache}/hotpath/rootfs), so fresh clones on this machine only unpack them.
#   --only NAME   provision just that rootfs (bullseye, bookworm, trixie or sid)
# Idempotent. Prints one line per rootfs and writes .cache/rootfs/status.json; a failure of one never stops the
# others, and the tests that need a failed rootfs skip with the error recorded there.
set -uo pipefail
cd "$(dirname "$0")/.."

all_names=(bullseye bookworm trixie sid)
# Installed wherever the suite has them; absent ones are skipped, not fatal (bullseye has no FastAPI…).
optional_packages='python3-flask python3-gunicorn gunicorn python3-django python3-uvicorn python3-fastapi python3.15'
included_packages='python3,procps'
# Tarballs (expensive: minutes of mmdebstrap) live outside the clone; the unpacked trees (seconds) inside it.
store="${XDG_CACHE_HOME:-$HOME/.cache}/hotpath/rootfs"
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

mkdir -p "$cache" "$store"
# Two runs (two clones, or two test runs) may provision at once; the second waits, then finds everything cached.
exec 9>"$store/.lock"
flock 9

# Installs the optional packages the suite knows, from inside the new chroot (run by mmdebstrap as a hook).
# Names are checked exactly: apt reads an unknown name with a dot as a regex ("python3.15" would pull in
# postgresql-plpython3-15 on bookworm).
optional_script='for p in '"$optional_packages"'; do apt-cache pkgnames "$p" | grep -qx "$p" && set -- "$@" "$p"; done;'
optional_script+=' [ $# -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"'
optional_hook="chroot \"\$1\" sh -c $(printf %q "$optional_script") sh"

# The mmdebstrap options of one rootfs, one per line (sid's Release files are re-signed daily: a mirror snapshot
# of them is "expired" within a week).
recipe() {
  printf '%s\n' --variant=apt --include="$included_packages" --customize-hook="$optional_hook"
  [ "$1" = sid ] && printf '%s\n' --aptopt='Acquire::Check-Valid-Until "false"'
}

# The cached tarball of a rootfs, named after a hash of its recipe: changing the packages builds a new one.
tarball_of() {
  echo "$store/$1-$(recipe "$1" | sha256sum | cut -c1-12).tar.zst"
}

ensure_tools() {
  command -v zstd >/dev/null && command -v mmdebstrap >/dev/null && return 0
  [ "$(id -u)" -eq 0 ] || { echo "mmdebstrap and zstd are missing and installing them needs root"; return 1; }
  { apt-get install -y mmdebstrap zstd || { apt-get update && apt-get install -y mmdebstrap zstd; }; } \
    >"$store/apt-install.log" 2>&1 || { tail -n 1 "$store/apt-install.log"; return 1; }
}

# Prints nothing on success, the reason on failure.
build_tarball() {
  local name=$1 tarball=$2 log=$store/$1.log options=()
  # The partial name keeps the .tar.zst suffix: mmdebstrap picks the output format from it.
  local partial=${tarball%.tar.zst}.partial.tar.zst start=$SECONDS
  mapfile -t options < <(recipe "$name")
  # eatmydata skips dpkg's fsyncs, which are most of the time spent on a busy 2-core machine.
  if ! mmdebstrap "${options[@]}" --hook-dir=/usr/share/mmdebstrap/hooks/eatmydata "$name" "$partial" \
    >"$log" 2>&1; then
    rm -f "$partial"
    grep -E '^(E:|mmdebstrap: error)' "$log" | tail -n 1 || tail -n 1 "$log"
    return 1
  fi
  mv "$partial" "$tarball"
  echo "built $tarball in $((SECONDS - start)) s ($(du -h "$tarball" | cut -f1))" >&2
}

# Unpacks the tarball into the clone and records, in a stamp file, which tarball it came from and the full
# versions (3.14.0 …) of every python3.X inside, so later runs neither unpack nor start an interpreter.
unpack() {
  local name=$1 tarball=$2 dir=$cache/$1 bin versions=()
  rm -rf "$dir" "$dir.tmp" && mkdir -p "$dir.tmp"
  tar --zstd -xpf "$tarball" -C "$dir.tmp" 2>"$cache/$name.unpack.log" || {
    rm -rf "$dir.tmp"
    tail -n 1 "$cache/$name.unpack.log"
    return 1
  }
  for bin in "$dir.tmp"/usr/bin/python3.*; do
    [[ "$(basename "$bin")" =~ ^python3\.[0-9]+$ ]] || continue
    versions+=("$(chroot "$dir.tmp" "/usr/bin/$(basename "$bin")" -c 'import platform; print(platform.python_version())')")
  done
  [ ${#versions[@]} -gt 0 ] || { rm -rf "$dir.tmp"; echo "no python3.X found in $tarball"; return 1; }
  printf '%s\n%s\n' "$(basename "$tarball")" "${versions[*]}" >"$dir.tmp/.hotpath-rootfs"
  mv "$dir.tmp" "$dir"
}

# Whether the unpacked tree came from this tarball.
is_unpacked() {
  [ -f "$cache/$1/.hotpath-rootfs" ] && [ "$(head -n 1 "$cache/$1/.hotpath-rootfs")" = "$(basename "$2")" ]
}

# name<TAB>ok<TAB>pythons-or-error lines, turned into status.json at the end.
results=$(mktemp)
trap 'rm -f "$results"' EXIT

tools_error=$(ensure_tools) || tools_error=${tools_error:-cannot install mmdebstrap and zstd}
for name in "${names[@]}"; do
  tarball=$(tarball_of "$name")
  error=''
  if ! is_unpacked "$name" "$tarball"; then
    if [ ! -f "$tarball" ]; then
      if [ -n "$tools_error" ]; then
        error=$tools_error
      else
        error=$(build_tarball "$name" "$tarball") && error=''
      fi
    fi
    [ -z "$error" ] && { error=$(unpack "$name" "$tarball") && error=''; }
  fi
  if [ -n "$error" ]; then
    echo "$name: FAILED: $error"
    printf '%s\tfalse\t%s\n' "$name" "${error//$'\t'/ }" >>"$results"
  else
    pythons=$(sed -n 2p "$cache/$name/.hotpath-rootfs")
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
