#!/usr/bin/python3
"""Regenerates the reference numbers hard-coded in tests/test_features.c, independently of
pathos (pandas CSV parser + numpy statistics).  Usage: tests/features_reference.py [SHARED_DIR]"""
import glob
import os
import sys

import numpy as np
import pandas as pd

shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../shared")
files = sorted(glob.glob(os.path.join(shared, "data/hri-empathy/dataset/video_features/*.csv")))
for f in files:
    # round_trip: correctly rounded float parsing (pandas' default fast parser is off by an ulp
    # on some cells).
    d = pd.read_csv(f, index_col=0, float_precision="round_trip")
    d.columns = [c.strip() for c in d.columns]
    v = d[(d != 0).any(axis=1)]  # padding rows are all zero
    print(os.path.basename(f), len(v),
          "%.17g" % v["AU12_r"].mean(),
          "%.17g" % np.percentile(v["gaze_angle_x"], 90),
          "%.17g" % v["pose_Rx"].std(ddof=0),
          "%.17g" % (v["AU45_c"] >= 0.5).mean(),
          "%.17g" % np.abs(np.diff(v["AU06_r"])).mean())

# The tiny in-memory table of test_statistics (face rows only; NaN dropped per column).
cols = {"gaze_angle_x": [0.1, 0.3, -0.2, 0.4, 0.0], "pose_Rx": [0.0, 0.2, 0.1, 0.0, 0.3],
        "AU12_r": [1.5, np.nan, 2.5, 0.5, 3.0], "AU12_c": [1, 0, 1, 0, 1], "x_0": [300, 302, 301, 305, 299]}
for name, vals in cols.items():
    x = np.array(vals, float)
    x = x[~np.isnan(x)]
    print(name, " ".join("%.17g" % s for s in [x.mean(), x.std(), x.min(), x.max(), np.median(x),
                                                np.percentile(x, 10), np.percentile(x, 90),
                                                np.abs(np.diff(x)).mean(), (x >= 0.5).mean()]))
