"""Builds the one model both servers serve: all-MiniLM-L6-v2 + masked mean pooling + Linear(384, 2) with the
peer's seeded head (shared/peer/peer_bench.py's _build_classifier), written twice from the same tensors:
a UniGuard guard directory (model.safetensors + uniguard.json) and an ONNX file for ONNX Runtime.

Usage: venv/bin/python make_guard.py BASE_MODEL_DIR PEER_DIR OUT_DIR
"""
import json
import os
import shutil
import sys

base, peer_dir, out = sys.argv[1:4]
sys.path.insert(0, peer_dir)
from peer_bench import _build_classifier, _setup_torch  # noqa: E402

torch = _setup_torch(2)
from safetensors.torch import load_file, save_file  # noqa: E402

model = _build_classifier(base, None).eval()
guard = os.path.join(out, "guard")
os.makedirs(guard, exist_ok=True)
for name in ("config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
    if os.path.exists(os.path.join(base, name)):
        shutil.copy(os.path.join(base, name), guard)
tensors = load_file(os.path.join(base, "model.safetensors"))
# Mean-pooling guards keep their linear layer under mean_pooling.classifier.* (GuardModel's naming).
tensors["mean_pooling.classifier.weight"] = model.head.weight.detach().contiguous().clone()
tensors["mean_pooling.classifier.bias"] = model.head.bias.detach().contiguous().clone()
save_file(tensors, os.path.join(guard, "model.safetensors"), metadata={"format": "pt"})
meta = {"format": 1, "policy": "bench", "instruction": "", "input_format": "prompt", "head": "mean",
        "labels": ["safe", "unsafe"], "threshold": 0.5, "max_length": 128}
with open(os.path.join(guard, "uniguard.json"), "w") as f:
    json.dump(meta, f)

ids = torch.ones((2, 16), dtype=torch.long)
mask = torch.ones((2, 16), dtype=torch.long)
torch.onnx.export(model, (ids, mask), os.path.join(out, "guard.onnx"), dynamo=False, opset_version=17,
                  input_names=["input_ids", "attention_mask"], output_names=["logits"],
                  dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                "logits": {0: "batch"}})
print(json.dumps({"guard": guard, "onnx": os.path.join(out, "guard.onnx")}))
