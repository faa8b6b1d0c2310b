# Sourced by scripts/airflow_venv.sh, scripts/resonate_venv.sh and scripts/install.sh: a venv built once per
# requirements file and interpreter, kept in the user's cache, and linked (side venvs) or copied (the project's
# own .venv, see copied_venv) into the checkout.
#
# Why the cache: Airflow's venv takes ~100 s and ~650 MB to install, and every fresh checkout (each CI run,
# each git worktree) paid that again inside its first `make test`. The venv's content is a function of the
# requirements file and the interpreter only, so it is keyed by both and shared by every checkout; the
# checkout's `.venv-x` is a symlink to it. A venv cannot be moved once made, so it is built in place, under a
# lock (xdist workers and checkouts side by side may ask at once), and counts as made only once its stamp is
# written. The two most recently used of each kind are kept.

# venv_key REQS PY: what the venv's content depends on.
venv_key() {
  { cat "$1"; "$2" -c 'import sys; print(sys.version, sys.executable)'; } | sha256sum | cut -c1-16
}

# ensure_venv DIR REQS PY [OURS]: DIR is a venv of PY with REQS installed (built, or installed into again when
# either changed). Only a venv of the cache (OURS=ours) is removed before it is built again: a path the user
# named (AIRFLOW_VENV, RESONATE_VENV) may hold more than we put there.
ensure_venv() {
  local dir=$1 reqs=$2 py=$3 ours=${4:-} key
  key="$(venv_key "$reqs" "$py")"
  mkdir -p "$(dirname "$dir")"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$dir.lock"
    flock 9
  fi
  if [[ -x "$dir/bin/python" && -f "$dir/.installed" && "$(cat "$dir/.installed")" == "$key" ]]; then
    touch "$dir/.installed"  # last used: what pruning keeps
    return 0
  fi
  rm -f "$dir/.installed"
  [[ "$ours" != ours ]] || rm -rf "$dir"  # an unstamped venv of ours is a build that did not finish
  _build_venv "$dir" "$reqs" "$py"
  echo "$key" > "$dir/.installed"
}

# _build_venv DIR REQS PY: REQS (and the newest pip) installed into a venv of PY at DIR (made if missing).
#
# By uv when it can be had, else by pip. On a machine without the cache (a new user's, a CI runner's first run)
# pip took 106-109 s for the project's dependencies; uv 27.5 s, 54 s with the bytecode compiled as below
# (Airflow's 7.8 s), resolving the same versions (checked package by package for all three requirement lists,
# docs/performance.md "Session 22"). A failed uv install falls back to pip into the same venv, so a machine
# where uv cannot be fetched or cannot reach the index builds as before; STEPBRICKS_VENV_INSTALLER=pip skips uv.
_build_venv() {
  local dir=$1 reqs=$2 py=$3 uv
  [[ -x "$dir/bin/python" ]] || "$py" -m venv "$dir"
  echo "*" > "$dir/.gitignore"  # the venv ignores itself, as Python 3.13's venv does
  uv="$(_uv "$dir/bin/python")"
  if [[ -n "$uv" ]]; then
    if _uv_install "$uv" "$dir" "$reqs"; then
      return 0
    fi
    echo "uv could not install $reqs into $dir: installing with pip instead" >&2
  fi
  # pip warns about every package missing from the extra local indexes: keep only real errors.
  "$dir/bin/python" -m pip install --quiet --upgrade pip 2> >(grep -v "is ignored: it is neither a file nor" >&2)
  "$dir/bin/python" -m pip install --quiet -r "$reqs" 2> >(grep -v "is ignored: it is neither a file nor" >&2)
}

UV_VERSION=0.13.10  # the version measured; a pin, so every machine resolves with the same installer

# _uv PIP_PYTHON: the path of a uv binary (the one on PATH, else one fetched once into the user's cache with
# PIP_PYTHON's pip), or nothing when uv is turned off or cannot be fetched.
_uv() {
  local python=$1 tools final tmp
  [[ "${STEPBRICKS_VENV_INSTALLER:-uv}" == uv ]] || return 0
  if command -v uv >/dev/null 2>&1; then
    command -v uv
    return 0
  fi
  tools="${XDG_CACHE_HOME:-$HOME/.cache}/stepbricks/tools"
  final="$tools/uv-$UV_VERSION"
  if [[ ! -x "$final/bin/uv" ]]; then
    mkdir -p "$tools"
    tmp="$(mktemp -d "$tools/.uv-XXXXXX")"
    # uv is one static binary: a --target install of its wheel can be moved, unlike a venv. Two builds fetching
    # it at once (xdist workers making both side venvs) each make their own; the first to rename theirs wins.
    if "$python" -m pip install --quiet --target "$tmp" "uv==$UV_VERSION" >/dev/null 2>&1 && [[ -x "$tmp/bin/uv" ]]; then
      mv -T "$tmp" "$final" 2>/dev/null || true
    fi
    rm -rf "$tmp"
  fi
  [[ -x "$final/bin/uv" ]] && echo "$final/bin/uv"
  return 0
}

# _uv_install UV DIR REQS: REQS and the newest pip installed into the venv at DIR by uv, compiled to bytecode as
# pip does (a process run with PYTHONDONTWRITEBYTECODE set would otherwise compile every module it imports, each
# time). uv reads no pip configuration: an index pip was pointed at through PIP_INDEX_URL is passed on, unless
# uv has its own.
_uv_install() {
  local uv=$1 dir=$2 reqs=$3
  local -a index=()
  if [[ -z "${UV_INDEX_URL:-}" && -z "${UV_DEFAULT_INDEX:-}" && -n "${PIP_INDEX_URL:-}" ]]; then
    index=(--index-url "$PIP_INDEX_URL")
  fi
  "$uv" pip install --quiet --python "$dir/bin/python" "${index[@]}" --compile-bytecode --upgrade-package pip -r "$reqs" pip
}

# cached_venv LINK REQS PY: LINK points at a ready venv of PY with REQS installed, in the user's cache.
cached_venv() {
  local link=$1 reqs=$2 py=$3 kind cache dir
  kind="$(basename "$link")"
  kind="${kind#.}"
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/stepbricks/venvs"
  dir="$cache/$kind-$(venv_key "$reqs" "$py")"
  ensure_venv "$dir" "$reqs" "$py" ours
  _prune_venvs "$cache" "$kind" "$dir"
  if [[ "$(readlink "$link" 2>/dev/null)" != "$dir" ]]; then
    [[ -L "$link" || ! -e "$link" ]] || rm -rf "$link"  # a venv of the old layout, made in the checkout
    ln -sfn "$dir" "$link"
  fi
}

# _prune_venvs CACHE KIND KEEP: remove all but the two most recently used venvs of KIND (never KEEP).
_prune_venvs() {
  local cache=$1 kind=$2 keep=$3 stamp old
  # shellcheck disable=SC2012  # the names are ours: KIND-hex/.installed
  ls -1dt "$cache/$kind"-*/.installed 2>/dev/null | tail -n +3 | while read -r stamp; do
    old="$(dirname "$stamp")"
    [[ "$old" == "$keep" ]] || rm -rf "$old" "$old.lock"
  done
}

# copied_venv DEST REQS PY KIND: DEST becomes a venv of PY with REQS installed, a copy of the cache's venv of KIND.
#
# Why a copy and not a link: the project's own .venv also holds the checkout's editable install, which names
# the checkout's path, so each checkout needs its own venv; what is shared is the ~1.7 GB of dependencies that
# pip took ~75 s to install into every fresh checkout. The copy is of hard links (~0.4 s for ~50,000 files;
# a plain copy where the cache is on another file system). A venv names its own path in its scripts
# (shebangs, activate) and pyvenv.cfg: those are rewritten for DEST with `sed -i`, which writes a new file,
# so the cache's copy is untouched. pip and Python never write into an installed file in place (pip removes
# and recreates; Python writes .pyc files by renaming), so the links stay safe to share; a tool that did would
# change the cache's file too (rebuild the cache by deleting ~/.cache/stepbricks/venvs/main-*).
copied_venv() {
  local dest=$1 reqs=$2 py=$3 kind=$4 cache dir tmp file
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/stepbricks/venvs"
  dir="$cache/$kind-$(venv_key "$reqs" "$py")"
  # Holds the venv's lock until this shell exits (no rebuild mid-copy) and stamps it most recently used, so a
  # checkout pruning for another requirement list keeps it (the two most recent are kept).
  ensure_venv "$dir" "$reqs" "$py" ours
  _prune_venvs "$cache" "$kind" "$dir"
  dest="$(cd "$(dirname "$dest")" && pwd)/$(basename "$dest")"
  tmp="$dest.partial"
  rm -rf "$tmp"
  cp -al "$dir" "$tmp" 2>/dev/null || { rm -rf "$tmp" && cp -a "$dir" "$tmp"; }
  { grep -rlIF --exclude-dir=__pycache__ "$dir" "$tmp/bin" "$tmp/pyvenv.cfg" || true; } | while read -r file; do
    sed -i "s|${dir//./\\.}|$dest|g" "$file"
  done
  rm -f "$tmp/.installed"
  venv_key "$reqs" "$py" > "$tmp/.copied-from-cache"
  rm -rf "$dest"
  mv "$tmp" "$dest"
}
