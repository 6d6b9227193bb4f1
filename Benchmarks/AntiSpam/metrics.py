#!/usr/bin/env python3
"""Precision, recall, false-positive rate, F1 and ROC AUC of every engine's TSV in OUT,
each at its own default threshold (the `spam` column), AUC from the score column.

usage: metrics.py OUT
"""
import os, sys

out = sys.argv[1]


def load(name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return None
    rows = [l.rstrip("\n").split("\t") for l in open(path)][1:]
    return [(r[1] == "spam", float(r[3]), r[4] == "1") for r in rows if len(r) >= 5]


def auc(rows):
    """Probability that a random spam scores above a random ham (ties count half)."""
    ranked = sorted(rows, key=lambda r: r[1])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][1] == ranked[i][1]:
            j += 1
        mean_rank = (i + j + 1) / 2
        rank_sum += mean_rank * sum(1 for r in ranked[i:j] if r[0])
        i = j
    pos = sum(1 for r in rows if r[0]); neg = len(rows) - pos
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg) if pos and neg else float("nan")


# RESULT lines (Benchmarks/lib.sh) for Benchmarks/run-all.sh, after the tables
results = []
print(f"{'engine':<28} {'msgs':>5} {'precision':>9} {'recall':>7} {'FPR':>7} {'F1':>6} {'ROC AUC':>7}   TP/FP/TN/FN")
for name, label in [("moat.tsv", "Moat (k-fold trained)"), ("sa.tsv", "SpamAssassin 4 (sa-learn)"),
                    ("rspamd.tsv", "rspamd 3.4 (rspamc learn)"), ("moat-rules.tsv", "Moat rules only (untrained)")]:
    rows = load(name)
    if not rows:
        continue
    tp = sum(1 for s, _, p in rows if s and p); fp = sum(1 for s, _, p in rows if not s and p)
    fn = sum(1 for s, _, p in rows if s and not p); tn = sum(1 for s, _, p in rows if not s and not p)
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    fpr = fp / (fp + tn) if fp + tn else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else float("nan")
    print(f"{label:<28} {len(rows):>5} {precision:>9.4f} {recall:>7.4f} {fpr:>7.4f} {f1:>6.4f} {auc(rows):>7.4f}   {tp}/{fp}/{tn}/{fn}")
    results.append(f"RESULT antispam {name[:-4]}-f1 {f1:.4f} F1")
for name in ("moat-speed.txt", "moatd-speed.txt", "sa-speed.txt", "rspamd-speed.txt", "moat-memory.txt"):
    path = os.path.join(out, name)
    if os.path.exists(path):
        print(f"\n{name}:\n" + open(path).read().rstrip())
    if os.path.exists(path) and name.endswith("-speed.txt"):
        engine, rate = open(path).read().splitlines()[1].split("\t")[:2]
        results.append(f"RESULT antispam {engine}-speed {rate} msgs/s")
print("\n".join(results))
