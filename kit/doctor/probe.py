"""Run by ``kit doctor`` INSIDE each interpreter it inspects (``python -c <this text> '{json}'``).

It must run on any CPython 3.6+ with nothing installed: no f-strings with '=', no walrus,
no ``X | Y``, no third-party imports. It prints one JSON object: the interpreter's version,
prefixes, marker environment, installed distributions (name, version,
requirements of the asked-for ones) and which of the asked-for top-level modules it can find.
"""

import json
import os
import platform
import sys


def _markers():
    impl = sys.implementation
    version = f"{impl.version.major}.{impl.version.minor}.{impl.version.micro}"
    if impl.version.releaselevel != "final":
        version += impl.version.releaselevel[0] + str(impl.version.serial)
    return {"implementation_name": impl.name, "implementation_version": version,
            "os_name": os.name, "platform_machine": platform.machine(),
            "platform_release": platform.release(), "platform_system": platform.system(),
            "platform_version": platform.version(),
            "python_full_version": platform.python_version(),
            "platform_python_implementation": platform.python_implementation(),
            "python_version": ".".join(platform.python_version_tuple()[:2]),
            "sys_platform": sys.platform}


def _distributions(family):
    try:
        from importlib import metadata
    except ImportError:
        return None
    found = []
    seen = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name or name.lower() in seen:
            continue
        seen.add(name.lower())
        entry = {"name": name, "version": dist.version}  # type: dict

        if name.lower().replace("_", "-") in family:
            entry["requires"] = list(dist.requires or [])
        found.append(entry)
    return found


def _modules(names):
    import importlib.util

    found = {}
    for name in names:
        try:
            found[name] = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found[name] = False
    return found


def main():
    asked = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    print(json.dumps({
        "executable": sys.executable, "version": platform.python_version(),
        "prefix": sys.prefix, "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "markers": _markers(),
        "distributions": _distributions(set(asked.get("family", []))),
        "modules": _modules(asked.get("modules", [])),
    }))


if __name__ == "__main__":
    main()
