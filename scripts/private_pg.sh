#!/usr/bin/env bash
# A private copy of Debian's PostgreSQL 15 for one work tree, so several trees can install and
# test the extension at once (the system installation holds one lead_scoring at a time).
# PostgreSQL finds its files relative to its binaries, so a copy under DIR/usr/... works as is.
#
#   eval "$(bash scripts/private_pg.sh /tmp/my-pg)"   # creates it once, prints the exports
#   bash scripts/test.sh                              # now installs and tests against the copy
#
# The exports: LEAD_SCORING_PG_CONFIG (read by scripts/cluster.sh, setup.sh, regress.sh and the
# tests' scripts) and PGRX_HOME (cargo pgrx's own configuration, pointing pg15 at the copy).
set -euo pipefail
dir=${1:?usage: private_pg.sh DIR}
pg_config=$dir/usr/lib/postgresql/15/bin/pg_config
if [ ! -x "$pg_config" ]; then
  mkdir -p "$dir/usr/lib/postgresql" "$dir/usr/share/postgresql" "$dir/usr/include/postgresql"
  cp -a /usr/lib/postgresql/15 "$dir/usr/lib/postgresql/"
  cp -a /usr/share/postgresql/15 "$dir/usr/share/postgresql/"
  cp -a /usr/include/postgresql/15 "$dir/usr/include/postgresql/"
  # pgxs and extension headers some builds include from the top include directory.
  for f in /usr/include/postgresql/*.h; do [ -e "$f" ] && cp -a "$f" "$dir/usr/include/postgresql/"; done
  chmod -R a+rX "$dir"
fi
mkdir -p "$dir/pgrx"
if ! grep -qs "pg15 *= *\"$pg_config\"" "$dir/pgrx/config.toml"; then
  PATH="$HOME/.cargo/bin:$PATH" PGRX_HOME="$dir/pgrx" cargo pgrx init --pg15 "$pg_config" >/dev/null
fi
echo "export LEAD_SCORING_PG_CONFIG=$pg_config PGRX_HOME=$dir/pgrx"
