#!/usr/bin/python3
"""Reference numbers pasted into tests/test_text_{features,linear,tokenize,newsemp}.c.

Run with Debian's scikit-learn 1.2.1:  /usr/bin/python3 tests/ref/text_sklearn_refs.py
"""
import numpy as np
import scipy.stats as st
from scipy.optimize import minimize
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils import murmurhash3_32

# --- TF-IDF (test_text_features.c)
docs = ["the cat sat on the mat", "the dog sat", "dogs and cats sat sat sat"]
for kw in [dict(sublinear_tf=True), dict(sublinear_tf=False, smooth_idf=False)]:
    v = TfidfVectorizer(**kw)
    X = v.fit_transform(docs).toarray()
    print(kw, v.get_feature_names_out().tolist(), "idf", np.round(v.idf_, 10).tolist())
    for r in X:
        print("  ", ", ".join("%.10f" % x for x in r))

# --- murmur3 (test_text_tokenize.c)
for s in ["hello", "happy", "NEG_happy", "not happy", "\U0001F600", ""]:
    print(repr(s), murmurhash3_32(s.encode(), seed=0, positive=True))
print("hello seed 42", murmurhash3_32(b"hello", seed=42, positive=True))
print("' ha' seed 0x9E3779B9 & 0xFFFFF", murmurhash3_32(b" ha", seed=0x9E3779B9, positive=True) & 0xFFFFF)

# --- Ridge / logistic regression (test_text_linear.c)
X = np.array([[1, 0, 2, 0], [0, 1, 0, 3], [1, 1, 0, 0], [0, 0, 1, 1], [2, 0, 0, 1], [0, 3, 1, 0], [1, 2, 3, 0]], float)
y = np.array([1.0, 2.5, 0.5, 3.0, -1.0, 2.0, 1.5])
r = Ridge(alpha=0.5, solver="cholesky").fit(X, y)
print("ridge", r.coef_.tolist(), r.intercept_)
print("ridge no intercept", Ridge(alpha=0.5, fit_intercept=False, solver="cholesky").fit(X, y).coef_.tolist())
r3 = Ridge(alpha=0.3, solver="cholesky").fit(X[:3], y[:3])
print("ridge n<d", r3.coef_.tolist(), r3.intercept_)
for yb, C, bal in [([1, 0, 1, 0, 0, 1, 1], 1.0, False), ([1, 0, 0, 0, 0, 1, 0], 2.0, True)]:
    yb = np.array(yb)
    lr = LogisticRegression(C=C, class_weight="balanced" if bal else None, tol=1e-10, max_iter=10000).fit(X, yb)
    print("sklearn logreg", lr.coef_.tolist(), lr.intercept_.tolist())
    # The exact optimum of the same objective (sklearn's lbfgs stops ~1e-5 short).
    sgn = 2 * yb - 1
    n = len(yb)
    sw = np.where(yb == 1, n / (2 * yb.sum()), n / (2 * (n - yb.sum()))) if bal else np.ones(n)

    def f(t):
        return 0.5 * t[:4] @ t[:4] + C * np.sum(sw * np.logaddexp(0, -sgn * (X @ t[:4] + t[4])))

    def g(t):
        rr = -C * sw * sgn / (1 + np.exp(sgn * (X @ t[:4] + t[4])))
        return np.concatenate([t[:4] + X.T @ rr, [rr.sum()]])

    print("optimum", minimize(f, np.zeros(5), jac=g, method="BFGS", options={"gtol": 1e-13}).x.tolist())

# --- statistics (test_text_newsemp.c)
print(np.corrcoef([1, 2, 3, 4, 5], [2, 4, 5, 4, 5])[0, 1], st.spearmanr([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]).correlation)
