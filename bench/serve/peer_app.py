"""The peer: the same guard behind FastAPI + uvicorn with ONNX Runtime, answering POST /v1/moderations in the
same OpenAI shape as `uniguard serve`. One ORT session (THREADS intra-op threads, default 2); requests run in FastAPI's thread
pool (a sync handler), one forward per request: how such a service is usually written.

Usage: venv/bin/python peer_app.py ONNX TOKENIZER_DIR PORT [THREADS]
"""
import sys
import uuid

import numpy as np
import onnxruntime as ort
import uvicorn
from fastapi import FastAPI, HTTPException
from tokenizers import Tokenizer

onnx_path, tok_dir, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
so = ort.SessionOptions()
so.intra_op_num_threads = threads
so.inter_op_num_threads = 1
session = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
tokenizer = Tokenizer.from_file(f"{tok_dir}/tokenizer.json")
tokenizer.enable_truncation(128)
tokenizer.enable_padding()
app = FastAPI()


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/v1/moderations")
def moderations(body: dict):
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(s, str) for s in inputs):
        raise HTTPException(400, "input: expected a string or a list of strings")
    enc = tokenizer.encode_batch(inputs)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    logits = session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    scores = 1.0 / (1.0 + np.exp(logits[:, 0] - logits[:, 1]))
    results = [{"flagged": bool(s >= 0.5), "categories": {"bench": bool(s >= 0.5)},
                "category_scores": {"bench": float(s)}} for s in scores]
    return {"id": f"modr-{uuid.uuid4()}", "model": "guard", "results": results}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
