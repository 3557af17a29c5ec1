#!/usr/bin/env python3
"""The textbook Hadoop Streaming reducer of the inverted index (lists a
document once per occurrence), unchanged but for reading the key safely."""
import sys

current, docs = None, []
for line in sys.stdin:
    word, _, doc = line.rstrip("\n").partition("\t")
    if word != current:
        if current is not None:
            print(f"{current}\t{','.join(docs)}")
        current, docs = word, []
    docs.append(doc)
if current is not None:
    print(f"{current}\t{','.join(docs)}")
