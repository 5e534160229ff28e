# lit configuration for qir's FileCheck regression tests.
import os

import lit.formats

config.name = 'qir'
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = ['.qir', '.test']
config.excludes = ['Inputs', 'lit.cfg.py', 'lit.site.cfg.py', 'README.md']
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qir_obj_root, 'tests', 'lit')

config.environment['PATH'] = os.pathsep.join(
    [config.qir_tools_dir, config.llvm_tools_dir, config.environment['PATH']])
for var in ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'HOME', 'TMPDIR']:
    if var in os.environ:
        config.environment[var] = os.environ[var]
config.environment.setdefault(
    'UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')

config.substitutions.append(('%qir_src', config.qir_src_root))
config.substitutions.append(('%qir_obj', config.qir_obj_root))
config.substitutions.append(('%examples', os.path.join(config.qir_src_root, 'examples')))
config.substitutions.append(('%python', config.python3))

if config.sanitizers == 'yes':
    config.available_features.add('sanitizers')
if config.node:
    config.available_features.add('node')
if config.mlir_opt:
    config.available_features.add('mlir-opt')
models = os.path.join(config.qir_src_root, 'models')
if os.path.isdir(models) and os.listdir(models):
    config.available_features.add('models')
config.substitutions.append(('%models', models))
# Graphviz's libgvc (configure's HAVE_GVC): view-graph can write SVG.
with open(os.path.join(config.qir_obj_root, 'config.h')) as f:
    if '#define HAVE_GVC 1' in f.read():
        config.available_features.add('gvc')
