"""A small Hydra-style config composer on top of omegaconf (Debian ships python3-omegaconf, not hydra-core).

It follows Hydra 1.3's defaults-list rules as far as OpenRetina's config tree uses them, so that the composed
config can be compared with the TypeScript composer of apps/cli:

- the primary config's `defaults` list, in order: `group: option`, `group: [opt, ...]` (every option is merged into
  the group's package), `group: null` (no config), `group: ???` (an error unless the group is chosen by an override),
  `optional group: option`, `override group: option` (replaces the choice of that group wherever it is) and
  `_self_` (where the config's own content is merged; at the end when absent);
- a group config's package is its group path with `/` read as `.` (`hydra/sweeper` -> `hydra.sweeper`);
- groups under `hydra/` that the tree does not hold (`hydra/sweeper`, `hydra/sweeper/sampler`: Hydra's own or a
  plugin's) are recorded in `hydra.runtime.choices` and load nothing;
- command-line overrides: `group=option` / `group=null` (a choice), `+group=option` (a new defaults entry after the
  primary config), `~group` (drops the entry), `key=value` (the key must exist), `+key=value` (it must not),
  `++key=value` (either), `~key` (deletes it);
- Hydra's defaults for `hydra.run.dir` / `hydra.sweep.dir`; `hydra.runtime.output_dir` = the absolute run dir,
  `hydra.runtime.cwd`; resolvers `now` (a fixed clock), `hydra`, `len` (OpenRetina's hydra_plugins) and `oc.env`
  (a fixed environment).

The job config is the composed config without its `hydra` node, as Hydra hands it to the task function.
"""

from __future__ import annotations

import datetime as _dt
import os
import posixpath
from contextlib import contextmanager
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

HYDRA_DEFAULTS = {
    "run": {"dir": "outputs/${now:%Y-%m-%d}/${now:%H-%M-%S}"},
    "sweep": {"dir": "multirun/${now:%Y-%m-%d}/${now:%H-%M-%S}"},
}


class ComposeError(Exception):
    pass


def _load(path: str) -> DictConfig:
    cfg = OmegaConf.load(path)
    if not isinstance(cfg, DictConfig):
        raise ComposeError(f"{path}: the top level is not a mapping")
    return cfg


def _parse_defaults(cfg: DictConfig, where: str) -> list[dict[str, Any]]:
    raw = OmegaConf.to_container(cfg, resolve=False).get("defaults")
    if raw is None:
        return []
    entries = []
    for item in raw:
        if item == "_self_":
            entries.append({"self": True})
            continue
        if not isinstance(item, dict) or len(item) != 1:
            raise ComposeError(f"{where}: unsupported defaults entry {item!r}")
        ((key, value),) = item.items()
        words = key.split()
        override = words[0] == "override"
        optional = words[0] == "optional"
        group = words[-1]
        entries.append({"group": group, "value": value, "override": override, "optional": optional})
    return entries


def _parse_value(text: str) -> Any:
    if text == "":
        return ""
    return yaml.safe_load(text)


def _parse_override(text: str) -> dict[str, Any]:
    if text.startswith("~"):
        key, _, value = text[1:].partition("=")
        return {"kind": "delete", "key": key, "value": None}
    key, eq, value = text.partition("=")
    if not eq:
        raise ComposeError(f"override {text!r} is not key=value")
    kind = "set"
    if key.startswith("++"):
        kind, key = "force", key[2:]
    elif key.startswith("+"):
        kind, key = "add", key[1:]
    return {"kind": kind, "key": key, "value": _parse_value(value), "raw": value}


def _is_group(config_dir: str, group: str) -> bool:
    return os.path.isdir(os.path.join(config_dir, group))


def _exists(root: DictConfig, key: str) -> bool:
    """Whether `a.b.c` is a key of the config, without resolving any interpolation on the way."""
    node: Any = root
    for part in key.split("."):
        if not isinstance(node, DictConfig):
            return False
        node = node._get_node(part)
        if node is None:
            return False
    return True


@contextmanager
def _environment(env: dict[str, str]):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def compose(
    config_dir: str,
    config_name: str,
    overrides: list[str] | tuple[str, ...] = (),
    *,
    now: _dt.datetime,
    cwd: str,
    env: dict[str, str],
) -> dict[str, Any]:
    """Returns {"config": job config, "hydra": hydra node} (both resolved), or raises ComposeError."""
    primary_path = os.path.join(config_dir, f"{config_name}.yaml")
    if not os.path.isfile(primary_path):
        raise ComposeError(f"Cannot find primary config '{config_name}'")
    primary = _load(primary_path)
    entries = _parse_defaults(primary, config_name)
    parsed = [_parse_override(o) for o in overrides]

    # Choices: the defaults' own, then `override` entries, then command-line group overrides.
    choices: dict[str, Any] = {}
    order: list[str] = []
    self_index = None
    for e in entries:
        if "self" in e:
            self_index = len(order)
            order.append("_self_")
            continue
        if e["override"]:
            continue
        choices[e["group"]] = e["value"]
        order.append(e["group"])
    if self_index is None:
        order.append("_self_")
    for e in entries:
        if "self" in e or not e["override"]:
            continue
        group = e["group"]
        parent = group.split("/")[0]
        if group in choices or parent == "hydra":
            choices[group] = e["value"]
        else:
            raise ComposeError(f"Could not override '{group}'. No match in the defaults list.")
    appended: list[str] = []
    value_overrides = []
    for o in parsed:
        key = o["key"]
        group_key = key.replace(".", "/")
        if o["kind"] == "delete" and group_key in choices:
            choices[group_key] = None
            continue
        if o["kind"] == "set" and group_key in choices:
            choices[group_key] = o["value"]
            continue
        if o["kind"] == "add" and _is_group(config_dir, group_key):
            if group_key in choices:
                raise ComposeError(f"Could not add '{group_key}={o['raw']}'. '{group_key}' is already in the defaults list.")
            choices[group_key] = o["value"]
            appended.append(group_key)
            continue
        value_overrides.append(o)

    def group_config(group: str, option: str) -> DictConfig | None:
        path = os.path.join(config_dir, group, f"{option}.yaml")
        if not os.path.isfile(path):
            if group.split("/")[0] == "hydra" and not _is_group(config_dir, group):
                return None  # Hydra's own group or a plugin's: recorded, nothing loaded
            raise ComposeError(f"In '{config_name}': Could not find '{group}/{option}'")
        cfg = _load(path)
        if "defaults" in cfg:
            with open_dict(cfg):
                del cfg["defaults"]
        package = group.replace("/", ".")
        wrapped = OmegaConf.create({})
        OmegaConf.update(wrapped, package, cfg, merge=True, force_add=True)
        return wrapped

    def merge_group(root: DictConfig, group: str) -> DictConfig:
        value = choices.get(group)
        if value is None:
            return root
        if value == "???":
            raise ComposeError(f"You must specify '{group}', e.g, {group}=<OPTION>")
        options = list(value) if isinstance(value, (list, tuple)) or OmegaConf.is_list(value) else [value]
        for option in options:
            part = group_config(group, str(option))
            if part is not None:
                root = OmegaConf.merge(root, part)
        return root

    own = primary.copy()
    if "defaults" in own:
        with open_dict(own):
            del own["defaults"]
    root = OmegaConf.create({"hydra": HYDRA_DEFAULTS})
    for item in order:
        root = OmegaConf.merge(root, own) if item == "_self_" else merge_group(root, item)
    for group in appended:
        root = merge_group(root, group)

    for o in value_overrides:
        key = o["key"]
        exists = _exists(root, key)
        if o["kind"] == "delete":
            if not exists:
                raise ComposeError(f"Could not delete from config. '{key}' does not exist.")
            parent_key, _, leaf = key.rpartition(".")
            parent = root
            for part in parent_key.split(".") if parent_key else []:
                parent = parent._get_node(part)
            with open_dict(parent):
                del parent[leaf]
        elif o["kind"] == "set" and not exists:
            raise ComposeError(f"Could not override '{key}'. To append to your config use +{key}={o['raw']}")
        elif o["kind"] == "add" and exists:
            raise ComposeError(f"Could not append to config. An item is already at '{key}'.")
        else:
            OmegaConf.update(root, key, o["value"], merge=False, force_add=True)

    # Hydra's runtime node: the choices, the working directory and the run's output directory.
    with open_dict(root):
        root.hydra.runtime = {"cwd": cwd, "choices": {k: v for k, v in choices.items()}}
    resolvers = {
        "now": lambda pattern: now.strftime(pattern),
        "len": lambda x: len(x),
    }
    for name, fn in resolvers.items():
        OmegaConf.register_new_resolver(name, fn, replace=True)
    OmegaConf.register_new_resolver(
        "hydra", lambda path, *, _root_: OmegaConf.select(_root_.hydra, path), replace=True
    )
    with _environment(env):
        run_dir = OmegaConf.select(root, "hydra.run.dir")
        output_dir = posixpath.normpath(posixpath.join(cwd, str(run_dir)))
        with open_dict(root):
            root.hydra.runtime.output_dir = output_dir
        try:
            resolved = OmegaConf.to_container(root, resolve=True, throw_on_missing=False)
        except OmegaConfBaseException as e:
            raise ComposeError(f"Error resolving interpolations: {str(e).splitlines()[0]} (at {e.full_key})") from e
    hydra = resolved.pop("hydra")
    return {"config": resolved, "hydra": hydra}
