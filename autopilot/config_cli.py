"""``autopilot config``, ``autopilot keys`` and ``autopilot doctor``: cheap to import."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from autopilot.errors import ConfigError, UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    config = subparsers.add_parser("config", help="show or change the configuration")
    config_sub = config.add_subparsers(title="actions", metavar="ACTION", required=True)
    show = config_sub.add_parser("show", help="the effective configuration (all layers merged)")
    show.add_argument("--json", action="store_true", help="as JSON")
    show.set_defaults(handler=config_show)
    set_ = config_sub.add_parser("set", help="write KEY = VALUE into the config file")
    set_.add_argument("key", help="a key such as model, sandbox.network, approval_mode")
    set_.add_argument("value", help='the value (TOML syntax accepted: true, 3, "text")')
    set_.set_defaults(handler=config_set)
    path = config_sub.add_parser("path", help="where the config file is")
    path.set_defaults(handler=config_path)

    keys = subparsers.add_parser("keys", help="manage API keys (stored in the OS keyring)")
    keys_sub = keys.add_subparsers(title="actions", metavar="ACTION", required=True)
    kset = keys_sub.add_parser("set", help="store the key for PROVIDER (asked without echo)")
    kset.add_argument("provider", help="litellm provider prefix: openai, anthropic, gemini …")
    kset.add_argument("--stdin", action="store_true", help="read the key from standard input")
    kset.set_defaults(handler=keys_set)
    klist = keys_sub.add_parser("list", help="the keys autopilot can see, masked")
    klist.set_defaults(handler=keys_list)
    kdel = keys_sub.add_parser("delete", help="forget the stored key for PROVIDER")
    kdel.add_argument("provider")
    kdel.set_defaults(handler=keys_delete)

    doctor = subparsers.add_parser(
        "doctor", help="check this machine and say how to fix what is missing"
    )
    doctor.add_argument("--offline", action="store_true", help="do not contact the model endpoint")
    doctor.set_defaults(handler=run_doctor)


# --- config -----------------------------------------------------------------------------


def config_show(args: argparse.Namespace, config: Any) -> int:
    from autopilot import config as config_module

    data = config_module.to_dict(config)
    if getattr(args, "json", False):
        import json

        print(json.dumps(data, indent=2))
    else:
        print(f"# {config_module.config_path()} (merged with AUTOPILOT_* and flags)")
        print(config_module.dumps_toml(data), end="")
    return 0


def config_set(args: argparse.Namespace, config: Any) -> int:
    from autopilot import config as config_module

    path = config_module.config_path()
    config_module.set_value(args.key, args.value, path)
    print(f"{args.key} set in {path}")
    return 0


def config_path(args: argparse.Namespace, config: Any) -> int:
    from autopilot import config as config_module

    print(config_module.config_path())
    return 0


# --- keys -------------------------------------------------------------------------------


def keys_set(args: argparse.Namespace, config: Any) -> int:
    from autopilot import keys

    if args.stdin or not sys.stdin.isatty():
        key = sys.stdin.readline().strip()
    else:
        import getpass

        key = getpass.getpass(f"API key for {args.provider} (not shown): ").strip()
    if not key:
        raise UsageError(
            "no key given", hint=f"run `autopilot keys set {args.provider}` and paste it"
        )
    where = keys.set_key(args.provider, key)
    if where == "file":
        _, description = keys.backend_description()
        print(
            f"warning: no OS keyring here; the key is stored in a {description}",
            file=sys.stderr,
        )
    print(f"stored key {keys.mask(key)} for {args.provider} ({where})")
    env_var = keys.env_var_for(args.provider)
    if env_var:
        import os

        if os.environ.get(env_var):
            print(f"note: {env_var} is set in the environment and takes precedence")
    return 0


def keys_list(args: argparse.Namespace, config: Any) -> int:
    from autopilot import keys

    found = keys.list_keys()
    if not found:
        print("no keys; add one with `autopilot keys set PROVIDER` or set e.g. OPENAI_API_KEY")
        return 0
    for item in found:
        where = f"${item.env_var}" if item.source == "env" else item.source
        print(f"{item.provider:<14} {item.masked:<12} {where}")
    return 0


def keys_delete(args: argparse.Namespace, config: Any) -> int:
    from autopilot import keys

    if keys.delete_key(args.provider):
        print(f"deleted the stored key for {args.provider}")
        return 0
    raise ConfigError(f"no stored key for {args.provider}", hint="see `autopilot keys list`")


# --- doctor -----------------------------------------------------------------------------


def run_doctor(args: argparse.Namespace, config: Any) -> int:
    from autopilot.doctor import print_report, run_checks

    checks = run_checks(config, offline=getattr(args, "offline", False))
    return print_report(checks)
