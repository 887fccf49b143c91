#!/usr/bin/python3
"""TabPFN v2 classifier forward pass in PyTorch: the same-machine speed reference for pathos.

Written from shared/testdata/tabpfn-v2/README.md ("Forward pass") and src/tabpfn/forward.c;
no code from the TabPFN project.  It evaluates the reference call
model(X_full[R,1,F], y_train[N]) -> [T,10] in float32 with plain torch ops, the way the
stored anchor (timings.json) ran it under torch 1.13: every row and every token through all
12 blocks, unfused math attention softmax(q k^T / sqrt(d)) v with matmuls, and for the test
rows' multi-query item attention the K/V head 0 repeated to all 6 heads (repeat_interleave).

  bench/tabpfn_torch.py [--data DIR] [--cases a,b,c,d]          validate against logits_f64
  bench/tabpfn_torch.py [--data DIR] --time CASE [--reps 5]      validate CASE, then time it

Timing follows timings.json: torch.set_num_threads(2), torch.inference_mode(), model loaded,
1 warm-up (the validation run) then REPS timed runs (time.perf_counter), median.  Prints
"torch_forward_s CASE SECONDS" (machine-readable) only when the case validates
(max |logits - logits_f64| <= 2e-5).
"""
import argparse
import json
import math
import os
import statistics
import struct
import sys
import time

import torch
import torch.nn.functional as F

TOL = 2e-5
SCALER_EPS = 1.1920928955078125e-07  # float32 eps, as the float32 model adds it
LN_EPS = 1e-5
CASES = {"a": (40, 10, 5), "b": (120, 30, 13), "c": (300, 100, 50), "d": (1000, 200, 100)}


def default_data_dir():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    shared = os.environ.get("PATHOS_SHARED_DIR", os.path.join(root, "..", "shared"))
    return os.path.join(shared, "testdata", "tabpfn-v2")


def read_f32(path, shape):
    with open(path, "rb") as f:
        buf = bytearray(f.read())
    return torch.frombuffer(buf, dtype=torch.float32).reshape(shape).clone()


def read_f64(path, shape):
    with open(path, "rb") as f:
        buf = bytearray(f.read())
    return torch.frombuffer(buf, dtype=torch.float64).reshape(shape).clone()


def load_safetensors(path):
    """Plain-Python safetensors reader: u64 LE header length, JSON header, raw LE data."""
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen].decode("utf-8"))
    data = bytearray(raw[8 + hlen:])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{name}: dtype {info['dtype']} (only F32 expected)")
        a, b = info["data_offsets"]
        t = torch.frombuffer(data[a:b], dtype=torch.float32) if b > a else torch.empty(0)
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors, header.get("__metadata__", {})


class TabPFNv2:
    def __init__(self, data_dir):
        w, meta = load_safetensors(os.path.join(data_dir, "model_random.safetensors"))
        with open(os.path.join(data_dir, "config.json")) as f:
            cfg = json.load(f)
        if "config" in meta:  # the checkpoint's own copy must agree
            mc = json.loads(meta["config"])
            for k in ("emsize", "nlayers", "nhead", "features_per_group", "max_num_classes", "seed"):
                if mc.get(k) != cfg.get(k):
                    raise ValueError(f"config.json and safetensors metadata disagree on {k}")
        self.E, self.L, self.H = cfg["emsize"], cfg["nlayers"], cfg["nhead"]
        self.D, self.FG, self.seed = self.E // self.H, cfg["features_per_group"], cfg["seed"]
        # The feature projection is found by pattern (its index shifts with remove_duplicate_features).
        enc = [k for k in w if k.startswith("encoder.") and k.endswith(".layer.weight")]
        if len(enc) != 1:
            raise ValueError(f"expected one encoder.<i>.layer.weight, found {enc}")
        self.enc_w = w[enc[0]]  # (E, 2*FG): [x_0..x_{FG-1}, ind_0..ind_{FG-1}]
        self.y_w, self.y_b = w["y_encoder.2.layer.weight"], w["y_encoder.2.layer.bias"]
        self.pe_w = w["feature_positional_embedding_embeddings.weight"]  # (E, 48)
        self.pe_b = w["feature_positional_embedding_embeddings.bias"]
        self.d1_w, self.d1_b = w["decoder_dict.standard.0.weight"], w["decoder_dict.standard.0.bias"]
        self.d2_w, self.d2_b = w["decoder_dict.standard.2.weight"], w["decoder_dict.standard.2.bias"]
        E = self.E
        self.layers = []
        for i in range(self.L):
            p = f"transformer_encoder.layers.{i}."
            fq = w[p + "self_attn_between_features._w_qkv"]  # (3, H, D, E): [s, head, d, in]
            iq = w[p + "self_attn_between_items._w_qkv"]
            self.layers.append({
                # nn.Linear convention (out, in); out index = s*E + head*D + d
                "f_qkv": fq.reshape(3 * E, E).contiguous(),
                # _w_out (H, D, E) is [head, d, out]: out = o_flat @ this
                "f_out": w[p + "self_attn_between_features._w_out"].reshape(E, E).contiguous(),
                "i_qkv": iq.reshape(3 * E, E).contiguous(),
                "i_out": w[p + "self_attn_between_items._w_out"].reshape(E, E).contiguous(),
                "w1": w[p + "mlp.linear1.weight"],
                "w2": w[p + "mlp.linear2.weight"],
            })

    # ------------------------------------------------------------ preprocessing (steps 1-10)
    def encode(self, X, y, N):
        """Steps 1-10 as forward.c does them (statistics in float64, masks on float32 values).
        X: [R, F] float32, y: [N] float32.  Returns the token grid [R, C, E] float32."""
        R, Fn = X.shape
        FG, E = self.FG, self.E
        G = (Fn + FG - 1) // FG
        S = G * FG
        Xp = torch.zeros(R, S, dtype=torch.float32)  # step 1: zero-pad to G*FG columns
        Xp[:, :Fn] = X
        # Step 2: a slot is constant if every row equals row 0 (NaN never equals), over all rows.
        nc2 = (Xp[1:] != Xp[0:1]).any(dim=0) if R > 1 else torch.zeros(S, dtype=torch.bool)
        # Non-constant slots move to the front of their group, in order; freed slots are empty.
        src = torch.full((S,), -1, dtype=torch.long)
        for g in range(G):
            k = 0
            for j in range(FG):
                if bool(nc2[g * FG + j]):
                    src[g * FG + k] = g * FG + j
                    k += 1
        valid = src >= 0
        xs = torch.where(valid, Xp[:, src.clamp(min=0)], torch.zeros((), dtype=torch.float32))  # [R, S]
        # Step 3: indicators on the reordered raw values.
        ind = torch.zeros(R, S, dtype=torch.float64)
        ind = torch.where(torch.isnan(xs), torch.tensor(-2.0, dtype=torch.float64), ind)
        ind = torch.where(xs == math.inf, torch.tensor(2.0, dtype=torch.float64), ind)
        ind = torch.where(xs == -math.inf, torch.tensor(4.0, dtype=torch.float64), ind)
        # Step 4: impute non-finite values with the mean of the finite train values (0 if none).
        xd = xs.double()
        fin = torch.isfinite(xd)
        fin_tr = fin[:N]
        cnt = fin_tr.sum(dim=0)
        ssum = torch.where(fin_tr, xd[:N], torch.zeros((), dtype=torch.float64)).sum(dim=0)
        imp = torch.where(cnt > 0, ssum / cnt.clamp(min=1), torch.zeros((), dtype=torch.float64))
        imp = torch.where(valid, imp, torch.zeros((), dtype=torch.float64))
        xi = torch.where(fin, xd, imp.expand(R, S))
        # Step 5: standard scaling with train statistics (ddof 1), eps on the std, clip.
        mu = xi[:N].sum(dim=0) / N
        var = ((xi[:N] - mu) ** 2).sum(dim=0) / max(N - 1, 1)
        sd = var.sqrt()
        sd = torch.where((sd == 0) | torch.tensor(N == 1), torch.ones((), dtype=torch.float64), sd)
        mu = torch.where(valid, mu, torch.zeros((), dtype=torch.float64))
        sd = torch.where(valid, sd, torch.ones((), dtype=torch.float64))
        z = ((xi - mu) / (sd + SCALER_EPS)).clamp(-100.0, 100.0)
        # Step 6: the mask again on the scaled values (compared as float32), over all rows;
        # rescale each group by sqrt(FG / used) evaluated in float32; constant slots -> 0.
        z32 = z.float()
        nc6 = ((z32[1:] != z32[0:1]).any(dim=0) if R > 1 else torch.zeros(S, dtype=torch.bool)) & valid
        used = nc6.reshape(G, FG).sum(dim=1).clamp(min=1)
        fac = torch.sqrt(torch.tensor(float(FG), dtype=torch.float32) / used.float()).double()  # [G]
        z = torch.where(nc6, z * fac.repeat_interleave(FG), torch.zeros((), dtype=torch.float64))
        # Step 7: v = [x_0..x_{FG-1}, ind_0..ind_{FG-1}] per group, h = W_x v.
        v = torch.cat([z.reshape(R, G, FG), ind.reshape(R, G, FG)], dim=2)  # [R, G, 2FG]
        h = v @ self.enc_w.double().t()  # [R, G, E]
        # Step 8: column embeddings from torch's CPU generator seeded with config.seed,
        # regenerated on every call.
        u = torch.randn((G, self.pe_w.shape[1]), generator=torch.Generator().manual_seed(self.seed))
        colemb = u.double() @ self.pe_w.double().t() + self.pe_b.double()  # [G, E]
        h = h + colemb
        # Step 9: target token.  Train labels -> rank among the unique train labels; test rows
        # get the train-label mean densified the same way and the missing indicator -2.
        yd = y.double()
        uq = torch.unique(yd)  # sorted
        ydense = (uq.unsqueeze(0) < yd.unsqueeze(1)).sum(dim=1).double()
        yt = float((uq < yd.sum() / N).sum())
        yin = torch.zeros(R, 2, dtype=torch.float64)
        yin[:N, 0] = ydense
        yin[N:, 0] = yt
        yin[N:, 1] = -2.0
        t = yin @ self.y_w.double().t() + self.y_b.double()  # [R, E]
        # Step 10: token grid [R, C = G + 1, E], the target token last.
        return torch.cat([h, t.unsqueeze(1)], dim=1).float().contiguous()

    # ------------------------------------------------------------ blocks (step 11)
    def _heads(self, qkv, n_seq_batch, n_tok):
        """[B, n, 3E] -> q, k, v each [B, H, n, D]."""
        H, D = self.H, self.D
        qkv = qkv.reshape(n_seq_batch, n_tok, 3, H, D).permute(2, 0, 3, 1, 4)
        return qkv[0], qkv[1], qkv[2]

    @staticmethod
    def _attend(q, k, v, scale):
        """Unfused math attention: softmax(q k^T / sqrt(d)) v."""
        s = torch.matmul(q, k.transpose(-2, -1)) * scale
        return torch.matmul(torch.softmax(s, dim=-1), v)

    def feature_attention(self, ly, x):
        R, C, E = x.shape
        q, k, v = self._heads(F.linear(x, ly["f_qkv"]), R, C)  # [R, H, C, D]
        o = self._attend(q, k, v, 1.0 / math.sqrt(self.D))
        o = o.transpose(1, 2).reshape(R, C, E)
        return F.layer_norm(x + torch.matmul(o, ly["f_out"]), (E,), eps=LN_EPS)

    def item_attention(self, ly, x, N):
        """Within each column, over rows: train rows attend to all train rows (6 heads); test
        rows attend to the train rows' K/V head 0 only, repeated to the 6 query heads."""
        R, C, E = x.shape
        H, D = self.H, self.D
        xt = x.transpose(0, 1)  # [C, R, E]
        q = F.linear(xt, ly["i_qkv"][:E]).reshape(C, R, H, D).transpose(1, 2)  # [C, H, R, D]
        kv = F.linear(xt[:, :N], ly["i_qkv"][E:]).reshape(C, N, 2, H, D).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]  # [C, H, N, D]
        scale = 1.0 / math.sqrt(D)
        o_tr = self._attend(q[:, :, :N], k, v, scale)
        if R > N:
            k0 = k[:, 0:1].repeat_interleave(H, dim=1)
            v0 = v[:, 0:1].repeat_interleave(H, dim=1)
            o_te = self._attend(q[:, :, N:], k0, v0, scale)
            o = torch.cat([o_tr, o_te], dim=2)
        else:
            o = o_tr
        o = o.permute(2, 0, 1, 3).reshape(R, C, E)  # [C, H, R, D] -> [R, C, H*D]
        return F.layer_norm(x + torch.matmul(o, ly["i_out"]), (E,), eps=LN_EPS)

    def mlp(self, ly, x):
        E = x.shape[-1]
        h = F.gelu(F.linear(x, ly["w1"]))  # exact erf GELU
        return F.layer_norm(x + F.linear(h, ly["w2"]), (E,), eps=LN_EPS)

    def __call__(self, X_full, y_train):
        """X_full [R, 1, F] float32 (train rows first), y_train [N] float32 -> logits [T, 10]."""
        X = X_full[:, 0, :]
        N = y_train.shape[0]
        x = self.encode(X, y_train, N)
        for ly in self.layers:
            x = self.feature_attention(ly, x)
            x = self.item_attention(ly, x, N)
            x = self.mlp(ly, x)
        z = x[N:, -1, :]  # the test rows' target tokens
        return F.linear(F.gelu(F.linear(z, self.d1_w, self.d1_b)), self.d2_w, self.d2_b)


def load_case(data_dir, c):
    d = os.path.join(data_dir, f"case_{c}")
    with open(os.path.join(d, "case.json")) as f:
        cj = json.load(f)
    N, T, Fn = cj["n_train"], cj["n_test"], cj["n_features"]
    X = read_f32(os.path.join(d, "X.bin"), (N + T, Fn))
    y = read_f32(os.path.join(d, "y_train.bin"), (N,))
    ref = read_f64(os.path.join(d, "logits_f64.bin"), (T, 10))
    return X.unsqueeze(1), y, ref


def validate(model, data_dir, c):
    X, y, ref = load_case(data_dir, c)
    with torch.inference_mode():
        out = model(X, y)
    err = (out.double() - ref).abs().max().item()
    ok = out.shape == ref.shape and math.isfinite(err) and err <= TOL
    print(f"case {c}: R={X.shape[0]} N={y.shape[0]} F={X.shape[2]}  max |logits - logits_f64| = {err:.3g}"
          f"  {'ok' if ok else 'FAIL (tolerance %g)' % TOL}", flush=True)
    return ok, X, y


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=default_data_dir(), help="shared/testdata/tabpfn-v2 directory")
    ap.add_argument("--cases", default="a,b,c,d", help="cases to validate (default a,b,c,d)")
    ap.add_argument("--time", metavar="CASE", choices=sorted(CASES), help="validate then time this case")
    ap.add_argument("--reps", type=int, default=5, help="timed runs after one warm-up (default 5)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2, as the anchor)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = TabPFNv2(a.data)
    if a.time is None:
        ok = True
        for c in a.cases.split(","):
            ok &= validate(model, a.data, c.strip())[0]
        return 0 if ok else 1
    ok, X, y = validate(model, a.data, a.time)
    if not ok:
        print(f"torch: case {a.time} failed validation; no timing reported", file=sys.stderr)
        return 1
    runs = []  # the validation run above was the warm-up
    with torch.inference_mode():
        for _ in range(a.reps):
            t0 = time.perf_counter()
            model(X, y)
            runs.append(time.perf_counter() - t0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; runs "
          + ", ".join(f"{r:.3f}" for r in runs), flush=True)
    print(f"torch_forward_s {a.time} {statistics.median(runs):.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
