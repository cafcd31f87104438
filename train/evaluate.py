"""Write the evaluation report next to a model: ``python -m train.evaluate [--model PATH_OR_NAME]``.

The report includes the MNIST-C robustness section (about half a minute), the explanation
scoreboard (a few minutes) and the not-a-digit detectors' scoreboard (about a minute);
``--only robustness``, ``--only explanations`` or ``--only novelty`` recomputes just that section
into the existing report (after retraining a model, for instance).
"""

from __future__ import annotations

import argparse
import sys

from models import DEFAULT_MODEL_PATH
from models.mnist import MnistError
from models.novelty import novelty_sentences
from models.report import read_report, write_report
from models.scoreboard import recommendation_sentences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__)
    parser.add_argument("--model", default=str(DEFAULT_MODEL_PATH), metavar="PATH_OR_NAME",
                        help="a .keras or .h5 model file, or the name of one in models/ (e.g. seed_cnn)")
    parser.add_argument("--only", choices=["robustness", "explanations", "novelty"], default=None,
                        help="recompute only this section of the existing report")
    args = parser.parse_args(argv)

    from models.catalog import resolve_model
    from models.evaluation import evaluate, explanations
    from models.inference import DigitModel, ModelLoadError
    from models.mnist import load_mnist
    from models.robustness import robustness_report
    from train.nondigits import digit_kind_inputs, nondigit_kind_inputs, novelty_section

    try:
        model_path = resolve_model(args.model)
        model = DigitModel.load(model_path)
        report = (read_report(model_path) if args.only else None) or evaluate(model)
        if args.only in (None, "robustness"):
            _, _, x_test, y_test = load_mnist()
            report["robustness"] = robustness_report(model.keras_model, x_test, y_test)
        if args.only in (None, "explanations"):
            report["explanations"] = explanations(model, progress=lambda step: print(f"scoring {step}", flush=True))
        if args.only in (None, "novelty"):
            print("scoring the not-a-digit detectors", flush=True)
            report["novelty"] = novelty_section(model, digit_kind_inputs(), nondigit_kind_inputs())
            model.use_novelty(detector=report["novelty"]["detector"])
    except (ModelLoadError, MnistError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = write_report(model_path, report)
    print(f"wrote {path}: test accuracy {report['test_accuracy']:.4f}, "
          f"{len(report['misclassified'])} misclassified, ECE {report['calibration']['ece']:.4f}")
    if "robustness" in report:
        print(f"MNIST-C mean accuracy {report['robustness']['mean_accuracy']:.4f}")
    if "explanations" in report:
        print("\n".join(recommendation_sentences(report["explanations"])))
    if "novelty" in report:
        print("\n".join(novelty_sentences(report["novelty"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
