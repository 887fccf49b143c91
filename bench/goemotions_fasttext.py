#!/usr/bin/python3
"""GoEmotions with Debian's fastText binary (fasttext supervised -loss ova), thresholds
tuned per label on dev (max F1), reported on test: the same protocol as `pathos text eval
--task goemotions`.  Usage: goemotions_fasttext.py DATA_DIR [fasttext args...]
Prints one JSON line.  Preprocessing: lower-case, punctuation split from words."""
import json, os, re, subprocess, sys, tempfile, time
from goemo_common import load, tune_thresholds, report

TOK = re.compile(r"[\w']+|[^\w\s]", re.UNICODE)

def prep(text):
    return " ".join(TOK.findall(text.lower()))

def main():
    data = sys.argv[1]
    extra = sys.argv[2:] or ["-dim", "64", "-epoch", "20", "-lr", "0.2", "-wordNgrams", "2"]
    tr, dv, te = (load(os.path.join(data, f"{s}.tsv")) for s in ("train", "dev", "test"))
    with tempfile.TemporaryDirectory() as tmp:
        trf = os.path.join(tmp, "train.txt")
        with open(trf, "w") as f:
            for text, labels in tr:
                f.write(" ".join(f"__label__{l}" for l in labels) + " " + prep(text) + "\n")
        model = os.path.join(tmp, "m")
        t0 = time.time()
        subprocess.run(["fasttext", "supervised", "-input", trf, "-output", model, "-loss", "ova",
                        "-thread", os.environ.get("FT_THREADS", "1"), "-verbose", "0"] + extra, check=True)
        train_s = time.time() - t0
        scores = {}
        for name, split in (("dev", dv), ("test", te)):
            inf = os.path.join(tmp, name + ".txt")
            with open(inf, "w") as f:
                for text, _ in split:
                    f.write(prep(text) + "\n")
            t0 = time.time()
            out = subprocess.run(["fasttext", "predict-prob", model + ".bin", inf, "-1", "0.0"],
                                 check=True, capture_output=True, text=True).stdout
            dt = time.time() - t0
            rows = []
            for line in out.splitlines():
                s = [0.0] * 28
                tok = line.split()
                for i in range(0, len(tok) - 1, 2):
                    s[int(tok[i][len("__label__"):])] = float(tok[i + 1])
                rows.append(s)
            scores[name] = (rows, dt)
    thr = tune_thresholds(scores["dev"][0], [l for _, l in dv])
    res = report(scores["test"][0], [l for _, l in te], thr, data)
    res.update(model="fasttext-cli", train_seconds=round(train_s, 2),
               test_texts_per_second=round(len(te) / scores["test"][1]), args=" ".join(extra))
    print(json.dumps(res))

if __name__ == "__main__":
    main()
