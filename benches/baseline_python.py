#!/usr/bin/env python3
"""What users would otherwise write: Python keyword pipelines over the same
cases and the same rule vocabulary, for comparison with `triage`.

  plain: jieba.lcut on every text, a `in` loop over every keyword, re.search
         for every regex (what a first script looks like);
  tuned: rjieba (jieba-rs bound to Python) for segmentation, one
         pyahocorasick automaton for all keywords, re for the regexes.

Neither scores, normalises or reads negation: both do strictly less work
than the engine. Prints one line per pipeline: name, seconds, MB/s.

  python3 benches/baseline_python.py CASES.jsonl [plain|tuned|all]

Installs jieba, rjieba and pyahocorasick with pip when they are missing.
"""

import json
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

RULES = Path(__file__).resolve().parent.parent / "rules"


def need(module, package):
    try:
        return __import__(module)
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)
        return __import__(module)


def vocabulary():
    keywords, patterns = set(), []
    for path in sorted(RULES.rglob("*.toml")):
        if path.name in ("scoring.toml", "language.toml"):
            continue
        for rule in tomllib.loads(path.read_text(encoding="utf-8")).get("rule", []):
            for key in ("any", "all", "near", "exclude"):
                keywords.update(rule.get(key, []))
            if "pattern" in rule:
                patterns.append(re.compile(rule["pattern"]))
    return sorted(keywords), patterns


def texts(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                d = json.loads(line)
                out.append(((d.get("title") or "") + "\n" + d["text"]))
    return out


def plain(docs, keywords, patterns):
    jieba = need("jieba", "jieba")
    jieba.setLogLevel(60)
    jieba.initialize()
    t = time.perf_counter()
    hits = 0
    for d in docs:
        jieba.lcut(d)
        hits += sum(1 for k in keywords if k in d)
        hits += sum(1 for p in patterns if p.search(d))
    return time.perf_counter() - t, hits


def tuned(docs, keywords, patterns):
    rjieba = need("rjieba", "rjieba")
    ahocorasick = need("ahocorasick", "pyahocorasick")
    automaton = ahocorasick.Automaton()
    for i, k in enumerate(keywords):
        automaton.add_word(k, i)
    automaton.make_automaton()
    rjieba.cut("预热")
    t = time.perf_counter()
    hits = 0
    for d in docs:
        rjieba.cut(d)
        hits += sum(1 for _ in automaton.iter(d))
        hits += sum(1 for p in patterns if p.search(d))
    return time.perf_counter() - t, hits


def main():
    path = sys.argv[1]
    which = sys.argv[2] if len(sys.argv) > 2 else "all"
    docs = texts(path)
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    keywords, patterns = vocabulary()
    for name, fn in (("plain", plain), ("tuned", tuned)):
        if which in (name, "all"):
            secs, _ = fn(docs, keywords, patterns)
            print(f"python-{name}\t{secs:.3f}\t{mb / secs:.2f}")


if __name__ == "__main__":
    main()
