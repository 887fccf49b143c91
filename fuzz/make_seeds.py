#!/usr/bin/python3
"""Writes small seed files for fuzz/fuzz_safetensors.c and fuzz/fuzz_ckpt.c.

The files use the same formats as the real TabPFN checkpoints, written by hand:
* safetensors: u64 LE header length, JSON header, raw LE data (as in the test data README).
* .ckpt: a torch.save zip archive (<name>/data.pkl, <name>/data/<key>, <name>/version).
  torch is not needed: data.pkl is written by the standard pickle module (protocol 2,
  like torch.save) against stand-in 'torch' / 'torch._utils' modules, so the opcodes and
  globals are exactly what torch emits (GLOBAL, BINPERSID, REDUCE, BINPUT/BINGET, ...).

Besides valid seeds, a few hostile ones (prefixed bad_) are written; tests/test_checkpoint.c
checks that each fails with its specific message. raw_*.pkl seeds are bare pickles: the
ckpt fuzz target wraps non-zip input into an archive (with a correct CRC) that supplies
storages '0' (64 x f32) and '1' (8 x f16), so mutations reach the pickle interpreter.

Run from the repository root:  /usr/bin/python3 fuzz/make_seeds.py
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ST_DIR = os.path.join(HERE, "corpus", "safetensors")
CK_DIR = os.path.join(HERE, "corpus", "ckpt")

CONFIG = {"emsize": 4, "nlayers": 1, "nhead": 1, "features_per_group": 2, "max_num_classes": 3,
          "seed": 0, "dropout": 0.0, "encoder_type": "linear", "dag_pos_enc_dim": None,
          "nan_handling_enabled": True}


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- safetensors
def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes) in data order."""
    header, blob = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def f32(vals):
    return struct.pack("<%df" % len(vals), *vals)


def make_safetensors_seeds():
    w = [0.5 * i - 3.0 for i in range(12)]
    write(os.path.join(ST_DIR, "small_f32.safetensors"), safetensors(
        [("a.weight", "F32", [3, 4], f32(w)), ("a.bias", "F32", [3], f32([1.0, -2.0, 0.25]))],
        {"config": json.dumps(CONFIG), "format": "pt"}))
    write(os.path.join(ST_DIR, "mixed_dtypes.safetensors"), safetensors(
        [("h", "F16", [4], struct.pack("<4e", 1.0, -0.5, 65504.0, 6e-8)),
         ("b", "BF16", [2], struct.pack("<2H", 0x3F80, 0xC040)),
         ("d", "F64", [2], struct.pack("<2d", 1.5, -1e-3)),
         ("empty", "F32", [0, 5], b""),
         ("scalar", "F32", [], f32([7.0]))]))
    write(os.path.join(ST_DIR, "bad_dtype.safetensors"), safetensors([("i", "I64", [2], struct.pack("<2q", 1, 2))]))


# ---------------------------------------------------------------- torch pickles
def fake_torch():
    """Stand-in modules so that pickle writes torch's global names."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    torch._utils = utils
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("never called")

    def _rebuild_parameter(*args):
        raise RuntimeError("never called")

    for fn in (_rebuild_tensor_v2, _rebuild_parameter):
        fn.__module__ = "torch._utils"
        fn.__qualname__ = fn.__name__
        setattr(utils, fn.__name__, fn)
    for name in ("FloatStorage", "HalfStorage", "LongStorage"):
        cls = type(name, (), {"__module__": "torch", "__qualname__": name})
        setattr(torch, name, cls)
    return torch, utils


TORCH, UTILS = fake_torch()


class Storage:
    def __init__(self, key, stype, numel):
        self.key, self.stype, self.numel = key, stype, numel


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (UTILS._rebuild_tensor_v2, self.args)


class Parameter:
    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce__(self):
        return (UTILS._rebuild_parameter, (self.tensor, True, collections.OrderedDict()))


class Global:
    """Pickles as an arbitrary GLOBAL (for hostile seeds)."""
    def __init__(self, module, name):
        self.module, self.name = module, name


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.stype, obj.key, "cpu", obj.numel)
        return None


def dumps(obj):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


# The storages every seed (and the fuzz target's wrapper) provides.
S0 = Storage("0", TORCH.FloatStorage, 64)
S1 = Storage("1", TORCH.HalfStorage, 8)
S0_BYTES = f32([i * 0.125 - 4.0 for i in range(64)])
S1_BYTES = struct.pack("<8e", *[0.5 * i for i in range(8)])


def ckpt(pkl, storages=((S0, S0_BYTES), (S1, S1_BYTES)), name="archive", method=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        def add(member, data):  # fixed timestamp: reruns give identical files
            z.writestr(zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0)), data, compress_type=method)
        add(name + "/data.pkl", pkl)
        for st, raw in storages:
            add(name + "/data/" + st.key, raw)
        add(name + "/version", b"3\n")
    return buf.getvalue()


def state(sd, config=CONFIG):
    return {"state_dict": sd, "config": config}


def make_ckpt_seeds():
    w = Tensor(S0, 0, [3, 4], [4, 1])
    b = Tensor(S0, 12, [3], [1])
    t = Tensor(S0, 16, [3, 2], [1, 3])  # transposed view of storage[16:22]
    h = Tensor(S1, 2, [2, 2], [2, 1])
    valid = dumps(state({"a.weight": w, "a.bias": b, "a.t": t, "h": h}))
    write(os.path.join(CK_DIR, "small.ckpt"), ckpt(valid))
    write(os.path.join(CK_DIR, "raw_small.pkl"), valid)

    # nn.Module.state_dict(): an OrderedDict with a _metadata attribute (pickled via BUILD),
    # holding Parameters; no config.
    od = collections.OrderedDict([("p", Parameter(Tensor(S0, 4, [2, 2], [2, 1]))), ("q", b)])
    od._metadata = collections.OrderedDict([("", {"version": 1})])
    pk = dumps(od)
    write(os.path.join(CK_DIR, "ordered_params.ckpt"), ckpt(pk))
    write(os.path.join(CK_DIR, "raw_ordered_params.pkl"), pk)

    # Hostile inputs, each with a correct CRC so that the pickle/tensor checks are reached.
    evil = dumps(state({"a": w})).replace(b"ctorch._utils\n_rebuild_tensor_v2\n", b"cos\nsystem\n", 1)
    write(os.path.join(CK_DIR, "bad_global.ckpt"), ckpt(evil))
    write(os.path.join(CK_DIR, "bad_opcode.ckpt"), ckpt(b"\x80\x02}q\x00\x81."))
    s_long = Storage("0", TORCH.LongStorage, 32)
    write(os.path.join(CK_DIR, "bad_dtype.ckpt"), ckpt(dumps(state({"a": Tensor(s_long, 0, [4], [1])}))))
    write(os.path.join(CK_DIR, "bad_view.ckpt"), ckpt(dumps(state({"a": Tensor(S0, 60, [2, 4], [4, 1])}))))
    s_evil = Storage("../0", TORCH.FloatStorage, 64)
    write(os.path.join(CK_DIR, "bad_key.ckpt"), ckpt(dumps(state({"a": Tensor(s_evil, 0, [4], [1])}))))
    cyc = []
    cyc.append(cyc)
    write(os.path.join(CK_DIR, "bad_cycle.ckpt"), ckpt(dumps(state({"a": b}, {"loop": cyc}))))
    write(os.path.join(CK_DIR, "bad_deflate.ckpt"), ckpt(valid, method=zipfile.ZIP_DEFLATED))
    # Regression: an opcode cut off right after its byte (libFuzzer found a stale read).
    write(os.path.join(CK_DIR, "raw_trunc_long1.pkl"), b"\x8a")
    write(os.path.join(CK_DIR, "raw_empty_mark_tuple.pkl"), b"(t.")


if __name__ == "__main__":
    os.makedirs(ST_DIR, exist_ok=True)
    os.makedirs(CK_DIR, exist_ok=True)
    make_safetensors_seeds()
    make_ckpt_seeds()
