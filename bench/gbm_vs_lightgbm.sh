#!/usr/bin/env bash
# Boosted trees against LightGBM: train gbm in the database and LightGBM in Python on the same synthetic leads
# and split, in the same run; print both times, their ratio and both test ROC AUCs.
# Both: 300 trees, learning rate 0.05, 31 leaves, no early stopping, 2 threads; each timed inside its
# own session (psql's \timing of the call; Python after its imports).
# Usage: bash bench/gbm_vs_lightgbm.sh [LEADS]   (LEADS defaults to 100000; adds lightgbm from PyPI
# to bench/.venv if missing)
source "$(dirname "$0")/lib.sh"
bench_venv
"$BENCH_PY" -c "import lightgbm" 2>/dev/null || "$BENCH_ROOT/bench/.venv/bin/pip" install -q lightgbm >&2
bench_start
csv="$BENCH_DIR/leads.csv"
leads=${1:-100000}
"$BENCH_PY" "$BENCH_ROOT/bench/make_leads.py" "$leads" 7 > "$csv"
bench_psql -f "$BENCH_ROOT/bench/load_leads.sql" < "$csv" >/dev/null
opts='{"split": {"method": "column", "column": "part"}, "exclude": ["id"], "trees": 300, "learning_rate": 0.05, "max_leaves": 31, "max_depth": 64, "early_stopping_rounds": 0, "threads": 2}'
# Timed inside one session (psql's \timing of the train() call), as the Python side is timed
# inside its interpreter after its imports: neither side counts starting its client (psql's
# start and connection took about 45 ms here).
timed=$(bench_psql -tA <<SQL
\\timing on
SELECT round((metrics->'test'->>'roc_auc')::numeric, 4) FROM lead_scoring.train('g', 'bench_leads', 'converted', algorithm => 'gbm', options => '$opts');
SQL
)
auc=$(echo "$timed" | head -1)
ours=$(echo "$timed" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | awk '{ printf "%.2f", $1 / 1000 }')
# Where train()'s time went, phase by phase (the core's and the SQL layer's).
phases=$(bench_psql -tA -c "SELECT training->'seconds' FROM lead_scoring.models WHERE name = 'g' ORDER BY version DESC LIMIT 1")
read -r lgb_load lgb_fit lgb_auc < <("$BENCH_PY" - "$csv" <<'PY'
import sys, time
import lightgbm as lgb, pandas as pd
from sklearn.metrics import roc_auc_score
t0 = time.time()
df = pd.read_csv(sys.argv[1])
for c in [f"c{j}" for j in range(10)]:
    df[c] = df[c].astype("category")
t1 = time.time()
feats = [c for c in df.columns if c not in ("id", "part", "converted")]
tr, te = df[df.part == "train"], df[df.part == "test"]
m = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.05, num_leaves=31, n_jobs=2, verbose=-1)
m.fit(tr[feats], tr.converted)
t2 = time.time()
auc = roc_auc_score(te.converted, m.predict_proba(te[feats])[:, 1])
print(f"{t1 - t0:.2f} {t2 - t1:.2f} {auc:.4f}")
PY
)
lgb_total=$(awk -v a="$lgb_load" -v b="$lgb_fit" 'BEGIN { printf "%.2f", a + b }')
echo "$leads leads"
echo "| path | time (s) | test ROC AUC |"
echo "| --- | --- | --- |"
echo "| lead_scoring.train(algorithm => 'gbm'), reading the table included | $ours | $auc |"
echo "| LightGBM $("$BENCH_PY" -c 'import lightgbm; print(lightgbm.__version__)'): read CSV into pandas + fit | $lgb_total ($lgb_load + $lgb_fit) | $lgb_auc |"
echo "train() phases (s): $phases"
echo "ratio (lead_scoring / LightGBM incl. load): $(ratio "$ours" "$lgb_total")x; AUC difference: $(awk -v a="$auc" -v b="$lgb_auc" 'BEGIN { printf "%+.4f", a - b }')"
