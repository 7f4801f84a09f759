"""``config.json`` in Keras 3's schema: kernelscope configs to what Keras reads, and Keras configs to kernelscope's.

kernelscope layers already keep Keras's class names, argument names and
initializer schema, so the translation is small. Going out, ``module`` names
the public Keras module (``keras.layers``, ``keras``) so that Keras finds its own
classes, and each layer gets its ``build_config``. Coming in, Keras's dtype
policies become dtype names, and the arguments Keras writes for features
kernelscope lacks are dropped when they say the feature is off
(``sparse=False``, ``quantization_config=None``, ``renorm=False``, ...). Any
other value is left in, so the layer refuses it with an error naming it: a
file is never loaded with a setting silently ignored.
"""

from __future__ import annotations

__all__ = ["to_keras", "from_keras"]

# kernelscope classes Keras does not have: their entries keep kernelscope's module (Keras then names them)
_KERNELSCOPE_ONLY = {"PreprocessInput"}
_MODEL_MODULES = {"Sequential": ("keras", None), "Functional": ("keras.src.models.functional", "Functional")}
# Keras arguments of features kernelscope does not implement, with the value that means "off"
_OFF = {"sparse": False, "ragged": False, "optional": False, "quantization_config": None, "lora_rank": None,
        "lora_alpha": None, "input_axes": None, "output_axes": None, "renorm": False, "renorm_clipping": None,
        "use_ema": False, "ema_overwrite_frequency": None, "loss_scale_factor": None,
        "gradient_accumulation_steps": None}
# arguments that only matter when another one turns their feature on
_ONLY_WITH = {"renorm_momentum": "renorm", "ema_momentum": "use_ema"}
_FLOAT_POLICIES = ("float16", "bfloat16", "float32", "float64")


# layers Keras defines inside an application module (unregistered; Keras finds them by module)
_APPLICATION_LAYERS = {"CustomScaleLayer": "keras.src.applications.inception_resnet_v2"}


def _is_object(value) -> bool:
    return isinstance(value, dict) and "class_name" in value and isinstance(value.get("config"), dict)


def to_keras(entry: dict, build_config=None) -> dict:
    """A serialized kernelscope layer or model (``serialize_layer`` output) as Keras 3 writes it."""
    out = dict(entry)
    name = entry["class_name"]
    if entry.get("registered_name") is None and entry.get("module", "").startswith("kernelscope."):
        if name in _MODEL_MODULES:
            out["module"], out["registered_name"] = _MODEL_MODULES[name]
        elif name in _APPLICATION_LAYERS:
            out["module"] = _APPLICATION_LAYERS[name]
        elif name not in _KERNELSCOPE_ONLY and entry["module"].startswith("kernelscope.layers"):
            out["module"] = "keras.layers"
    config = dict(entry["config"])
    if isinstance(config.get("layers"), list):
        config["layers"] = [to_keras(layer) for layer in config["layers"]]
    out["config"] = config
    if build_config is not None:
        out["build_config"] = build_config
    return out


def _dtype_name(policy, where: str):
    """A Keras ``DTypePolicy`` entry as kernelscope's dtype name (mixed precision refused)."""
    if not _is_object(policy):
        return policy
    name = policy["config"].get("name")
    if policy["class_name"] not in ("DTypePolicy", "FloatDTypePolicy") or name not in _FLOAT_POLICIES:
        raise ValueError(f"{where} uses the dtype policy {policy['class_name']}({name!r}); kernelscope computes "
                         f"in one float dtype per layer ({', '.join(_FLOAT_POLICIES)}), so it cannot load it.")
    return name


def _without_off_features(config: dict) -> dict:
    out = {}
    for key, value in config.items():
        if key == "shared_object_id" or (key in _OFF and value == _OFF[key] and type(value) is type(_OFF[key])):
            continue
        if key in _ONLY_WITH and config.get(_ONLY_WITH[key], _OFF[_ONLY_WITH[key]]) == _OFF[_ONLY_WITH[key]]:
            continue
        out[key] = value
    return out


def from_keras(value, where: str = "the model"):
    """A Keras 3 ``config.json`` tree normalised for kernelscope's ``from_config`` (see the module docstring)."""
    if isinstance(value, list):
        return [from_keras(v, where) for v in value]
    if not isinstance(value, dict):
        return value
    if _is_object(value):
        inner = value["config"]
        where = f"Layer '{inner['name']}' ({value['class_name']})" if isinstance(inner.get("name"), str) \
            else f"{value['class_name']} in {where}"
    out = {k: from_keras(v, where) for k, v in value.items() if k != "shared_object_id"}
    if _is_object(value):
        config = _without_off_features(out["config"])
        if "dtype" in config:
            config["dtype"] = _dtype_name(value["config"]["dtype"], where)
        out["config"] = config
    return out
