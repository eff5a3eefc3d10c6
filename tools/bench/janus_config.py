"""Writes a Janus 1.1 configuration for the benchmark into a folder: a copy of /etc/janus with
ICE-lite on the veth v0 (Janus's ICE ignores loopback), only the VideoRoom plugin and the HTTP
transport on 127.0.0.1:8088, warnings-only logging, no session timeout (RECIPES.md, Janus)."""
import re
import shutil
from pathlib import Path


def set_key(text, section, key, value):
    """Sets `key = value` inside `section: { ... }` (replacing a commented or active line)."""
    m = re.search(rf"^{section}: \{{\n(.*?)^\}}", text, re.S | re.M)
    assert m, f"no section {section}"
    body = m.group(1)
    line = f"\t{key} = {value}\n"
    pattern = rf"^\s*#?\s*{key}\s*=.*\n"
    body = re.sub(pattern, line, body, count=1, flags=re.M) if re.search(pattern, body, re.M) else line + body
    return text[:m.start(1)] + body + text[m.end(1):]


def write(folder, interface="v0", ports="20000-40000"):
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree("/etc/janus", folder)
    lib = Path("/usr/lib/x86_64-linux-gnu/janus")

    def others(kind, keep):
        return ",".join(sorted(p.name for p in (lib / kind).glob("*.so") if p.name not in keep))

    cfg = (folder / "janus.jcfg").read_text()
    cfg = set_key(cfg, "general", "debug_level", "2")
    cfg = set_key(cfg, "general", "session_timeout", "0")
    cfg = set_key(cfg, "general", "configs_folder", f'"{folder}"')
    cfg = set_key(cfg, "nat", "ice_lite", "true")
    cfg = set_key(cfg, "nat", "ice_enforce_list", f'"{interface}"')
    cfg = set_key(cfg, "nat", "nice_debug", "false")
    cfg = set_key(cfg, "media", "rtp_port_range", f'"{ports}"')
    cfg = set_key(cfg, "plugins", "disable", f'"{others("plugins", {"libjanus_videoroom.so"})}"')
    cfg = set_key(cfg, "transports", "disable", f'"{others("transports", {"libjanus_http.so"})}"')
    cfg = set_key(cfg, "events", "disable", f'"{others("events", set())}"')
    cfg = set_key(cfg, "loggers", "disable", f'"{others("loggers", set())}"')
    (folder / "janus.jcfg").write_text(cfg)
    http = (folder / "janus.transport.http.jcfg").read_text()
    http = set_key(http, "general", "ip", '"127.0.0.1"')
    http = set_key(http, "general", "port", "8088")
    (folder / "janus.transport.http.jcfg").write_text(http)
    return folder / "janus.jcfg"
