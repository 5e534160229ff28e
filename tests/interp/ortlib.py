"""tests/interp/ortlib.py - what ort-diff and ort-layers share: qir-run's
file names for values, exposing inner ONNX values as graph outputs, and
finding the qir value that computes an ONNX value."""
import re

import onnx


def file_name(name):
    """The .npy file name qir-run and ort-run.js give a value: '/', ':',
    '\\' become '_'; over 200 bytes, the first 180 and '-' + the FNV-1a hash
    of the whole name."""
    data = name.encode()
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xffffffff
    base = data[:180].decode('latin1') if len(data) > 200 else name
    base = re.sub(r'[/:\\]', '_', base)
    if len(data) > 200:
        base += '-%08x' % h
    return base + '.npy'


def widen(model, out_path, names=None):
    """Saves MODEL (a path) to OUT_PATH with the float values NAMES (all
    float node outputs when None) added as graph outputs.  Raises KeyError
    for a name no node computes."""
    m = onnx.shape_inference.infer_shapes(onnx.load(model))
    types = {v.name: v.type.tensor_type.elem_type for v in m.graph.value_info}
    known = {o.name for o in m.graph.output}
    computed = [out for node in m.graph.node for out in node.output if out]
    if names is not None:
        missing = [n for n in names if n not in computed]
        if missing:
            raise KeyError(missing[0])
        computed = names
    for out in computed:
        if out not in known and types.get(out) == onnx.TensorProto.FLOAT:
            m.graph.output.append(onnx.helper.make_tensor_value_info(out, onnx.TensorProto.FLOAT, None))
            known.add(out)
    onnx.save(m, out_path)


def qir_values(qir_text):
    """(qir value name, op name, ONNX name) of every op of an imported
    module that records its ONNX name, in order."""
    return re.findall(r'^\s*%(\S+) = ([a-z_0-9.]+)\(.*?onnx\.name = "([^"]+)"', qir_text, re.M)
