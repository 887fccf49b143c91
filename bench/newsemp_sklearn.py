#!/usr/bin/python3
"""scikit-learn baseline for NewsEmp on the same folds as pathos (bench/RESULTS-text-newsemp.md).

Features: TfidfVectorizer word 1-2-grams + char_wb 3-5-grams (sublinear_tf, smooth idf, each
L2-normalised, horizontally stacked), fitted on the training fold only; RidgeCV (efficient
leave-one-out over alphas) on the training fold.  Folds use pathos' documented rule
(include/pathos/newsemp.h): fold = murmur3_32(key, seed) mod k with key = message_id (plain)
or response_id (grouped by writer), murmur3_32 = sklearn.utils.murmurhash3_32(positive=True).

Run from the repository root with Debian's python3-sklearn:
    nice /usr/bin/python3 bench/newsemp_sklearn.py [--grouped] [--folds 10] [--seed 0]
"""
import argparse
import csv
import time

import numpy as np
import scipy.sparse as sp
from scipy.stats import pearsonr, spearmanr
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import RidgeCV
from sklearn.utils import murmurhash3_32


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grouped", action="store_true")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rows", type=int, default=0)
    ap.add_argument("--data", default="data/newsemp/messages.csv")
    a = ap.parse_args()
    with open(a.data, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if a.rows:
        rows = rows[: a.rows]
    essays = [r["essay"] for r in rows]
    Y = np.array([[float(r["empathy"]), float(r["distress"])] for r in rows])
    key = "response_id" if a.grouped else "message_id"
    fold = np.array([murmurhash3_32(r[key], seed=a.seed, positive=True) % a.folds for r in rows])
    t0 = time.time()
    pred = np.zeros_like(Y)
    per_fold = {0: [], 1: []}
    alphas = np.logspace(-2, 3, 11)
    chosen = {0: [], 1: []}
    for f in range(a.folds):
        tr, te = np.where(fold != f)[0], np.where(fold == f)[0]
        wv = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        cv = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        Xtr = sp.hstack([wv.fit_transform([essays[i] for i in tr]), cv.fit_transform([essays[i] for i in tr])]).tocsr()
        Xte = sp.hstack([wv.transform([essays[i] for i in te]), cv.transform([essays[i] for i in te])]).tocsr()
        for t in range(2):
            m = RidgeCV(alphas=alphas).fit(Xtr, Y[tr, t])
            pred[te, t] = m.predict(Xte)
            chosen[t].append(m.alpha_)
            per_fold[t].append((pearsonr(pred[te, t], Y[te, t])[0], spearmanr(pred[te, t], Y[te, t]).correlation))
    secs = time.time() - t0
    print("essays %d, %d-fold %s CV, seed %d, %.1f s (scikit-learn TF-IDF word+char + RidgeCV)"
          % (len(rows), a.folds, "grouped-by-writer" if a.grouped else "plain", a.seed, secs))
    for t, name in enumerate(["empathy", "distress"]):
        r = np.mean([p[0] for p in per_fold[t]])
        rho = np.mean([p[1] for p in per_fold[t]])
        print("%-8s r %.3f (pooled %.3f)  spearman %.3f  MAE %.3f | alpha mean %.2f"
              % (name, r, pearsonr(pred[:, t], Y[:, t])[0], rho, np.mean(np.abs(pred[:, t] - Y[:, t])),
                 np.mean(chosen[t])))


if __name__ == "__main__":
    main()
