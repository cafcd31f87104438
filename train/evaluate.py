"""Write the evaluation report next to a model: ``python -m train.evaluate [--model PATH_OR_NAME]``."""

from __future__ import annotations

import argparse
import sys

from models import DEFAULT_MODEL_PATH
from models.mnist import MnistError
from models.report import write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__)
    parser.add_argument("--model", default=str(DEFAULT_MODEL_PATH), metavar="PATH_OR_NAME",
                        help="a .keras or .h5 model file, or the name of one in models/ (e.g. seed_cnn)")
    args = parser.parse_args(argv)

    from models.catalog import resolve_model
    from models.evaluation import evaluate
    from models.inference import DigitModel, ModelLoadError
    from models.mnist import load_mnist
    from models.robustness import robustness_report

    try:
        model_path = resolve_model(args.model)
        model = DigitModel.load(model_path)
        report = evaluate(model)
        _, _, x_test, y_test = load_mnist()
        report["robustness"] = robustness_report(model.keras_model, x_test, y_test)
    except (ModelLoadError, MnistError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = write_report(model_path, report)
    print(f"wrote {path}: test accuracy {report['test_accuracy']:.4f}, "
          f"{len(report['misclassified'])} misclassified, ECE {report['calibration']['ece']:.4f}, "
          f"MNIST-C mean accuracy {report['robustness']['mean_accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
