#!/usr/bin/env python3
"""Rows/s of the message table under candidate layouts, outside Confab.

Usage: benchmarks/layout.py LAYOUT BATCH PAGESIZE [DIR]

Writes message rows shaped as Confab's (16 columns, ~60-byte content) for
1,000 one-to-one conversations interleaved, in transactions of BATCH rows,
WAL with synchronous=NORMAL and wal_autocheckpoint=16384 as Confab opens
SQLite: 300,000 rows to warm the tables up, then 200,000 measured.

Layouts:
  A  clustered (conversation_id, seq) WITHOUT ROWID + unique
     (sender_id, client_msg_id): the schema before migration 0007
  B  rowid table in append order + unique (conversation_id, seq): 0007
  C  B + an index on a random 64-bit hash of (sender, client msg id)
  D  B + an index on (conversation_id, client_msg_id)
"""
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid

COLUMNS = """conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
    server_msg_id TEXT NOT NULL, client_msg_id TEXT NOT NULL,
    sender_id TEXT NOT NULL, sender_platform INTEGER NOT NULL,
    sender_nickname TEXT NOT NULL DEFAULT '', sender_face_url TEXT NOT NULL DEFAULT '',
    session_type INTEGER NOT NULL, recv_id TEXT NOT NULL,
    content_type INTEGER NOT NULL, content TEXT NOT NULL,
    send_time INTEGER NOT NULL, status INTEGER NOT NULL DEFAULT 0,
    at_user_ids TEXT NOT NULL DEFAULT '[]', ex TEXT NOT NULL DEFAULT ''"""

SCHEMAS = {
    "A": [
        f"CREATE TABLE messages ({COLUMNS}, PRIMARY KEY (conversation_id, seq)) WITHOUT ROWID",
        "CREATE UNIQUE INDEX by_client ON messages (sender_id, client_msg_id)",
    ],
    "B": [
        f"CREATE TABLE messages (id INTEGER PRIMARY KEY, {COLUMNS})",
        "CREATE UNIQUE INDEX by_seq ON messages (conversation_id, seq)",
    ],
}
SCHEMAS["C"] = SCHEMAS["B"] + [
    "ALTER TABLE messages ADD COLUMN send_hash INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX by_hash ON messages (send_hash)",
]
SCHEMAS["D"] = SCHEMAS["B"] + [
    "CREATE INDEX by_client ON messages (conversation_id, client_msg_id)"
]

PAIRS = 1000
WARM, MEASURED = 300_000, 200_000


def rows(start, count, seqs, layout):
    for n in range(start, start + count):
        pair = n % PAIRS
        a, b = f"user{2 * pair}", f"user{2 * pair + 1}"
        seqs[pair] += 1
        row = (
            f"si_{a}_{b}", seqs[pair], str(uuid.uuid4()), str(uuid.uuid4()),
            a, 1, "", "", 1, b, 101,
            '{"content":"message number %d from the benchmark"}' % n,
            1_700_000_000_000 + n, 0, "[]", "",
        )
        if layout == "C":
            row += (random.getrandbits(63),)
        yield row


def main():
    layout, batch, page = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    where = sys.argv[4] if len(sys.argv) > 4 else os.getcwd()
    with tempfile.TemporaryDirectory(dir=where) as d:
        db = sqlite3.connect(os.path.join(d, "layout.db"), isolation_level=None)
        db.execute(f"PRAGMA page_size = {page}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA wal_autocheckpoint = 16384")
        db.execute("PRAGMA cache_size = -65536")
        for sql in SCHEMAS[layout]:
            db.execute(sql)
        width = 17 if layout == "C" else 16
        insert = f"INSERT INTO messages VALUES ({', '.join('?' * width)})"
        if layout != "A":
            insert = insert.replace("VALUES (", "VALUES (NULL, ", 1)
        seqs = [0] * PAIRS

        def write(start, count):
            for first in range(start, start + count, batch):
                db.execute("BEGIN")
                db.executemany(insert, rows(first, min(batch, start + count - first), seqs, layout))
                db.execute("COMMIT")

        write(0, WARM)
        began = time.perf_counter()
        write(WARM, MEASURED)
        took = time.perf_counter() - began
        print(f"layout {layout} batch {batch} page {page}: {MEASURED / took:,.0f} rows/s")


if __name__ == "__main__":
    main()
