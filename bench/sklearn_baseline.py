"""The Python alternative to the extension, timed against it by bench/*.sh: COPY rows out of
Postgres into pandas, fit or apply a scikit-learn LogisticRegression with the same
preprocessing (median imputation with missing indicators, standard scaling, one-hot levels),
and COPY scores back.

  python sklearn_baseline.py train DSN TABLE   -> prints: copy_out_s fit_s test_auc train_rows
  python sklearn_baseline.py score DSN TABLE SAMPLE_TABLE -> prints: copy_out_s predict_s copy_back_s
  python sklearn_baseline.py score_lightgbm DSN TABLE SAMPLE_TABLE -> the same with LightGBM
      (300 trees, learning rate 0.05, 31 leaves, native categoricals) in place of the pipeline
"""
import io
import sys
import time

import pandas as pd
import psycopg
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

NUM = [f"n{j}" for j in range(9)]
CAT = [f"c{j}" for j in range(10)]


def copy_out(conn, query):
    buf = io.BytesIO()
    with conn.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
        for chunk in copy:
            buf.write(chunk)
    buf.seek(0)
    return pd.read_csv(buf)


def model():
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), NUM),
        ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=10), CAT),
    ])
    # C = 1 / alpha with the extension's default alpha = 1.
    return make_pipeline(pre, LogisticRegression(C=1.0, max_iter=1000))


def train(dsn, table):
    with psycopg.connect(dsn) as conn:
        t0 = time.time()
        df = copy_out(conn, f"SELECT * FROM {table}")
        t1 = time.time()
        tr, te = df[df.part == "train"], df[df.part == "test"]
        m = model().fit(tr[NUM + CAT], tr.converted)
        t2 = time.time()
        auc = roc_auc_score(te.converted, m.predict_proba(te[NUM + CAT])[:, 1])
        print(f"{t1 - t0:.2f} {t2 - t1:.2f} {auc:.4f} {len(tr)}")


class LightGbmModel:
    """LightGBM on the raw columns, text columns as pandas categories (its native categoricals)."""

    def fit(self, x, y):
        import lightgbm as lgb
        self.m = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.05, num_leaves=31, n_jobs=2, verbose=-1)
        self.levels = {c: sorted(x[c].dropna().unique()) for c in CAT}
        self.m.fit(self.prepare(x), y)
        return self

    def prepare(self, x):
        x = x.copy()
        for c in CAT:
            x[c] = pd.Categorical(x[c], categories=self.levels[c])
        return x

    def predict_proba(self, x):
        return self.m.predict_proba(self.prepare(x))


def score(dsn, table, sample, make=model):
    with psycopg.connect(dsn) as conn:
        tr = copy_out(conn, f"SELECT * FROM {sample} WHERE part = 'train'")
        m = make().fit(tr[NUM + CAT], tr.converted)  # not timed: the model exists beforehand
        with conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS py_scores; CREATE TABLE py_scores (id bigint, p float8)")
        conn.commit()
        t0 = time.time()
        df = copy_out(conn, f"SELECT id, {', '.join(NUM + CAT)} FROM {table}")
        t1 = time.time()
        df["p"] = m.predict_proba(df[NUM + CAT])[:, 1]
        t2 = time.time()
        with conn.cursor() as cur, cur.copy("COPY py_scores (id, p) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(df[["id", "p"]].to_csv(index=False, header=False))
        conn.commit()
        t3 = time.time()
        print(f"{t1 - t0:.2f} {t2 - t1:.2f} {t3 - t2:.2f}")


if __name__ == "__main__":
    def score_lightgbm(dsn, table, sample):
        score(dsn, table, sample, LightGbmModel)

    {"train": train, "score": score, "score_lightgbm": score_lightgbm}[sys.argv[1]](*sys.argv[2:])
