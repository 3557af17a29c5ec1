#!/usr/bin/env python3
"""Builds a corpus of real text for the inverted-index benchmark: every
paragraph of the documentation and man pages on this machine
(/usr/share/doc, /usr/share/man; gzip read transparently; troff requests
dropped) becomes one `doc-id<TAB>text` line. When the machine holds less
text than asked for, the collection repeats with the pass number in the
document ids, so the index grows with the corpus.

    python3 bench/make-corpus.py 100 /tmp/corpus-100.tsv     # size in MB
"""
import glob
import gzip
import os
import sys


def paragraphs():
    for root in ("/usr/share/doc", "/usr/share/man"):
        for name in sorted(glob.glob(f"{root}/**/*", recursive=True)):
            if not os.path.isfile(name) or os.path.islink(name):
                continue
            try:
                opener = gzip.open if name.endswith(".gz") else open
                with opener(name, "rt", encoding="utf-8", errors="strict") as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError, EOFError):
                continue  # binary files, images, invalid encodings
            for i, para in enumerate(text.split("\n\n")):
                words = " ".join(
                    line for line in para.split("\n") if not line.startswith((".", "'\\\""))
                ).split()
                if words:
                    yield f"{name}#{i}", " ".join(words)


def main():
    target = int(sys.argv[1]) * 1_000_000
    out_path = sys.argv[2]
    written = docs = 0
    passes = 0
    with open(out_path, "w", encoding="utf-8") as out:
        while written < target:
            passes += 1
            produced = False
            for doc, text in paragraphs():
                line = f"{doc}@{passes}\t{text}\n"
                out.write(line)
                written += len(line.encode())
                docs += 1
                produced = True
                if written >= target:
                    break
            if not produced:
                sys.exit("no text found under /usr/share/doc or /usr/share/man")
    print(f"{out_path}: {written / 1e6:.1f} MB, {docs} documents, {passes} pass(es) over the machine's text")


if __name__ == "__main__":
    main()
