"""Synthetic lead table for benchmarks: 9 numeric and 10 categorical columns, a known logistic
ground truth with an interaction, 20% of rows in a 'test' part and 10% in 'validation'.
Deterministic: python3 bench/make_leads.py ROWS SEED > leads.csv"""
import sys

import numpy as np

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7
rng = np.random.default_rng(seed)
num = rng.normal(size=(rows, 9))
num[:, 0] = rng.poisson(3, rows)                       # visits
num[:, 1] = rng.exponential(300, rows)                 # seconds on site
num[rng.random(rows) < 0.05, 2] = np.nan               # some missing values
levels = [[f"c{j}_{k}" for k in range(3 + j)] for j in range(10)]
cat = np.stack([rng.integers(0, len(levels[j]), rows) for j in range(10)], axis=1)
z = (-2.0 + 0.35 * num[:, 0] + 0.002 * num[:, 1] + 0.6 * np.nan_to_num(num[:, 2])
     - 0.4 * num[:, 3] + 0.8 * (cat[:, 0] == 1) - 0.7 * (cat[:, 1] == 2)
     + 0.9 * ((num[:, 4] > 0) & (cat[:, 2] == 0)))
p = 1 / (1 + np.exp(-z))
y = rng.random(rows) < p
part = np.where(np.arange(rows) % 10 < 2, "test", np.where(np.arange(rows) % 10 == 2, "validation", "train"))
header = ["id"] + [f"n{j}" for j in range(9)] + [f"c{j}" for j in range(10)] + ["part", "converted"]
out = sys.stdout
out.write(",".join(header) + "\n")
for i in range(rows):
    nums = ["" if np.isnan(v) else f"{v:.6g}" for v in num[i]]
    cats = [levels[j][cat[i, j]] for j in range(10)]
    out.write(",".join([str(i + 1)] + nums + cats + [part[i], "true" if y[i] else "false"]) + "\n")
