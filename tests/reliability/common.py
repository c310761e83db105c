"""Shared by fuzz_matrix.py and hostile_catalog.py: connecting to the scratch cluster, running one
call in its own rolled-back transaction, and judging the outcome: a result, or an ERROR whose
message says what is wrong in words. A lost connection is a crash; Rust debug text, a panic or
an internal error without a cause in a message is a failure."""
import os
import re
import time

import psycopg

# Messages must read as sentences about the user's input, never as Rust internals.
UNCLEAR = re.compile(
    r"Utf8Error \{|Some\(|None\b|called `?Option::unwrap|called `?Result::unwrap|panicked at|SpiError|"
    r"\bError \{|\binf\b|internal error$|RUST_BACKTRACE|unreachable"
)


def connect(dbname):
    return psycopg.connect(
        host=os.environ["FUZZ_HOST"], port=os.environ["FUZZ_PORT"], user="postgres", dbname=dbname, autocommit=True
    )


class Outcome:
    def __init__(self, ok, sqlstate=None, message="", crashed=False, seconds=0.0, rows=None):
        self.ok, self.sqlstate, self.message, self.crashed, self.seconds, self.rows = ok, sqlstate, message, crashed, seconds, rows

    def unclear(self):
        """Why this ERROR's message is not acceptable, or None."""
        if self.ok or self.crashed:
            return None
        if UNCLEAR.search(self.message):
            return "Rust debug text or an internal message"
        if self.sqlstate == "XX000":
            return "internal_error SQLSTATE"
        return None


class Runner:
    """Runs calls on one connection, reconnecting after a crash (which it records)."""

    def __init__(self, dbname, timeout_ms=20000):
        self.dbname, self.timeout_ms = dbname, timeout_ms
        self.conn = connect(dbname)
        self.calls = self.errors = self.crashes = 0
        self.failures = []

    def run(self, sql, keep=False, timeout_ms=None):
        """One statement in a transaction that is rolled back (unless keep), under statement_timeout."""
        self.calls += 1
        started = time.monotonic()
        try:
            with self.conn.transaction(force_rollback=not keep):
                with self.conn.cursor() as cur:
                    cur.execute(f"SET LOCAL statement_timeout = {timeout_ms or self.timeout_ms}")
                    cur.execute(sql)
                    rows = cur.fetchall() if cur.description else None
            return Outcome(True, seconds=time.monotonic() - started, rows=rows)
        except psycopg.errors.Error as e:
            seconds = time.monotonic() - started
            if self.conn.closed or isinstance(e, psycopg.OperationalError) and e.sqlstate is None:
                self.crashes += 1
                self.failures.append(f"CRASH (connection lost): {sql[:300]}: {e}")
                self.conn = connect(self.dbname)
                return Outcome(False, crashed=True, message=str(e), seconds=seconds)
            self.errors += 1
            diag = e.diag
            out = Outcome(False, e.sqlstate, diag.message_primary or str(e), seconds=seconds)
            why = out.unclear()
            if why and not known_finding(out.message):
                self.failures.append(f"UNCLEAR ({why}, {out.sqlstate}): {sql[:300]}: {out.message[:300]}")
            return out


_KNOWN = None


def known_finding(message):
    """Clear but imperfect messages listed in known_findings.txt (never crashes)."""
    global _KNOWN
    if _KNOWN is None:
        path = os.path.join(os.path.dirname(__file__), "known_findings.txt")
        _KNOWN = [l.strip() for l in open(path) if l.strip() and not l.startswith("#")] if os.path.exists(path) else []
    return any(k in message for k in _KNOWN)


def server_log_crashes(log_path):
    text = open(log_path, errors="replace").read()
    return [l for l in text.splitlines() if re.search(r"terminated by signal|PANIC|was terminated", l)]
