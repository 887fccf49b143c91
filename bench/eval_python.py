#!/usr/bin/env python3
"""Reference pipeline for bench/eval_vs_python.sh: the same features and the same folds as
`pathos eval`, with scikit-learn / xgboost (Debian python3-sklearn, python3-xgboost).

Preprocessing mirrors pathos: mean imputation fitted on the training folds (all learners
but xgboost, which handles NaN natively) and z-scoring for logreg and knn.  Metrics are
computed on the pooled out-of-fold predictions of each repeat, then averaged over repeats.

usage: eval_python.py FEATURES.csv FOLDS.csv PATHOS_PREDICTIONS.csv SEED THREADS
Prints one JSON object: per learner, python metric means, max |p_pathos - p_python|, and
the python wall time.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, brier_score_loss,
                             f1_score, log_loss, matthews_corrcoef, roc_auc_score)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier


def learners(seed, threads):
    return {
        "xgboost": lambda: XGBClassifier(random_state=seed, n_jobs=threads),
        "logreg": lambda: make_pipeline(SimpleImputer(), StandardScaler(),
                                        LogisticRegression(C=1.0, tol=1e-10, max_iter=10000)),
        "knn": lambda: make_pipeline(SimpleImputer(), StandardScaler(), KNeighborsClassifier(5)),
        "majority": lambda: make_pipeline(SimpleImputer(), DummyClassifier(strategy="prior")),
    }


def metrics(y, p):
    yhat = (p >= 0.5).astype(int)
    return {
        "acc": accuracy_score(y, yhat),
        "bal_acc": balanced_accuracy_score(y, yhat),
        "auc": roc_auc_score(y, p),
        "f1": f1_score(y, yhat, zero_division=0),
        "mcc": matthews_corrcoef(y, yhat),
        "logloss": log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)),
        "brier": brier_score_loss(y, p),
    }


def main():
    feats, folds_csv, preds_csv, seed, threads = sys.argv[1:6]
    seed, threads = int(seed), int(threads)
    df = pd.read_csv(feats, dtype={"subject": str, "record_id": str})
    folds = pd.read_csv(folds_csv, dtype={"subject": str, "record_id": str})
    ours = pd.read_csv(preds_csv, dtype={"subject": str, "record_id": str})
    feature_cols = [c for c in df.columns if c not in ("subject", "label", "record_id")]
    X = df[feature_cols].to_numpy(dtype=float)
    y = df["label"].to_numpy(dtype=int)
    row_of = {rid: i for i, rid in enumerate(df["record_id"])}
    out = {}
    t0 = time.perf_counter()
    for name, make in learners(seed, threads).items():
        t_learner = time.perf_counter()
        per_repeat, max_dp = [], 0.0
        for r, fr in folds.groupby("repeat"):
            rows = np.array([row_of[rid] for rid in fr["record_id"]])
            fold = fr["fold"].to_numpy()
            p = np.empty(len(df))
            for f in np.unique(fold):
                te, tr = rows[fold == f], rows[fold != f]
                model = make().fit(X[tr], y[tr])
                p[te] = model.predict_proba(X[te])[:, 1]
            per_repeat.append(metrics(y, p))
            mine = ours[(ours["learner"] == name) & (ours["repeat"] == r)]
            ref = p[[row_of[rid] for rid in mine["record_id"]]]
            max_dp = max(max_dp, float(np.max(np.abs(mine["p1"].to_numpy() - ref))))
        out[name] = {"metrics": {k: float(np.mean([m[k] for m in per_repeat])) for k in per_repeat[0]},
                     "max_abs_dp": max_dp, "seconds": time.perf_counter() - t_learner}
    out["_seconds"] = time.perf_counter() - t0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
