"""Finds where ONNX Runtime's run of a quantized module's export first
departs from qir-run, layer by layer (docs/ONNX.md, "Quantized modules").

usage: qdq-layers.py MODEL.onnx QIR_DUMP_DIR ORT_DIR [--graph-opt=LEVEL]
                     [--show=N] IN0.npy [IN1.npy ...]

QIR_DUMP_DIR is `qir-run MODEL.qir --dump-dir`.  Every tensor of the ONNX
model whose name qir-run dumped becomes a graph output (types from ONNX
shape inference); ort-run.js writes them to ORT_DIR.  The report lists, in
graph order, the tensors that differ: the largest difference (integer
units for quantized storage, absolute for floats) and the fraction of
elements that differ; the first of them is where the two part."""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import shape_inference


def file_name(name):
    # ort-run.js / qir-run: '/', ':', '\\' -> '_' (long names aside)
    for ch in '/:\\':
        name = name.replace(ch, '_')
    return name + '.npy'


def add_outputs(model, dumped):
    inferred = shape_inference.infer_shapes(model)
    types = {vi.name: vi for vi in inferred.graph.value_info}
    have = {o.name for o in model.graph.output}
    order = []
    for node in model.graph.node:
        for out in node.output:
            if file_name(out) in dumped and out not in have and out in types:
                model.graph.output.append(types[out])
                order.append(out)
    return order


def main(argv):
    opts = [a for a in argv if a.startswith('--')]
    args = [a for a in argv if not a.startswith('--')]
    graph_opt = [o for o in opts if o.startswith('--graph-opt=')]
    show = int(next((o[7:] for o in opts if o.startswith('--show=')), 10))
    model_path, qir_dir, ort_dir, inputs = args[0], args[1], args[2], args[3:]
    model = onnx.load(model_path)
    dumped = set(os.listdir(qir_dir))
    order = add_outputs(model, dumped)
    os.makedirs(ort_dir, exist_ok=True)
    tapped = os.path.join(ort_dir, 'tapped.onnx')
    onnx.save(model, tapped)
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run(['node', os.path.join(here, 'ort-run.js')] + graph_opt +
                   [tapped, ort_dir] + inputs, check=True,
                   stdout=subprocess.DEVNULL)
    differ = 0
    for name in order:
        f = file_name(name)
        if not os.path.exists(os.path.join(ort_dir, f)):
            continue
        a = np.load(os.path.join(qir_dir, f))
        b = np.load(os.path.join(ort_dir, f))
        if a.shape != b.shape:
            continue
        d = np.abs(a.astype(np.float64) - b.astype(np.float64))
        if not d.size or d.max() == 0:
            continue
        differ += 1
        if differ <= show:
            print('%s %s: max difference %.6g, %.4f%% of %d elements differ' % (
                name, a.dtype, d.max(), 100.0 * (d > 0).mean(), d.size))
    print('%d of %d compared tensors differ' % (differ, len(order)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
