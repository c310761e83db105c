"""The three gradient boosting engines the gbm algorithm could use, fitted outside the database
on the same synthetic leads (bench/make_leads.py) and split, in one run: LightGBM (what
train(algorithm => 'gbm') links), forust (its engine before) and perpetual (pure Rust, no
learning rate or tree count: a `budget`). Same threads (2), fit time only (the CSV is read once,
before), test ROC AUC of each. Text columns: LightGBM and perpetual get pandas categoricals,
forust a one-hot encoding (it has no categorical splits; the extension fed it one-hot inputs).
Usage: python bench/gbm_engines.py leads.csv"""
import sys
import time

import lightgbm as lgb
import pandas as pd
from forust import GradientBooster
from perpetual import PerpetualBooster
from sklearn.metrics import roc_auc_score

df = pd.read_csv(sys.argv[1])
cats = [c for c in df.columns if c[0] == "c" and c[1:].isdigit()]
for c in cats:
    df[c] = df[c].astype("category")
feats = [c for c in df.columns if c not in ("id", "part", "converted")]
train, test = df[df.part == "train"], df[df.part == "test"]
onehot = pd.get_dummies(df[feats], columns=cats, dtype=float)
oh_train, oh_test = onehot[df.part == "train"], onehot[df.part == "test"]
y_train, y_test = train.converted.astype(int), test.converted.astype(int)


def timed(fit, predict):
    t0 = time.perf_counter()
    model = fit()
    seconds = time.perf_counter() - t0
    return seconds, roc_auc_score(y_test, predict(model))


rows = []
rows.append(("LightGBM " + lgb.__version__ + ": 300 trees, learning rate 0.05, 31 leaves", *timed(
    lambda: lgb.LGBMClassifier(n_estimators=300, learning_rate=0.05, num_leaves=31, n_jobs=2, verbose=-1).fit(train[feats], y_train),
    lambda m: m.predict_proba(test[feats])[:, 1])))
rows.append(("forust 0.8: 300 trees, learning rate 0.05, 31 leaves (one-hot text)", *timed(
    lambda: GradientBooster(iterations=300, learning_rate=0.05, max_leaves=31, max_depth=64, grow_policy="LossGuide",
                            num_threads=2).fit(oh_train, y_train),
    lambda m: m.predict(oh_test))))
for budget in (0.5, 1.0):
    rows.append((f"perpetual: budget {budget}", *timed(
        lambda: PerpetualBooster(objective="LogLoss", budget=budget, num_threads=2).fit(train[feats], y_train),
        lambda m: m.predict_proba(test[feats])[:, 1])))

base = rows[0][1]
print(f"{len(df)} leads ({len(train)} training)")
print("| engine | fit (s) | x LightGBM | test ROC AUC |")
print("| --- | --- | --- | --- |")
for name, seconds, auc in rows:
    print(f"| {name} | {seconds:.2f} | {seconds / base:.2f} | {auc:.4f} |")
