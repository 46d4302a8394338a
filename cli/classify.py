"""``pinn classify DATASET`` trains and evaluates a CNN; ``pinn classify evaluate RUN_DIR`` re-scores a run;
``pinn classify compare DATASET`` trains one recipe with the torch and the numpy backend side by side.

One subcommand per data set (digits, fashion-mnist, cifar10) shares the options below; unset options take
the measured recipe of the chosen model. ``--grid-lr`` with ``--grid-l2`` runs the notes' grid search
instead of a single training. ``--backend numpy`` computes the network with the from-scratch NumPy library
(pinn.scratch). Under ``torchrun --nproc-per-node N`` the same command trains data-parallel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, List, Optional

import typer
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from cli.console import console
from cli.options import DryRunOpt, print_dry_run
from pinn.choices import Backend, Device, Optimizer, Schedule
from pinn.errors import PinnError
from pinn.vision.backend import NUMPY_MODELS
from pinn.vision.names import DatasetName, ModelName

SPREAD_OPTIONS = ("--grid-lr", "--grid-l2", "--seeds")


class ClassifyGroup(TyperGroup):
    """Names an unknown data set in one line instead of click's 'No such command'."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and self.get_command(ctx, args[0]) is None:
            choices = ", ".join(d.value for d in DatasetName)
            raise PinnError(f"unknown data set {args[0]!r}: choose one of {choices} (or 'evaluate RUN_DIR', "
                            "'compare DATASET')")
        return super().resolve_command(ctx, args)


def _is_number_list(token: str) -> bool:
    try:
        [float(part) for part in token.split(",") if part]
        return bool(token.strip(","))
    except ValueError:
        return False


class SpreadListCommand(TyperCommand):
    """Lets ``--grid-lr 1e-3 1e-2 0.1`` (or ``1e-3,1e-2``) stand for one ``--grid-lr`` per value."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        out: list[str] = []
        k = 0
        while k < len(args):
            token = args[k]
            name, eq, inline = token.partition("=")
            if name in SPREAD_OPTIONS:
                values = [inline] if eq else []
                k += 1
                while k < len(args) and not args[k].startswith("--") and _is_number_list(args[k]):
                    values.append(args[k])
                    k += 1
                parts = [p for v in values for p in v.split(",") if p]
                out += [x for p in parts for x in (name, p)] if parts else [name]
                continue
            out.append(token)
            k += 1
        return super().parse_args(ctx, out)


app = typer.Typer(cls=ClassifyGroup, no_args_is_help=True,
                  help="Train CNN image classifiers (digits, Fashion-MNIST, CIFAR-10) and evaluate runs.")

ModelOpt = Annotated[ModelName, typer.Option("--model", help="Architecture; default = the strong model of the "
                                             "data set, notes-digits / notes-cifar = the lecture notes' networks.")]
Epochs = Annotated[Optional[int], typer.Option("--epochs", min=1, help="Training epochs (default: the model's recipe; "
                                               "with --resume, the new total).")]
Batch = Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Images per step, over all processes.")]
Opt = Annotated[Optional[Optimizer], typer.Option("--optimizer", help="Optimizer (default: the recipe's).")]
Lr = Annotated[Optional[float], typer.Option("--lr", help="Learning rate eta.")]
Sched = Annotated[Optional[Schedule], typer.Option("--schedule", help="Learning-rate schedule, stepped per batch.")]
Warmup = Annotated[Optional[float], typer.Option("--warmup", min=0.0, help="Epochs of linear warmup from lr/10.")]
L2 = Annotated[Optional[float], typer.Option("--l2", help="L2 strength lambda: loss += lambda * sum ||W||^2.")]
Dropout = Annotated[Optional[float], typer.Option("--dropout", help="Dropout before the last dense layer.")]
Augment = Annotated[Optional[bool], typer.Option("--augment/--no-augment", help="Data augmentation (shifts; flips "
                                                 "and cutout where the recipe has them).")]
ValFraction = Annotated[Optional[float], typer.Option("--val-fraction", help="Share of training images held out "
                                                      "for validation and early stopping.")]
Patience = Annotated[Optional[int], typer.Option("--patience", min=0, help="Stop after this many epochs without "
                                                 "a better validation accuracy and keep the best (0 = off).")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of initialisation, batch order, augmentation, dropout.")]
SplitSeed = Annotated[int, typer.Option("--split-seed", help="digits: seed of the stratified 80/20 train/test split.")]
DeviceOpt = Annotated[Device, typer.Option("--device", help="auto (CUDA if available), cpu or cuda.")]
Amp = Annotated[bool, typer.Option("--amp/--no-amp", help="Mixed precision: fp16/bf16 on CUDA, bf16 on CPUs "
                                    "with native bf16 instructions (AVX512-BF16, AMX).")]
DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Folder with a local copy of the data "
                                                 "(IDX files; CIFAR-10 batches or archive).")]
Out = Annotated[Path, typer.Option("--out", help="Parent folder of the run folder.")]
Resume = Annotated[Optional[Path], typer.Option("--resume", help="Continue the run in this folder from its "
                                                "last checkpoint (its saved settings apply).")]
GridLr = Annotated[Optional[List[float]], typer.Option("--grid-lr", help="Grid search: learning rates eta "
                                                       "(several values after one flag).")]
GridL2 = Annotated[Optional[List[float]], typer.Option("--grid-l2", help="Grid search: L2 strengths lambda.")]
BackendOpt = Annotated[Optional[Backend], typer.Option("--backend", help="torch, or numpy: the from-scratch NumPy "
                                                       f"library (float32, one CPU core; models {', '.join(NUMPY_MODELS)}).")]


def _summary(run_dir: Path, metrics: dict[str, Any]) -> Table:
    table = Table(title=f"pinn classify {metrics['dataset']} ({metrics['model']})", header_style="bold")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    rows = [("backend", metrics.get("backend", "torch")), ("test accuracy", f"{metrics['test_accuracy']:.2%}"),
            ("test errors", f"{metrics['test_errors']} of {metrics['test_images']}"),
            ("test loss", f"{metrics['test_loss']:.4f}")]
    if "epochs_run" in metrics:
        rows += [("epochs", str(metrics["epochs_run"])), ("parameters", f"{metrics['parameters']:,}"),
                 ("images / s (training)", f"{metrics['images_per_second'] or 0:.0f}"),
                 ("precision", metrics["precision"]), ("training time", f"{metrics['train_seconds']:.1f} s"),
                 ("total time", f"{metrics['total_seconds']:.1f} s")]
    rows += [(f"class {name}", f"{acc:.2%}") for name, acc in metrics["per_class_accuracy"].items()]
    rows.append(("run folder", str(run_dir)))
    for row in rows:
        table.add_row(*row)
    return table


def _make_train_command(dataset: DatasetName):
    def train(model: ModelOpt = ModelName.default, epochs: Epochs = None, batch_size: Batch = None,
              optimizer: Opt = None, lr: Lr = None, schedule: Sched = None, warmup: Warmup = None, l2: L2 = None,
              dropout: Dropout = None, augment: Augment = None, val_fraction: ValFraction = None,
              patience: Patience = None, seed: Seed = 0, split_seed: SplitSeed = 0, device: DeviceOpt = Device.auto,
              amp: Amp = True, data_dir: DataDir = None, out: Out = Path("runs"), resume: Resume = None,
              grid_lr: GridLr = None, grid_l2: GridL2 = None, backend: BackendOpt = None,
              dry_run: DryRunOpt = False) -> None:
        from cli.console import loading
        from pinn.vision.config import default_config

        with loading(writes_to=None if resume is not None else out):
            from pinn.vision.experiment import classify, prepare_classify, resume_config
            from pinn.vision.grid import check_grid, run_grid

        no_aug = dict(shift=0, flip=False, cutout=0) if augment is False else {}
        if resume is not None:
            given = {"--model": None if model is ModelName.default else model, "--batch-size": batch_size,
                     "--optimizer": optimizer, "--lr": lr, "--schedule": schedule, "--warmup": warmup, "--l2": l2,
                     "--dropout": dropout, "--augment": augment, "--val-fraction": val_fraction, "--patience": patience,
                     "--backend": backend}
            clash = [flag for flag, value in given.items() if value is not None]
            if clash:
                raise PinnError(f"--resume continues with the run's saved settings: drop {', '.join(clash)} "
                                "(only --epochs may change)")
            cfg = resume_config(resume, dataset, epochs)
        else:
            cfg = default_config(dataset, model, epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr,
                                 schedule=schedule, warmup_epochs=warmup, l2=l2, dropout=dropout,
                                 val_fraction=val_fraction, patience=patience, seed=seed, split_seed=split_seed,
                                 device=device, amp=amp, data_dir=str(data_dir) if data_dir else None,
                                 backend=backend, **no_aug)
        grid = grid_lr is not None or grid_l2 is not None
        if grid and resume is not None:
            raise PinnError("--resume continues one training run; it cannot be combined with a grid search")
        if grid:
            check_grid(grid_lr or [], grid_l2 or [])
        if dry_run:
            runs = len(grid_lr) * len(grid_l2) if grid else 1
            print_dry_run(console, cfg, prepare_classify(cfg, out, resume, runs))
            return
        if grid:
            run_dir, result = run_grid(cfg, grid_lr or [], grid_l2 or [], out, console)
            if run_dir is not None:
                eta, lam, acc = result.best()
                console.print(f"best cell: eta {eta:g}, lambda {lam:g}: test accuracy {acc:.2%} "
                              f"({int(result.diverged.sum())} of {result.diverged.size} cells diverged); "
                              f"grid.csv and heat maps in {run_dir}")
            return
        run_dir, metrics = classify(cfg, out, console, resume)
        if run_dir is not None:
            console.print(_summary(run_dir, metrics))

    train.__doc__ = f"Train and evaluate a CNN on {dataset.value} (or grid-search eta and lambda)."
    return train


for _dataset in DatasetName:
    app.command(_dataset.value, cls=SpreadListCommand)(_make_train_command(_dataset))


@app.command("evaluate")
def evaluate(run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR",
                                                     help="Folder of an earlier 'pinn classify' run.")],
             data_dir: DataDir = None, dry_run: DryRunOpt = False) -> None:
    """Reload a run's checkpoint and report its test metrics (also written to evaluation.json)."""
    from cli.console import loading

    with loading():
        from pinn.vision.experiment import evaluate_run, evaluation_inputs

    if dry_run:
        cfg, state, _ = evaluation_inputs(run_dir, data_dir)
        print_dry_run(console, cfg, {"epoch": state["epoch"], "checkpoint": "matches the model"})
        return
    metrics = evaluate_run(run_dir, data_dir, console)
    console.print(_summary(run_dir, metrics))


@app.command("compare", cls=SpreadListCommand)
def compare(dataset: Annotated[DatasetName, typer.Argument(metavar="DATASET",
                                                           help="digits, fashion-mnist or cifar10.")],
            model: Annotated[ModelName, typer.Option("--model", help="Architecture both backends build: "
                                                     f"{', '.join(NUMPY_MODELS)}.")] = ModelName.notes_digits, epochs: Epochs = None, batch_size: Batch = None,
            lr: Lr = None, l2: L2 = None,
            seeds: Annotated[Optional[List[int]], typer.Option("--seeds", help="Seeds; each trains both "
                                                               "backends (several values after one flag).")] = None,
            split_seed: SplitSeed = 0,
            amp: Annotated[bool, typer.Option("--amp/--no-amp", help="Mixed precision for the torch runs (off: "
                                              "float32 in both backends).")] = False,
            data_dir: DataDir = None, out: Out = Path("runs"), dry_run: DryRunOpt = False) -> None:
    """Train one recipe with the torch and the numpy backend (same seed, split, epochs, initial weights) and
    tabulate accuracy, training time and their ratio."""
    import dataclasses

    from cli.console import loading
    from pinn.choices import Backend
    from pinn.vision.config import default_config

    with loading(writes_to=out):
        from pinn.vision.compare import check_seeds, compare_backends
        from pinn.vision.experiment import prepare_classify

    cfg = default_config(dataset, model, epochs=epochs, batch_size=batch_size, lr=lr, l2=l2, split_seed=split_seed,
                         amp=amp, device="cpu", data_dir=str(data_dir) if data_dir else None)
    if dry_run:
        runs = 2 * len(check_seeds(seeds or [0]))
        print_dry_run(console, cfg, prepare_classify(dataclasses.replace(cfg, backend=Backend.numpy).check(), out,
                                                     runs=runs))
        return
    run_dir, _, summary = compare_backends(cfg, seeds or [0], out, console)
    table = Table(title=f"pinn classify compare {dataset.value} ({cfg.model.value}, {cfg.epochs} epochs)",
                  header_style="bold")
    for column in ("backend", "runs", "test accuracy", "training s (wall)", "training s (CPU)", "numpy / torch"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    for name, s in summary["backends"].items():
        ratio = f"{s['train_seconds_ratio']:.2f} wall, {s['cpu_seconds_ratio']:.2f} CPU" if name == "numpy" else ""
        table.add_row(name, str(s["runs"]), f"{s['test_accuracy_mean']:.2%} +- {s['test_accuracy_std']:.2%}",
                      f"{s['train_seconds_mean']:.1f}", f"{s['cpu_seconds_mean']:.1f}", ratio)
    console.print(table)
    console.print(f"same initial weights: max logit difference {summary['forward_agreement']:.1e} (relative); "
                  f"comparison in {run_dir}")
