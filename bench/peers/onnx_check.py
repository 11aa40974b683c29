#!/usr/bin/python3
"""Run the official ONNX checker (full_check=True: also strict shape inference) on every path given.

Usage: /usr/bin/python3 bench/peers/onnx_check.py FILE.onnx...
Prints one line per file ("ok PATH" or "FAIL PATH: reason") and exits 1 if any file fails,
2 on usage errors or when the onnx package is missing (Debian: apt install python3-onnx).
"""
import sys


def main(paths):
    if not paths:
        print("usage: onnx_check.py FILE.onnx...", file=sys.stderr)
        return 2
    try:
        import onnx
    except ImportError as error:
        print(f"onnx_check: the python onnx package is missing ({error})", file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        try:
            model = onnx.load(path)
            onnx.checker.check_model(model, full_check=True)
            print(f"ok {path} (onnx {onnx.__version__}, ir_version {model.ir_version}, opset {model.opset_import[0].version})")
        except Exception as error:  # the checker raises several exception types
            failed += 1
            reason = str(error).strip().replace("\n", " | ")
            print(f"FAIL {path}: {type(error).__name__}: {reason}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
