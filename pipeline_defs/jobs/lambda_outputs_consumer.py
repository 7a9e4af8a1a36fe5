"""Processing job: parse the values a Lambda step passed as arguments, back to their types.

Every argument arrives as a string. Booleans may read ``true``/``false`` (JSON) or
``True``/``False`` (Python); the non-primitive settings arrive as a JSON object read with
``json.loads`` (never ``eval``: the text comes from another system). The resolved values are
written to /opt/ml/processing/output/resolved.json.
"""

from __future__ import annotations

import argparse
import json
import os


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {text!r}")


def parse_settings(text: str) -> dict:
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"settings are not JSON: {error}") from None
    if not isinstance(settings, dict):
        raise argparse.ArgumentTypeError("settings must be a JSON object")
    return settings


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample-count", type=int, required=True)
    parser.add_argument("--run-label", required=True)
    parser.add_argument("--use-gpu", type=parse_bool, required=True)
    parser.add_argument("--learning-rate", type=float, required=True)
    parser.add_argument("--settings-json", type=parse_settings, required=True)
    parser.add_argument("--output-dir", default="/opt/ml/processing/output")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse(argv)
    resolved = {
        "sample_count": args.sample_count,
        "run_label": args.run_label,
        "use_gpu": args.use_gpu,
        "learning_rate": args.learning_rate,
        "settings": args.settings_json,
    }
    os.makedirs(args.output_dir, exist_ok=True)
    with open(os.path.join(args.output_dir, "resolved.json"), "w", encoding="utf-8") as handle:
        json.dump(resolved, handle, sort_keys=True)
    print(json.dumps(resolved, sort_keys=True))
    return resolved


if __name__ == "__main__":
    main()
