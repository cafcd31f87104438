"""Training and evaluation of the digit CNN (``python -m train``, ``python -m train.evaluate``)."""
