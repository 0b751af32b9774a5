# SPDX-License-Identifier: MIT
"""sqlite3 and json in Debian's python3, for rules-python.sh: a table of
JSON documents, queried and summed; the output depends on nothing but the
code (no time, no addresses, no hash order)."""
import json
import sqlite3

db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE doc (id INTEGER PRIMARY KEY, kind TEXT, body TEXT)")
rows = []
for i in range(3000):
    body = {"n": i, "kind": "k%d" % (i % 7), "tags": ["t%d" % (i % 5), "u%d" % (i % 3)],
            "text": "x" * (i % 200), "nested": {"sq": i * i, "half": i / 2}}
    rows.append((i, body["kind"], json.dumps(body, sort_keys=True)))
db.executemany("INSERT INTO doc VALUES (?, ?, ?)", rows)
db.execute("CREATE INDEX doc_kind ON doc (kind)")
db.commit()

for kind, count, total in db.execute(
        "SELECT kind, COUNT(*), SUM(LENGTH(body)) FROM doc GROUP BY kind ORDER BY kind"):
    print(kind, count, total)

summary = {}
for (body,) in db.execute("SELECT body FROM doc WHERE kind IN ('k1', 'k3') ORDER BY id"):
    d = json.loads(body)
    for t in d["tags"]:
        summary[t] = summary.get(t, 0) + d["nested"]["sq"] % 1000
print(json.dumps(summary, sort_keys=True))
print(db.execute("SELECT json_extract(body, '$.nested.half') FROM doc WHERE id = 2999").fetchone())
db.close()
