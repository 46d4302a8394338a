"""The frozen configuration of one ``pinn classify`` run and the measured default recipe per model.

The recipes below were chosen by measurement on the 2-core CPU this project is developed on (see
``benchmarks/classify_*.py``); the notes' models keep the notes' settings (plain SGD with batch 100 for
the digits network, Adam with lr 1e-3 for ten epochs for the CIFAR network).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from pinn import checks
from pinn.choices import Backend, Device, Optimizer, Schedule
from pinn.errors import PinnError
from pinn.vision.backend import NUMPY_MODELS
from pinn.vision.names import Augmentation, DatasetName, ModelName, resolve_model


@dataclass(frozen=True)
class ClassifyConfig:
    """Everything that defines a classification run (saved as config.json in the run folder).

    lr: learning rate eta; l2: strength lambda of the penalty lambda * sum ||W||^2 over convolution
    kernels and dense weights, added to the mean cross-entropy (the notes' Keras ``l2(lambda)``);
    warmup_epochs: linear ramp of the learning rate from lr/10 before ``schedule`` takes over;
    schedule steps once per batch (reduce-on-plateau once per epoch on the validation loss);
    shift/flip/cutout: augmentation (see :class:`Augmentation`); val_fraction: stratified share of the
    training images held out for validation and early stopping; patience: epochs without a better
    validation accuracy before stopping (0 = never stop early; when on, the best epoch's weights are kept);
    seed: initialisation, batch order, augmentation and dropout; split_seed: the digits train/test split;
    batch_size: images per optimizer step summed over all torchrun processes; backend: the framework that
    computes the network and its training step (see :mod:`pinn.vision.backend`).
    """

    dataset: DatasetName
    model: ModelName
    epochs: int
    batch_size: int
    optimizer: Optimizer
    lr: float
    schedule: Schedule
    warmup_epochs: float = 0.0
    momentum: float = 0.9
    l2: float = 0.0
    dropout: float = 0.0
    label_smoothing: float = 0.0
    shift: int = 0
    flip: bool = False
    cutout: int = 0
    val_fraction: float = 0.1
    patience: int = 0
    seed: int = 0
    split_seed: int = 0
    device: Device = Device.auto
    amp: bool = True
    data_dir: str | None = None
    backend: Backend = Backend.torch

    @property
    def augmentation(self) -> Augmentation:
        return Augmentation(self.shift, self.flip, self.cutout)

    def check(self) -> "ClassifyConfig":
        """Raise PinnError (naming the option) for values no run can use; return self."""
        for name, kind in _ENUM_FIELDS.items():
            if not isinstance(getattr(self, name), kind):
                raise PinnError(f"--{name} must be one of {', '.join(m.value for m in kind)}, got "
                                f"{getattr(self, name)!r}")
        for name in ("flip", "amp"):
            if not isinstance(getattr(self, name), bool):
                raise PinnError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.data_dir is not None and not isinstance(self.data_dir, str):
            raise PinnError(f"--data-dir must be a folder name, got {self.data_dir!r}")
        checks.count("epochs", self.epochs, 1, MAX_EPOCHS)
        checks.count("batch_size", self.batch_size, 1, 1_000_000)
        checks.positive("lr", self.lr, 1e12)
        checks.number("warmup", self.warmup_epochs, 0.0, MAX_EPOCHS)
        checks.number("momentum", self.momentum, 0.0, 1.0, strict_high=True)
        checks.number("l2", self.l2, 0.0, 1e3)
        checks.number("dropout", self.dropout, 0.0, 1.0, strict_high=True)
        checks.number("label_smoothing", self.label_smoothing, 0.0, 1.0, strict_high=True)
        checks.count("shift", self.shift, 0, 64)
        checks.count("cutout", self.cutout, 0, 64)
        checks.number("val_fraction", self.val_fraction, 0.0, 0.9, strict_high=True)
        checks.count("patience", self.patience, 0, MAX_EPOCHS)
        checks.seed("seed", self.seed)
        checks.seed("split_seed", self.split_seed)
        if self.optimizer in (Optimizer.lbfgs, Optimizer.adam_lbfgs):
            raise PinnError("L-BFGS needs full-batch deterministic losses: use sgd, sgd-momentum, nesterov, adam "
                            "or adamw for image classification")
        if self.model is ModelName.default:
            raise PinnError("model must be resolved (use default_config)")
        if self.backend is Backend.numpy and self.model.value not in NUMPY_MODELS:
            raise PinnError(f"--backend numpy builds {', '.join(NUMPY_MODELS)}; {self.model.value} needs "
                            "--backend torch")
        if self.backend is Backend.numpy and self.device is Device.cuda:
            raise PinnError("--backend numpy computes on the CPU: drop --device cuda")
        return self


MAX_EPOCHS = 100_000
"""More epochs than this is a mistake, not a run (the strongest recipe needs 30)."""


_SETTINGS = {
    # notes: SGD, batch 100, 100 epochs, eta from the grid (0.1 is its best row); no held-out set.
    ModelName.notes_digits: dict(epochs=100, batch_size=100, optimizer=Optimizer.sgd, lr=0.1,
                                 schedule=Schedule.constant, val_fraction=0.0),
    # notes: Adam with Keras' defaults (lr 1e-3, batch 32) for 10 epochs.
    ModelName.notes_cifar: dict(epochs=10, batch_size=32, optimizer=Optimizer.adam, lr=1e-3,
                                schedule=Schedule.constant, val_fraction=0.0),
    # 9 runs (split seeds 0-2 x seeds 0-2): 99.78 % mean, 99.44 % worst; 1-pixel shifts cost 0.4 points on 8x8.
    ModelName.digits_cnn: dict(epochs=40, batch_size=32, optimizer=Optimizer.adamw, lr=3e-3,
                               schedule=Schedule.cosine, warmup_epochs=1.0, l2=1e-4, dropout=0.2,
                               val_fraction=0.0),
    # 25 epochs: 93.77 % in 454 s on 2 cores (15 epochs: 93.44 % / 93.37 %, seeds 0 / 1).
    ModelName.fashion_cnn: dict(epochs=25, batch_size=128, optimizer=Optimizer.adamw, lr=3e-3,
                                schedule=Schedule.cosine, warmup_epochs=1.0, l2=5e-5, dropout=0.2,
                                label_smoothing=0.1, shift=2, flip=True, val_fraction=0.05),
    ModelName.cifar_resnet: dict(epochs=30, batch_size=128, optimizer=Optimizer.nesterov, lr=0.1,
                                 schedule=Schedule.cosine, warmup_epochs=2.0, l2=2.5e-4, label_smoothing=0.1,
                                 shift=4, flip=True, cutout=8, val_fraction=0.1),
}


def default_config(dataset: DatasetName, model: ModelName = ModelName.default,
                   **overrides: Any) -> ClassifyConfig:
    """The measured recipe for (dataset, model), with ``overrides`` (None values ignored) applied."""
    try:
        dataset = DatasetName(dataset)
        name = resolve_model(ModelName(model), dataset)
    except ValueError as exc:
        raise PinnError(f"{exc}: data sets are {', '.join(d.value for d in DatasetName)}; models are "
                        f"{', '.join(m.value for m in ModelName)}") from None
    settings: dict[str, Any] = dict(_SETTINGS[name])
    settings.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ClassifyConfig(dataset=dataset, model=name, **_as_enums(settings)).check()
    except TypeError as exc:
        raise PinnError(f"unknown setting: {exc}") from None


_ENUM_FIELDS = {"dataset": DatasetName, "model": ModelName, "optimizer": Optimizer, "schedule": Schedule,
                "device": Device, "backend": Backend}


def _as_enums(values: Mapping[str, Any]) -> dict[str, Any]:
    """Enum-valued fields given as their string values become the enums (ValueError if unknown)."""
    try:
        return {k: (_ENUM_FIELDS[k](v) if k in _ENUM_FIELDS else v) for k, v in values.items()}
    except ValueError as exc:
        raise PinnError(str(exc)) from None


def config_from_json(data: Any, where: str = "config.json") -> ClassifyConfig:
    """Rebuild a config from its config.json: every field type-checked (enums from their values), unknown
    fields ignored (a compare or grid folder records more), the values checked as for a new run."""
    from pinn.runs import from_json

    if not isinstance(data, Mapping):
        raise PinnError(f"{where} is not a classify configuration (expected a JSON object)")
    fields = {f.name for f in dataclasses.fields(ClassifyConfig)}
    plain = {k: v for k, v in data.items() if k in fields}
    missing = [f for f in ("dataset", "model", "epochs", "batch_size", "optimizer", "lr", "schedule") if f not in plain]
    if missing:
        raise PinnError(f"{where} is not a classify configuration (it lacks {', '.join(missing)})")
    return from_json(ClassifyConfig, plain, where).check()
