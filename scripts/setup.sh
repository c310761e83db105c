#!/usr/bin/env bash
# Installs everything lead_scoring needs on a bare Debian 12 machine and prepares pgrx for
# Debian's PostgreSQL 15. Safe to run again: every step checks first.
set -euo pipefail

PGRX_VERSION=0.18.0
PG_CONFIG=${LEAD_SCORING_PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

need_pkgs=()
# postgresql-15-cron: pg_cron, for schedule_monitoring/schedule_retraining and their test;
# chromium: renders report() to PNG in tests/report/render_report.sh. ccache: LightGBM's C++ is
# compiled by every cargo unit of lightgbm3-sys (test, clippy, pgrx test and install each hash
# theirs apart); .cargo/config.toml makes cmake compile through ccache, so it is compiled once.
for p in postgresql-15 postgresql-server-dev-15 sudo libclang-dev clang pkg-config build-essential libssl-dev python3 \
         postgresql-15-cron chromium ccache; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
  echo "setup: installing cargo-pgrx $PGRX_VERSION (takes several minutes the first time)"
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked --quiet
fi

# psycopg (PyPI): the reliability tests (tests/reliability/*.py) hold several sessions at once.
if ! python3 -c 'import psycopg' 2>/dev/null; then
  echo "setup: installing psycopg from PyPI"
  python3 -m pip install --quiet 'psycopg[binary]==3.2.3'
fi

# LightGBM (the boosted trees engine, crate lightgbm3-sys) compiles its C++ source with cmake
# >= 3.28 and a C++ compiler (build-essential), generates its bindings with libclang, and links
# libgomp (gcc's OpenMP). Debian 12's cmake is 3.25: PyPI's cmake, linked where .cargo/config.toml
# tells the build to find it (CMAKE), so no PATH order matters.
cmake_new_enough() {
  "$1" --version 2>/dev/null | awk 'NR == 1 { split($3, v, "."); ok = v[1] > 3 || (v[1] == 3 && v[2] >= 28) } END { exit !ok }'
}
if ! cmake_new_enough /usr/local/bin/cmake; then
  echo "setup: installing cmake from PyPI for LightGBM's build"
  python3 -m pip install --quiet 'cmake>=3.28,<5'
  cmake_bin=$(python3 -c 'import cmake, os; print(os.path.join(cmake.CMAKE_BIN_DIR, "cmake"))')
  $SUDO ln -sf "$cmake_bin" /usr/local/bin/cmake
  cmake_new_enough /usr/local/bin/cmake || { echo "setup: /usr/local/bin/cmake is older than 3.28" >&2; exit 1; }
fi

# The test command checks formatting and lints: rustfmt and clippy come with the toolchain.
for tool in fmt clippy; do
  cargo "$tool" --version >/dev/null 2>&1 || { echo "setup: cargo $tool is missing; install it with: rustup component add ${tool/fmt/rustfmt}" >&2; exit 1; }
done

# pgrx keeps its own config in ~/.pgrx (or $PGRX_HOME); point it at Debian's server (no download).
if ! grep -qs "pg15 *= *\"$PG_CONFIG\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
  echo "setup: cargo pgrx init --pg15 $PG_CONFIG"
  cargo pgrx init --pg15 "$PG_CONFIG" >/dev/null
fi

# `cargo pgrx install` writes into Debian's extension directories; as a non-root user those
# must be writable, so the scripts run pgrx install through sudo when needed.
echo "setup: done"
