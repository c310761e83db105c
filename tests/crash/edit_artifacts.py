#!/usr/bin/env python3
"""Fuzzes a stored gbm model's artifact through SQL (an edited artifact once crashed a backend): numbers inside the booster and
raw bytes are edited, the CRC-32 recomputed so the checksum passes, the artifact written back,
and score(), explain() and top_reasons() run in a new session each time. Each must return or
raise an ERROR; a crashed backend shows in the server log, which server_survives.sh checks.

Usage: edit_artifacts.py ROUNDS -- PSQL_COMMAND...  (the psql command line, reading SQL on stdin)
"""
import random
import subprocess
import sys
import zlib

HEADER = 14  # magic (8), format version (2), CRC-32 of the body (4)


def psql(cmd, sql):
    return subprocess.run(cmd + ["-At"], input=sql, capture_output=True, text=True)


def main():
    rounds = int(sys.argv[1])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    got = psql(cmd, "SELECT encode(artifact, 'hex') FROM lead_scoring.models WHERE name = 'fuzz' AND version = 1;\n")
    original = bytes.fromhex(got.stdout.strip())
    assert original[:8] == b"LSMODEL\0", got.stderr
    digits = [i for i in range(HEADER, len(original)) if chr(original[i]).isdigit()]
    rng = random.Random(21)
    outcomes = {"error": 0, "ok": 0}
    for r in range(rounds):
        body = bytearray(original[HEADER:])
        for _ in range(rng.randint(1, 3)):
            if r % 4 == 0:
                body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
            else:
                body[rng.choice(digits) - HEADER] = ord(str(rng.randrange(10)))
        sealed = original[:10] + zlib.crc32(bytes(body)).to_bytes(4, "little") + bytes(body)
        sql = (
            f"UPDATE lead_scoring.models SET artifact = decode('{sealed.hex()}', 'hex') WHERE name = 'fuzz' AND version = 1;\n"
            "SELECT count(lead_scoring.score('fuzz', l)), count(lead_scoring.top_reasons('fuzz', l, 3))"
            " FROM (SELECT * FROM fuzz_leads LIMIT 50) l;\n"
            "SELECT count(*) FROM (SELECT * FROM fuzz_leads LIMIT 20) l, lead_scoring.explain('fuzz', l);\n"
        )
        res = psql(cmd + ["-v", "ON_ERROR_STOP=1"], sql)
        if res.returncode == 0:
            outcomes["ok"] += 1
        elif "ERROR:" in res.stderr and "server closed the connection" not in res.stderr:
            outcomes["error"] += 1
        else:
            print(f"round {r}: psql failed without an ERROR:\n{res.stderr}", file=sys.stderr)
            return 1
    print(f"edited artifacts: {outcomes['error']} rejected with an ERROR, {outcomes['ok']} scored")
    return 0 if outcomes["error"] > 0 and outcomes["ok"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
