#!/usr/bin/env python3
"""Hostile catalog state: a superuser edits lead_scoring.models by hand. Truncated, bit-flipped
and foreign artifacts (another model's or another version's, checksum valid), a deleted deployed
version, hand-edited jsonb (options, metrics, training, tiers, features as wrong types or with
keys missing). After each edit every reading function runs in a new session and must give an
ERROR or the correct result (a score equal to the one before the edit), never a crash or a wrong
score. Then two sessions: an edit in one takes effect in the other's next statement."""
import sys

from common import Runner, connect

READERS = [
    "SELECT lead_scoring.score('{m}', l) FROM leads l WHERE id = 5",
    "SELECT lead_scoring.tier('{m}', l) FROM leads l WHERE id = 5",
    "SELECT count(*) FROM leads l, lead_scoring.explain('{m}', l) WHERE id = 5",
    "SELECT lead_scoring.top_reasons('{m}', l, 3) FROM leads l WHERE id = 5",
    "SELECT lead_scoring.evaluate('{m}', 'leads')",
    "SELECT length(lead_scoring.report('{m}'))",
    "SELECT length(lead_scoring.model_card('{m}'))",
    "SELECT count(*) FROM lead_scoring.feature_importance('{m}')",
    "SELECT count(*) FROM lead_scoring.drift('{m}', 'leads')",
    "SELECT count(*) FROM lead_scoring.optimal_threshold('{m}', 'f1')",
    "SELECT count(*) FROM lead_scoring.lift('{m}', 'leads')",
    "SELECT lead_scoring.model_sql('{m}')",
    "SELECT lead_scoring.split_of('{m}', 5)",
]

SETUP = """
CREATE TABLE leads AS SELECT g AS id, (g % 13)::float8 AS visits,
  CASE g % 3 WHEN 0 THEN 'web' WHEN 1 THEN 'ads' ELSE 'call' END AS src,
  (g % 13 + g % 5 > 9) AS converted FROM generate_series(1, 3000) g;
SELECT lead_scoring.train('m', 'leads', 'converted', options => '{"exclude": ["id"], "leakage": "ignore", "key": "id"}');
SELECT lead_scoring.train('m', 'leads', 'converted', options => '{"exclude": ["id"], "alpha": 30, "leakage": "ignore", "deploy": "never"}');
SELECT lead_scoring.train('g', 'leads', 'converted', algorithm => 'gbm', options => '{"exclude": ["id"], "trees": 10, "leakage": "ignore"}');
CREATE TABLE models_backup AS SELECT * FROM lead_scoring.models;
"""

RESTORE = """DELETE FROM lead_scoring.models;
INSERT INTO lead_scoring.models SELECT * FROM models_backup;"""

M1 = "name = 'm' AND version = 1"
EDITS = {
    "truncated artifact": f"UPDATE lead_scoring.models SET artifact = substr(artifact, 1, length(artifact) / 2) WHERE {M1}",
    "header only": f"UPDATE lead_scoring.models SET artifact = substr(artifact, 1, 14) WHERE {M1}",
    "empty artifact": f"UPDATE lead_scoring.models SET artifact = '' WHERE {M1}",
    "bit-flipped artifact": f"UPDATE lead_scoring.models SET artifact = set_bit(artifact, length(artifact) * 8 - 3, 1 - get_bit(artifact, length(artifact) * 8 - 3)) WHERE {M1}",
    "bit-flipped header": f"UPDATE lead_scoring.models SET artifact = set_byte(artifact, 8, 77) WHERE {M1}",
    "another model's artifact (gbm)": f"UPDATE lead_scoring.models SET artifact = (SELECT artifact FROM models_backup WHERE name = 'g') WHERE {M1}",
    "another version's artifact": f"UPDATE lead_scoring.models SET artifact = (SELECT artifact FROM models_backup WHERE name = 'm' AND version = 2) WHERE {M1}",
    "deployed version deleted": f"DELETE FROM lead_scoring.models WHERE {M1}",
    "all rows truncated": "TRUNCATE lead_scoring.models",
    "tiers a string": f"UPDATE lead_scoring.models SET tiers = '\"hot\"' WHERE {M1}",
    "tiers empty object": f"UPDATE lead_scoring.models SET tiers = '{{}}' WHERE {M1}",
    "tiers with a text bound": f"UPDATE lead_scoring.models SET tiers = '{{\"hot\": \"high\", \"cold\": 0}}' WHERE {M1}",
    "tiers nested junk": f"UPDATE lead_scoring.models SET tiers = '[[1], {{\"name\": [2]}}]' WHERE {M1}",
    "options an array": f"UPDATE lead_scoring.models SET options = '[1, 2]' WHERE {M1}",
    "metrics a number": f"UPDATE lead_scoring.models SET metrics = '42' WHERE {M1}",
    "metrics missing test": f"UPDATE lead_scoring.models SET metrics = metrics - 'test' WHERE {M1}",
    "metrics junk values": f"UPDATE lead_scoring.models SET metrics = jsonb_set(metrics, '{{test,roc_auc}}', '\"x\"') WHERE {M1}",
    "training a string": f"UPDATE lead_scoring.models SET training = '\"x\"' WHERE {M1}",
    "training empty": f"UPDATE lead_scoring.models SET training = '{{}}' WHERE {M1}",
    "features null json": f"UPDATE lead_scoring.models SET features = 'null' WHERE {M1}",
    "importance an object": f"UPDATE lead_scoring.models SET importance = '{{\"a\": 1}}' WHERE {M1}",
    "reference junk": f"UPDATE lead_scoring.models SET reference = '{{\"features\": 7}}' WHERE {M1}",
    "validation predictions truncated": f"UPDATE lead_scoring.models SET validation_predictions = substr(validation_predictions, 1, 11) WHERE {M1}",
    "validation predictions huge count": f"UPDATE lead_scoring.models SET validation_predictions = overlay(validation_predictions placing '\\xffffffffffffff7f'::bytea from 1) WHERE {M1}",
    "threshold at the edge": f"UPDATE lead_scoring.models SET threshold = 1 WHERE {M1}",
    "label renamed": f"UPDATE lead_scoring.models SET label = 'no_such_column' WHERE {M1}",
    "split keys truncated": f"UPDATE lead_scoring.models SET split_keys = substr(split_keys, 1, length(split_keys) / 2) WHERE {M1}",
    "split keys huge count": f"UPDATE lead_scoring.models SET split_keys = overlay(split_keys placing '\\xffffffffffffff7f'::bytea from 5) WHERE {M1}",
    "split keys junk": f"UPDATE lead_scoring.models SET split_keys = '\\x00' WHERE {M1}",
    "split lead key type unknown": f"UPDATE lead_scoring.models SET split = jsonb_set(split, '{{lead_keys,type}}', '\"no_such_type\"') WHERE {M1}",
}
# Edits after which a successful score must equal the score before the edit (the artifact is
# the model; jsonb metadata does not change scores).
SCORE_UNCHANGED = set(EDITS) - {"all rows truncated", "deployed version deleted"}


def main():
    db = connect("hostile")
    with db.cursor() as cur:
        cur.execute(SETUP)
        cur.execute("SELECT lead_scoring.score('m', l) FROM leads l WHERE id = 5")
        original = cur.fetchone()[0]
    db.close()
    failures = []
    calls = errors = crashes = 0
    for label, edit in EDITS.items():
        admin = connect("hostile")
        with admin.cursor() as cur:
            try:
                cur.execute(edit)
            except Exception as e:  # a constraint refusing the edit is a fine outcome too
                print(f"hostile_catalog: ok: {label}: refused by the table ({e.diag.message_primary})")
                admin.close()
                continue
        r = Runner("hostile")
        wrong = []
        for sql in READERS:
            out = r.run(sql.format(m="m"))
            if out.ok and "score(" in sql and label in SCORE_UNCHANGED and out.rows[0][0] != original:
                wrong.append(f"score {out.rows[0][0]} instead of {original}")
        if "artifact" in label:
            out = r.run("SELECT lead_scoring.score('m', l) FROM leads l WHERE id = 5")
            needle = "belongs to model" if "another" in label else "artifact"
            if out.ok or needle not in out.message:
                wrong.append(f"scoring should fail naming the artifact ({needle!r}), got {out.rows if out.ok else out.message}")
        calls, errors, crashes = calls + r.calls, errors + r.errors, crashes + r.crashes
        problems = r.failures + wrong
        if problems:
            failures += [f"{label}: {p}" for p in problems]
        else:
            print(f"hostile_catalog: ok: {label}: {r.calls} calls, {r.errors} errors, no crash, no wrong score")
        r.conn.close()
        with admin.cursor() as cur:
            cur.execute(RESTORE)
        admin.close()

    failures += two_sessions()
    print(f"hostile_catalog: {calls} calls, {errors} errors, {crashes} crashes")
    if failures:
        for f in failures:
            print("hostile_catalog: FAIL " + f, file=sys.stderr)
        return 1
    return 0


def two_sessions():
    """A hand edit in one session takes effect in another's next statement, with the model
    cached there before."""
    f = []
    a, b = connect("hostile"), connect("hostile")
    score = "SELECT lead_scoring.score('m', l), lead_scoring.tier('m', l) FROM leads l WHERE id = 5"
    with a.cursor() as ca, b.cursor() as cb:
        ca.execute(score)
        before = ca.fetchone()
        # A foreign artifact copied in by hand: refused in the other session at once.
        cb.execute(f"UPDATE lead_scoring.models SET artifact = (SELECT artifact FROM models_backup WHERE name = 'm' AND version = 2) WHERE {M1}")
        try:
            ca.execute(score)
            f.append(f"session A still scored {ca.fetchone()} after session B copied a foreign artifact in")
        except Exception as e:
            if "belongs to model" not in str(e):
                f.append(f"session A: expected the foreign artifact to be refused, got {e}")
            else:
                print("hostile_catalog: ok: two sessions: a foreign artifact copied in by hand is refused in the other session at once")
        cb.execute(RESTORE)
        ca.execute(score)
        if ca.fetchone() != before:
            f.append("session A: the restored row does not score as before")
        # Tiers edited by hand: the other session's next tier() uses them.
        cb.execute(f"UPDATE lead_scoring.models SET tiers = '{{\"everyone\": 0}}' WHERE {M1}")
        ca.execute(score)
        got = ca.fetchone()
        if got[1] != "everyone":
            f.append(f"session A: tier {got[1]!r} after session B set the tiers to everyone")
        else:
            print("hostile_catalog: ok: two sessions: tiers edited by hand take effect in the other session at once")
        # The deployed version deleted by hand: the other session no longer scores with it.
        cb.execute(f"DELETE FROM lead_scoring.models WHERE {M1}")
        try:
            ca.execute(score)
            f.append(f"session A still scored {ca.fetchone()} after session B deleted the deployed version")
        except Exception as e:
            if "no deployed version" not in str(e):
                f.append(f"session A: expected 'no deployed version', got {e}")
            else:
                print("hostile_catalog: ok: two sessions: a deployed version deleted by hand stops scoring in the other session at once")
        cb.execute(RESTORE)
    a.close()
    b.close()
    return f


if __name__ == "__main__":
    sys.exit(main())
