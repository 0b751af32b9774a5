# SPDX-License-Identifier: MIT
"""An unmodified program's workload for `trackalloc record --group-by=lib`
(group-by.sh): an in-memory SQLite database (libsqlite3 allocates its pages,
statements and rows with malloc), whose rows go through json and back.
Deterministic output. Run as `python3 sqlite-json.py [ROWS]`."""
import json
import sqlite3
import sys

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 20000

db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, name TEXT, payload TEXT)")
db.executemany("INSERT INTO t VALUES (?, ?, ?)",
               ((i, "row-%d" % i, "x" * (50 + i % 200)) for i in range(ROWS)))
db.execute("CREATE INDEX t_name ON t (name)")
db.commit()
rows = db.execute("SELECT k, name, payload FROM t ORDER BY name").fetchall()
text = json.dumps([{"k": k, "name": n, "len": len(p)} for k, n, p in rows])
back = json.loads(text)
total = db.execute("SELECT COUNT(*), SUM(LENGTH(payload)) FROM t").fetchone()
db.close()
print("rows %d, json %d bytes, first %s, last %s" % (len(back), len(text), back[0]["name"],
                                                   back[-1]["name"]))
print("count %d, payload bytes %d" % total)
