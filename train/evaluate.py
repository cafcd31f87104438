"""Write the evaluation report next to a model: ``python -m train.evaluate [--model PATH]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models import DEFAULT_MODEL_PATH
from models.mnist import MnistError
from models.report import write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    args = parser.parse_args(argv)

    from models.evaluation import evaluate
    from models.inference import DigitModel, ModelLoadError
    from models.mnist import load_mnist
    from models.robustness import robustness_report

    try:
        model = DigitModel.load(args.model)
        report = evaluate(model)
        _, _, x_test, y_test = load_mnist()
        report["robustness"] = robustness_report(model.keras_model, x_test, y_test)
    except (ModelLoadError, MnistError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = write_report(args.model, report)
    print(f"wrote {path}: test accuracy {report['test_accuracy']:.4f}, "
          f"{len(report['misclassified'])} misclassified, ECE {report['calibration']['ece']:.4f}, "
          f"MNIST-C mean accuracy {report['robustness']['mean_accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
