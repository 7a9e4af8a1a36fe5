"""Processing job: one-hot encode the abalone data and split it into train/validation/test.

Container contract: input CSVs under /opt/ml/processing/input, outputs written to
/opt/ml/processing/{train,validation,test}/ (uploaded by SageMaker to the step's outputs).
The label (rings) is the first column and files have no header, as the training script expects.
"""

from __future__ import annotations

import argparse
import glob
import os

import numpy as np
import pandas as pd

COLUMNS = [
    "sex",
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
    "rings",
]
SEXES = ("F", "I", "M")
FEATURES = COLUMNS[1:-1] + [f"sex_{s}" for s in SEXES]


def read_input(input_dir: str) -> pd.DataFrame:
    paths = sorted(glob.glob(os.path.join(input_dir, "*.csv")))
    if not paths:
        raise SystemExit(f"no CSV files in {input_dir}")
    frames = [pd.read_csv(p, header=None, names=COLUMNS) for p in paths]
    return pd.concat(frames, ignore_index=True)


def encode(frame: pd.DataFrame) -> pd.DataFrame:
    """Label first, numeric features, then one column per sex (fixed order, all present)."""
    encoded = frame[COLUMNS[1:-1]].astype(float).copy()
    for sex in SEXES:
        encoded[f"sex_{sex}"] = (frame["sex"] == sex).astype(float)
    encoded.insert(0, "rings", frame["rings"].astype(float))
    return encoded


def split(frame: pd.DataFrame, *, seed: int, train: float, validation: float) -> dict[str, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(frame))
    shuffled = frame.iloc[order].reset_index(drop=True)
    n_train = int(round(train * len(frame)))
    n_validation = int(round(validation * len(frame)))
    return {
        "train": shuffled.iloc[:n_train],
        "validation": shuffled.iloc[n_train : n_train + n_validation],
        "test": shuffled.iloc[n_train + n_validation :],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-dir", default="/opt/ml/processing")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--train-fraction", type=float, default=0.7)
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    args = parser.parse_args(argv)

    frame = encode(read_input(os.path.join(args.base_dir, "input")))
    parts = split(
        frame, seed=args.seed, train=args.train_fraction, validation=args.validation_fraction
    )
    for name, part in parts.items():
        out_dir = os.path.join(args.base_dir, name)
        os.makedirs(out_dir, exist_ok=True)
        part.to_csv(os.path.join(out_dir, f"{name}.csv"), header=False, index=False)
        print(f"{name}: {len(part)} rows")


if __name__ == "__main__":
    main()
