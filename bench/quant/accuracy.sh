#!/bin/sh
# bench/quant/accuracy.sh BUILD_DIR [WORK_DIR] - the int8 accuracy of the
# four development models, for the closing note of the quantization work.
#
# Each model is imported, canonicalized and fused, calibrated on the first
# 16 photographs of the calibration folder (sorted by name) with each
# method, quantized (default scheme asym-i8), and compared with the float
# model on the other photographs by precision-analysis: each cell gives
# the pooled / median / worst cosine of the worst output (STAT), then the
# task view (below), pooled / worst sample.  The
# run leaves the
# per-layer tables (pa-*.txt) and the auto-mixed-precision report in
# WORK_DIR/<model>/.  The last column is auto-mixed-precision (target
# 0.999, calibrated with minmax, searched on the calibration photographs; PP-OCRv4 det on those with text),
# evaluated the same way, with the count of int16 and float layers.  Not a test: it takes minutes.
#
#   CALIB_DIR  the photographs (default: ../shared/data/calib beside the tree)
#   METHODS    the methods (default: "minmax percentile mse kl")
#   MODELS     a subset of: blazeface mlsd ppocr-cls ppocr-det
#   AMP        0: skip the auto-mixed-precision column
#   EQUALIZE   1: run cross-layer equalization (the equalize pass, by
#              weight ranges) after fuse, before calibrating (method=auto
#              also tries the model equalized by its activation ranges)
#   BIASCORR   0: calibrate without bias correction (default 1, as
#              calibrate does by default); the auto-mixed-precision column
#              starts from the same calibrated model
#   STAT       what a cell gives: all (default): pooled / median / worst
#              of the worst output; pooled (the cosine over all evaluation
#              samples together), worst (the worst sample's) or median
#              (the median sample's): the worst output first, then each
#              output's
#   AMP_OPTS   more options of auto-mixed-precision (margin=0.0005,
#              criterion=worst-sample...)
set -e
B=$(cd "${1:?usage: accuracy.sh BUILD_DIR [WORK_DIR]}" && pwd)
W=${2:-${TMPDIR:-/tmp}/qir-quant-accuracy}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CALIB_DIR=${CALIB_DIR:-$SRC/../shared/data/calib}
METHODS=${METHODS:-"minmax percentile mse kl"}
MODELS=${MODELS:-"blazeface mlsd ppocr-cls ppocr-det"}
AMP=${AMP:-1}
EQUALIZE=${EQUALIZE:-0}
BIASCORR=${BIASCORR:-1}
STAT=${STAT:-all}
AMP_OPTS=${AMP_OPTS:-}
PY=${PYTHON:-/usr/bin/python3}
mkdir -p "$W/calib" "$W/eval"

# The split: 16 images to calibrate, the others to evaluate.
ls "$CALIB_DIR" | sort | head -16 | while read -r f; do cp "$CALIB_DIR/$f" "$W/calib/"; done
ls "$CALIB_DIR" | sort | tail -n +17 | while read -r f; do cp "$CALIB_DIR/$f" "$W/eval/"; done

model_onnx() {
  case $1 in
  blazeface) echo face_detection_front_128x128_barracuda.onnx ;;
  mlsd) echo mlsd_320x320_tiny.onnx ;;
  ppocr-cls) echo ch_ppocr_mobile_v2.0_cls_infer.onnx ;;
  ppocr-det) echo ch_PP-OCRv4_det_infer.onnx ;;
  esac
}

import_args() {
  case $1 in
  ppocr-cls) echo "--input-shapes=x:1x3x48x192" ;;
  ppocr-det) echo "--input-shapes=x:1x3x640x640" ;;
  esac
}

# PP-OCRv4 det is evaluated on the 4 evaluation photographs with text in
# them (its integer run at 640x640 is slow in the reference interpreter):
# on photographs without text both maps are empty and agree trivially.
DET_EVAL=${DET_EVAL:-"notes.png sudoku.png text_defocus.png leuvenA.png"}
# Its auto-mixed-precision search runs on the 4 calibration photographs
# with text (on the others both maps are empty, the output cosine is that
# of noise, and the search promotes every layer).
DET_SEARCH=${DET_SEARCH:-"board.png box_in_scene.png graf1.png imageTextN.png"}
det_split() {
  case $1 in
  eval)
    mkdir -p "$W/eval-det"
    for f in $DET_EVAL; do cp "$W/eval/$f" "$W/eval-det/"; done
    echo eval-det ;;
  search)
    mkdir -p "$W/search-det"
    for f in $DET_SEARCH; do cp "$W/calib/$f" "$W/search-det/"; done
    echo search-det ;;
  *) echo "$1" ;;
  esac
}

# The sample options of a model for split $2 (calib or eval).  MLSD takes
# a 4th channel, which the image loader does not make: its samples are
# .npy files made by png2npy.py.
samples() {
  case $1 in
  blazeface) echo "data=$W/$2 mean=127.5 std=127.5 nhwc=true" ;;
  ppocr-cls) echo "data=$W/$2 mean=127.5 std=127.5" ;;
  ppocr-det) echo "data=$W/$(det_split $2) mean=123.675:116.28:103.53 std=58.395:57.12:57.375" ;;
  mlsd)
    if [ ! -d "$W/mlsd-$2" ]; then
      $PY "$SRC/bench/quant/png2npy.py" "$W/mlsd-$2" 320 320 "$W/$2"/*.png
    fi
    echo "data=$W/mlsd-$2" ;;
  esac
}

# The task view of each model (precision-analysis task=): the detections
# of BlazeFace's two score outputs (logit > 0, score > 0.5), the PP-OCR classifier's
# class, PP-OCRv4 det's text map binarized at 0.3 (its postprocessing's
# threshold) and MLSD's line centers above 0.1 (its score threshold).
task() {
  case $1 in
  blazeface) echo "task=0:iou:0;1:iou:0" ;;
  ppocr-cls) echo "task=0:argmax" ;;
  ppocr-det) echo "task=0:iou:0.3" ;;
  mlsd) echo "task=scores:iou:0.1" ;;
  esac
}

# ppocr-det runs 640x640 in integer semantics slowly (the reference
# interpreter's integer conv2d): it is evaluated, and searched by
# auto-mixed-precision, on 4 samples.
limit() {
  case $1 in
  ppocr-det) echo "samples=4" ;;
  esac
}

# Worst output cosine of a precision-analysis JSON, then each output's
# (STAT: pooled, or the worst or median sample's; all: the three, as
# pooled / median / worst of the worst output).
cosines() {
  $PY -c 'import json, sys
outs = json.load(open(sys.argv[1]))["outputs"]
keys = {"pooled": "cosine", "worst": "worst_sample_cosine",
        "median": "median_sample_cosine"}
if sys.argv[2] == "all":
    print(" / ".join("%.5f" % min(x[keys[k]] for x in outs)
                     for k in ("pooled", "median", "worst")))
else:
    o = [x[keys[sys.argv[2]]] for x in outs]
    print("%.5f (%s)" % (min(o), " ".join("%.5f" % c for c in o)))
names = {"argmax": "argmax", "iou": "IoU", "topk": "top-k"}
tasks = json.load(open(sys.argv[1])).get("tasks", [])
if tasks:
    print("; " + ", ".join("%s %.4f / %.4f" % (names[t["task"]], t["pooled"], t["worst_sample"])
                          for t in tasks))' "$1" "$STAT" | tr -d '\n'
}

printf '| model | %s | auto-mixed-precision |\n' "$(echo $METHODS | sed 's/ / | /g')"
printf '|---|%s---|\n' "$(for m in $METHODS; do printf -- '---|'; done)"
for model in $MODELS; do
  d=$W/$model
  mkdir -p "$d"
  "$B/qir-translate" --import-onnx "$SRC/models/$(model_onnx $model)" \
    $(import_args $model) -o "$d/model.qir"
  prep=canonicalize,fuse
  [ "$EQUALIZE" = 1 ] && prep=$prep,equalize
  "$B/qir-opt" "$d/model.qir" -pass=$prep -o "$d/float.qir"
  cal=$(samples $model calib)
  ev="$(samples $model eval) $(limit $model)"
  row="| $model |"
  for m in $METHODS; do
    bc=true
    [ "$BIASCORR" = 0 ] && bc=false
    "$B/qir-opt" "$d/float.qir" -pass="calibrate{$cal method=$m progress=false bias-correction=$bc}" -o "$d/c-$m.qir"
    "$B/qir-opt" "$d/c-$m.qir" -pass="precision-analysis{$ev progress=false $(task $model) json=$d/pa-$m.json}" \
      -o /dev/null 2>"$d/pa-$m.txt"
    row="$row $(cosines "$d/pa-$m.json") |"
  done
  if [ "$AMP" = 0 ]; then
    echo "$row - |"
    continue
  fi
  search=$cal
  [ "$model" = ppocr-det ] && search=$(samples $model search)
  "$B/qir-opt" "$d/c-minmax.qir" -pass="auto-mixed-precision{$search $(limit $model) progress=false target_cosine=0.999 $AMP_OPTS config-out=$d/amp.json}" \
    -o "$d/amp.qir" 2>"$d/amp.txt"
  "$B/qir-opt" "$d/c-minmax.qir" -pass="precision-analysis{$ev progress=false $(task $model) config=$d/amp.json json=$d/pa-amp.json}" \
    -o /dev/null 2>"$d/pa-amp.txt"
  n=$($PY -c 'import json, sys
c = [x["data_type"] for x in json.load(open(sys.argv[1]))["layer_configs"]]
print("%d int16, %d float" % (c.count("int16"), c.count("float")))' "$d/amp.json")
  row="$row $(cosines "$d/pa-amp.json"), $n |"
  echo "$row"
done
