#!/usr/bin/python3
"""GoEmotions with scikit-learn: TF-IDF (word 1-2-grams + char_wb 2-5-grams, sublinear tf,
each block L2-normalised - the features `pathos text eval --model linear` hashes) and
one-vs-rest L2 LogisticRegression (lbfgs, C=4, tol 1e-4, max_iter 300, as pathos), per-label
thresholds tuned on dev (max F1), reported on test.  Usage: goemotions_sklearn.py DATA_DIR
Prints one JSON line.  Single-threaded (n_jobs=1) like pathos' default; SK_JOBS=N fits the
labels in N processes (joblib), for the 2-core training-speed comparison."""
import json, os, sys, time
import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from goemo_common import load, tune_thresholds, report

def main():
    data = sys.argv[1]
    tr, dv, te = (load(os.path.join(data, f"{s}.tsv")) for s in ("train", "dev", "test"))
    Y = np.zeros((len(tr), 28), dtype=int)
    for i, (_, ls) in enumerate(tr):
        Y[i, ls] = 1
    t0 = time.time()
    vw = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
    vc = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True)
    texts = [t for t, _ in tr]
    X = hstack([vw.fit_transform(texts), vc.fit_transform(texts)]).tocsr()
    jobs = int(os.environ.get("SK_JOBS", "1"))
    fit = lambda l: LogisticRegression(C=4.0, tol=1e-4, max_iter=300).fit(X, Y[:, l])
    if jobs > 1:
        from joblib import Parallel, delayed
        models = Parallel(n_jobs=jobs)(delayed(fit)(l) for l in range(28))
    else:
        models = [fit(l) for l in range(28)]
    train_s = time.time() - t0

    def score(split):
        tx = [t for t, _ in split]
        Z = hstack([vw.transform(tx), vc.transform(tx)]).tocsr()
        return np.column_stack([m.predict_proba(Z)[:, 1] for m in models]).tolist()

    dev_scores = score(dv)
    t0 = time.time()
    test_scores = score(te)
    dt = time.time() - t0
    thr = tune_thresholds(dev_scores, [l for _, l in dv])
    res = report(test_scores, [l for _, l in te], thr, data)
    res.update(model="sklearn-tfidf-ovr-logreg", train_seconds=round(train_s, 2),
               test_texts_per_second=round(len(te) / dt))
    print(json.dumps(res))

if __name__ == "__main__":
    main()
