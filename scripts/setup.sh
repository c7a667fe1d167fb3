#!/usr/bin/env bash
# Installs everything hotpath's build, tests and demo need, idempotently: expensive downloads are cached under
# ${XDG_CACHE_HOME:-~/.cache}/hotpath (shared by every clone on the machine), the rest under the clone's .cache/.
#   (none)    everything the tests need, including the Debian root filesystems of scripts/provision-chroots.sh
#   --quick   only what the demo needs (npm packages, one venv)
#   --bench   also the reference profilers for `npm run bench`
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-full}"

# >>> C compiler: for the native memory reader (src/proc/native/vm-read.c), which npm ci and the build compile ----
if ! command -v cc >/dev/null 2>&1; then
  (apt-get update && apt-get install -y gcc) ||
    echo "setup: could not install a C compiler; hotpath will read /proc/PID/mem (slower), its test will fail" >&2
fi
# <<< C compiler -------------------------------------------------------------------------------------------------

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# >>> python venvs: one per CPython for the live tests and the demo, plus the reference profilers ------------
# Venvs are content-addressed: <label>-<hash of requirements file and base interpreter> in a store outside the
# work tree, shared by every clone on this machine (CI's fresh clone too), built once under a lock and never
# changed afterwards, so a rebuild never pulls a venv from under a running test or a concurrent setup. Each
# clone's .cache/venvs/<label> is a link to the venv matching its own requirements; that is where tests look.
# Wheels go to a wheelhouse beside the store, so rebuilds install offline; pip's HTTP cache is not relied on.
store="${XDG_CACHE_HOME:-$HOME/.cache}/hotpath"
venv_store="$store/venvs"
wheelhouse="$store/wheels"
venv_links=.cache/venvs
pyenv_versions="${PYENV_ROOT:-/root/.pyenv}/versions"
setup_jobs="${HOTPATH_SETUP_JOBS:-2}"
# The pyenv CPython whose venv also gets a uWSGI built against it (test/requirements-uwsgi.txt).
uwsgi_minor=3.12
# Venvs kept per label in the store (the newest used ones), for other clones still on older requirements.
venvs_kept_per_label=3

# Prints "label kind base-python" for every interpreter the tests cover, oldest first.
list_base_pythons() {
  local minor base
  for minor in 9 10 11 12 13; do
    base=$(ls -d "$pyenv_versions"/3."$minor".*/bin/python3 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$base" ] && echo "3.$minor pyenv $base"
  done
  if [ -x /usr/bin/python3 ]; then
    echo "system-$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])') debian /usr/bin/python3"
  fi
}

# The demo's interpreter: the newest pyenv CPython from 3.11 on.
pick_demo_label() {
  awk '$2 == "pyenv" { split($1, v, "."); if (v[2] >= 11) label = $1 } END { print label }'
}

# The pip that installs into every venv through `pip --python` (so venvs need no pip of their own): the newest
# pyenv one, since Debian's pip 23.0 cannot run under CPython 3.12+.
find_driver_pip() {
  local base
  for base in $(awk '$2 == "pyenv" { print $3 }' | tac); do
    if "$base" -c "import pip" 2>/dev/null; then echo "$base"; return; fi
  done
  echo "setup: no interpreter with pip found to install the venvs with" >&2
  return 1
}

# pip install into the venv from the wheelhouse, filling the wheelhouse first when a wheel is missing.
install_requirements() {
  local python=$1 requirements=$2 label=$3 staging
  if "$driver" -m pip --python "$python" install -q --no-index --find-links "$wheelhouse" -r "$requirements" \
    >/dev/null 2>&1; then
    return
  fi
  staging=$(mktemp -d "$wheelhouse/.staging-$label.XXXXXX")
  # `pip wheel`, not `pip download`: a package published only as source (uWSGI) is built into a wheel once.
  "$driver" -m pip --python "$python" wheel -q -w "$staging" -r "$requirements"
  mv -n "$staging"/*.whl "$wheelhouse"/ 2>/dev/null || true
  rm -rf "$staging"
  "$driver" -m pip --python "$python" install -q --no-index --find-links "$wheelhouse" -r "$requirements"
}

# The requirements file followed by the files it includes (-r), so a venv's hash changes with any of them.
requirements_text() {
  local requirements=$1 included
  cat "$requirements"
  for included in $(sed -n 's/^-r[[:space:]]*//p' "$requirements"); do
    cat "$(dirname "$requirements")/$included"
  done
}

# Builds the venv at $dir unless a complete one is there; call with its lock held. Only kinds pyenv and debian get
# a manifest ("tools" and "uwsgi" are not for every test to run). The .hotpath-complete marker, holding the Python
# version, is written last.
build_venv_dir() {
  local dir=$1 label=$2 kind=$3 base=$4 requirements=$5 version
  [ -f "$dir/.hotpath-complete" ] && [ -x "$(readlink -f "$dir/bin/python")" ] && return
  rm -rf "$dir"
  "$base" -m venv --without-pip "$dir"
  install_requirements "$dir/bin/python" "$requirements" "$label"
  version=$("$dir/bin/python" -c 'import platform; print(platform.python_version())')
  if [ "$kind" = pyenv ] || [ "$kind" = debian ]; then
    printf '{"label": "%s", "version": "%s", "fullVersion": "%s", "kind": "%s", "basePython": "%s"}\n' \
      "$label" "${version%.*}" "$version" "$kind" "$base" >"$dir/hotpath-venv.json"
  fi
  echo "$version" >"$dir/.hotpath-complete"
}

# Points this clone's $venv_links/<label> at a store venv, replacing the old link (or old-style folder) at once.
link_venv() {
  local label=$1 target=$2 link="$venv_links/$1"
  [ "$(readlink "$link" 2>/dev/null)" = "$target" ] && return
  [ -d "$link" ] && [ ! -L "$link" ] && rm -rf "$link"
  ln -sfn "$target" "$link.new.$$"
  mv -Tf "$link.new.$$" "$link"
}

# Removes the store's venvs of one label beyond the newest used ones, skipping any being built.
prune_venvs() {
  local label=$1 old
  for old in $(ls -dt "$venv_store/$label"-* 2>/dev/null | grep -v '\.lock$' | tail -n +$((venvs_kept_per_label + 1))); do
    flock -n "$old.lock" rm -rf "$old" "$old.lock" || true
  done
}

# Makes one venv available to this clone; prints its summary line. Runs in its own subshell (a job), so the
# lock's file descriptor is its own.
provide_venv() {
  local label=$1 kind=$2 base=$3 requirements=$4 started=$SECONDS hash name dir state lock
  hash=$({ requirements_text "$requirements"; readlink -f "$base"; } | sha256sum | cut -c1-12)
  name="$label-$hash"
  dir="$venv_store/$name"
  if [ -f "$dir/.hotpath-complete" ]; then
    state="up to date"
  else
    exec {lock}>"$dir.lock"
    flock "$lock"
    build_venv_dir "$dir" "$label" "$kind" "$base" "$requirements"
    exec {lock}>&-
    state="installed in $((SECONDS - started))s"
  fi
  touch "$dir"
  link_venv "$label" "$dir"
  prune_venvs "$label"
  printf '%-12s Python %-8s %-18s %s\n' "$label" "$(cat "$dir/.hotpath-complete")" "$state" "$dir"
}

# Runs provide_venv for each "label kind base requirements" line, $setup_jobs at a time; summaries in order.
provide_venvs() {
  local logs label kind base requirements pids=() labels=() failed=0 i
  logs=$(mktemp -d)
  while read -r label kind base requirements; do
    while [ "$(jobs -rp | wc -l)" -ge "$setup_jobs" ]; do wait -n || true; done
    provide_venv "$label" "$kind" "$base" "$requirements" >"$logs/$label" 2>&1 &
    pids+=("$!")
    labels+=("$label")
  done
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then
      cat "$logs/${labels[$i]}"
    else
      failed=1
      cat "$logs/${labels[$i]}" >&2
      echo "setup: venv ${labels[$i]} failed (output above)" >&2
    fi
  done
  rm -rf "$logs"
  return "$failed"
}

[ -L "$venv_links" ] && rm "$venv_links"
mkdir -p "$venv_store" "$wheelhouse" "$venv_links"
base_pythons=$(list_base_pythons)
demo_label=$(pick_demo_label <<<"$base_pythons")
driver=$(find_driver_pip <<<"$base_pythons")
if [ -z "$demo_label" ]; then
  echo "setup: no pyenv CPython >= 3.11 under $pyenv_versions for the demo" >&2
  exit 1
fi
echo "$demo_label" >"$venv_links/demo-label"
{
  if [ "$mode" = --quick ]; then
    grep "^$demo_label " <<<"$base_pythons"
  else
    echo "$base_pythons"
  fi | sed 's|$| test/requirements.txt|'
  if [ "$mode" = full ]; then
    grep "^$uwsgi_minor " <<<"$base_pythons" | awk '{ print "uwsgi-" $1, "uwsgi", $3, "test/requirements-uwsgi.txt" }'
  fi
  if [ "$mode" = --bench ]; then
    echo "tools tools $(grep "^$demo_label " <<<"$base_pythons" | cut -d' ' -f3) test/requirements-tools.txt"
  fi
} | provide_venvs
# <<< python venvs -------------------------------------------------------------------------------------------

# >>> Tachyon for the bench: CPython 3.15's own sampler only attaches to 3.15, which runs in the Debian sid chroot --
if [ "$mode" = --bench ]; then
  bash scripts/provision-chroots.sh --only sid ||
    echo "setup: could not provision the sid chroot; the bench will report Tachyon as not run" >&2
fi
# <<< Tachyon ------------------------------------------------------------------------------------------------

# >>> chromium: headless browser for test/live/flamegraph-browser.test.ts (skips without it) -------------------
if [ "$mode" != --quick ] && ! command -v chromium >/dev/null 2>&1; then
  (apt-get update && apt-get install -y chromium) ||
    echo "setup: could not install chromium; the flame graph browser test will be skipped" >&2
fi
# <<< chromium -------------------------------------------------------------------------------------------------

# >>> uWSGI from Debian: uwsgi-core and its python3 plugin (linked against Debian's libpython3.11) for
# test/live/uwsgi.test.ts, which runs it on the system venv's Flask and skips, saying why, without it ------------
if [ "$mode" = full ] && { [ ! -x /usr/bin/uwsgi-core ] || [ ! -e /usr/lib/uwsgi/plugins/python3_plugin.so ]; }; then
  (apt-get update && apt-get install -y --no-install-recommends uwsgi-core uwsgi-plugin-python3) ||
    echo "setup: could not install Debian's uWSGI; its uWSGI test will be skipped" >&2
fi
# <<< uWSGI from Debian ------------------------------------------------------------------------------------------

# >>> root filesystems: Debian CPythons the host lacks, for the chroot tests (which skip, saying why, without them) -
if [ "$mode" = full ]; then
  bash scripts/provision-chroots.sh ||
    echo "setup: provisioning the root filesystems failed; the tests that need them will be skipped" >&2
fi
# <<< root filesystems -------------------------------------------------------------------------------------------
