"""`instrument serve`: a headless, Wekinator-compatible service (OSC in, OSC/MIDI out)."""

from __future__ import annotations

from instrument.commands.argtypes import (
    host_port,
    nonnegative_float,
    positive_float,
    positive_int,
    udp_port,
)

NAME = "serve"
HELP = ("headless service that can replace Wekinator: /wek/inputs of any width on UDP 6448, "
        "Wekinator's /wekinator/control/* messages (record, train, run), /wek/outputs to 12000")


def add_arguments(parser) -> None:
    from instrument.commands.midi_options import add_midi_arguments
    from instrument.live.serve_training import DEFAULT_TRAIN_EPOCHS, DEFAULT_TRAIN_SOUNDS

    parser.add_argument("--project", default="instrument-project", metavar="DIR",
                        help="folder for examples, models and the model in play (created when "
                             "missing; a restart resumes its last model). Default "
                             "./instrument-project")
    parser.add_argument("--model", metavar="M",
                        help="model to play while the project has none of its own yet")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only; "
                             "0.0.0.0 opens it to the network)")
    parser.add_argument("--port", type=udp_port, default=6448,
                        help="UDP port for /wek/inputs and control messages (default 6448)")
    parser.add_argument("--osc", type=host_port, action="append", metavar="HOST:PORT",
                        help="send OSC to HOST:PORT (repeat; default 127.0.0.1:12000)")
    parser.add_argument("--osc-bundles", type=nonnegative_float, metavar="MS",
                        help="each frame as one OSC bundle time-tagged MS ms after its input")
    parser.add_argument("--inputs", type=positive_int, metavar="N",
                        help="inputs per /wek/inputs message (default: the model's, else the "
                             "first message's; others are counted and ignored)")
    parser.add_argument("--train-sounds", type=positive_int, default=DEFAULT_TRAIN_SOUNDS,
                        metavar="N", help=f"sounds in the bank of a model trained here (default "
                                          f"{DEFAULT_TRAIN_SOUNDS}: quick for a live session)")
    parser.add_argument("--train-epochs", type=positive_int, default=DEFAULT_TRAIN_EPOCHS,
                        metavar="N", help=f"pretraining epochs per layer (default "
                                          f"{DEFAULT_TRAIN_EPOCHS})")
    parser.add_argument("--no-run", action="store_true",
                        help="do not play the loaded model until startRunning arrives")
    parser.add_argument("--seconds", type=positive_float, metavar="S",
                        help="stop after S seconds (default: until Ctrl-C or SIGTERM)")
    add_midi_arguments(parser, port=True)
    parser.add_argument("--force", action="store_true",
                        help="replace an existing --midi-file (a restarted service given the "
                             "same file writes it again; without --force it refuses to start)")


def run(args) -> int:
    import signal
    import threading

    from instrument.commands.midi_options import check_midi_file, midi_settings, wants_midi
    from instrument.errors import BadInput
    from instrument.live.serve import ServeOptions, run_service, summary

    if args.train_sounds < 20:
        raise BadInput(f"--train-sounds {args.train_sounds} is too few for a sound bank",
                       "use 20 or more")
    if args.inputs is not None and args.inputs > 4096:
        raise BadInput(f"--inputs {args.inputs} is more than 4096", "use 1..4096 inputs")
    check_midi_file(args)   # the one output rule: an existing file only with --force
    opts = ServeOptions(project=args.project, model=args.model, host=args.host,
                        port=args.port, osc=args.osc or [("127.0.0.1", 12000)],
                        osc_bundles_s=None if args.osc_bundles is None
                        else args.osc_bundles / 1000.0,
                        midi=midi_settings(args) if wants_midi(args) else None,
                        inputs=args.inputs, train_sounds=args.train_sounds,
                        train_epochs=args.train_epochs, run_at_start=not args.no_run)
    stop = threading.Event()
    # systemd stops a service with SIGTERM: finish the take and the MIDI file, then exit 0.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log = lambda text: print(text, flush=True)  # noqa: E731 - one line, flushed for journald
    service = run_service(opts, stop, log, seconds=args.seconds)
    log(summary(service))
    return 0
