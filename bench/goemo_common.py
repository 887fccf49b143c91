"""Shared by the GoEmotions baselines: loading, per-label dev thresholds (max F1, the same
sweep as pathos' pth_best_f1_threshold), test report incl. Ekman / sentiment groupings."""
import csv, json, os

def load(path):
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.reader(f, delimiter="\t"):
            rows.append((r[0], [int(x) for x in r[1].split(",")]))
    return rows

def best_threshold(scores, gold):
    pairs = sorted(zip(scores, gold), key=lambda p: -p[0])
    pos = sum(gold)
    best, thr, tp = 0.0, 1e300, 0
    for i, (s, g) in enumerate(pairs):
        tp += g
        if i + 1 < len(pairs) and pairs[i + 1][0] == s:
            continue
        k = i + 1
        den = 2 * tp + (k - tp) + (pos - tp)
        f = 2 * tp / den if den else 0.0
        if f > best:
            best = f
            thr = 0.5 * (s + pairs[i + 1][0]) if i + 1 < len(pairs) else s
    return thr

def tune_thresholds(scores, labels, L=28):
    return [best_threshold([r[l] for r in scores], [int(l in ls) for ls in labels]) for l in range(L)]

def predict(scores, thr):
    out = []
    for r in scores:
        p = {l for l in range(len(thr)) if r[l] >= thr[l]}
        if not p:
            p = {max(range(len(thr)), key=lambda l: r[l])}
        out.append(p)
    return out

def f1s(gold, pred, L):
    per, TP, FP, FN = [], 0, 0, 0
    for l in range(L):
        tp = sum(1 for g, p in zip(gold, pred) if l in g and l in p)
        fp = sum(1 for g, p in zip(gold, pred) if l not in g and l in p)
        fn = sum(1 for g, p in zip(gold, pred) if l in g and l not in p)
        den = 2 * tp + fp + fn
        per.append(2 * tp / den if den else 0.0)
        TP, FP, FN = TP + tp, FP + fp, FN + fn
    den = 2 * TP + FP + FN
    return sum(per) / L, (2 * TP / den if den else 0.0)

def groups(data):
    names = [l.strip() for l in open(os.path.join(data, "emotions.txt"))]
    out = []
    for fn, order in (("ekman_mapping.json", ["anger", "disgust", "fear", "joy", "sadness", "surprise"]),
                      ("sentiment_dict.json", ["positive", "negative", "ambiguous"])):
        m = json.load(open(os.path.join(data, fn)))
        g = {names.index(lab): order.index(k) for k, labs in m.items() for lab in labs}
        g[27] = len(order)
        out.append((g, len(order) + 1))
    return out

def report(test_scores, test_labels, thr, data):
    pred = predict(test_scores, thr)
    gold = [set(l) for l in test_labels]
    mac, mic = f1s(gold, pred, 28)
    res = {"macro_f1": round(mac, 4), "micro_f1": round(mic, 4)}
    for name, (g, G) in zip(("ekman", "sentiment"), groups(data)):
        gm, gi = f1s([{g[l] for l in s} for s in gold], [{g[l] for l in s} for s in pred], G)
        res[name + "_macro_f1"] = round(gm, 4)
        res[name + "_micro_f1"] = round(gi, 4)
    return res
