#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs (corpus/<target>/seed-*) from the project's own
documents and fixtures: the client frames of mock-ctp/PROTOCOL.md, fixtures/, the documented
fault, schedule and mix forms, the engine's environment and a small history. libFuzzer grows the
corpus from these; `bash scripts/fuzz` runs them. Run again after changing a format."""
import json, pathlib, struct

root = pathlib.Path(__file__).resolve().parent
repo = root.parent
corpus = root / "corpus"


def put(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data if isinstance(data, bytes) else data.encode())


# Both directions of the wire as PROTOCOL.md shows them ('>' client, '<' front).
frames = []
for line in (repo / "mock-ctp/PROTOCOL.md").read_text().splitlines():
    if line[:2] in ("> ", "< ") and line[2:3] == "{":
        frames.append(line[2:].encode())
for i, f in enumerate(frames):
    put("ctp_message", f"{i:02}", f)
stream = b"".join(struct.pack(">I", len(f)) + f for f in frames[:8])
put("ctp_frames", "conversation", bytes([7]) + stream)
put("ctp_frames", "one-byte-reads", bytes([0]) + stream[:200])

put("ctp_fixtures", "instruments", b"\x00" + (repo / "fixtures/instruments.json").read_bytes())
csv = (repo / "fixtures/ticks/rb2410.csv").read_text().splitlines()
put("ctp_fixtures", "ticks", b"\x01" + "\n".join(csv[:6]).encode())

toxics = {
    "latency": {"latency": 50, "jitter": 5},
    "bandwidth": {"rate": 64},
    "slow_close": {"delay": 100},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 10},
    "slicer": {"average_size": 16, "size_variation": 4, "delay": 10},
    "limit_data": {"bytes": 1024},
}
for kind, attrs in toxics.items():
    create = {"name": kind, "type": kind, "stream": "downstream", "toxicity": 1.0,
              "attributes": attrs}
    update = {"toxicity": 0.5, "attributes": {k: v + 1 for k, v in attrs.items()}}
    put("proxy_toxic", kind, json.dumps(create).encode() + b"\x00" + json.dumps(update).encode())

faults = [
    {"kind": "latency", "link": "redis", "stream": "downstream", "latency_ms": 20, "jitter_ms": 5},
    {"kind": "down", "link": "postgres"},
    {"kind": "kill", "service": "engine"},
    {"kind": "partition", "service": "redis"},
    {"kind": "kill", "service": "dc2/postgres"},
]
steps = [{"at_ms": 500 * i, "duration_ms": 400, "fault": f} for i, f in enumerate(faults)]
put("fault_schedule", "json", "\x00" + json.dumps({"steps": steps}))
put("fault_schedule", "toml",
    "\x01[[steps]]\nat_ms = 0\nduration_ms = 500\n"
    'fault = { kind = "latency", link = "redis", stream = "downstream", latency_ms = 20 }\n')
for i, f in enumerate(faults):
    put("fault_schedule", f"fault-{i}", "\x02" + json.dumps(f))

put("chaos_mix", "json", "\x00" + json.dumps({"per_minute": {"engine_kill": 2.0, "link_latency": 6.0}}))
put("chaos_mix", "toml", "\x01[per_minute]\nengine_kill = 2.0\nlink_latency = 6.0\n")

env = {
    "DATABASE_URL": "postgres://engine:secret@postgres:5432/trading",
    "REDIS_URL": "redis://redis:6379",
    "KAFKA_BROKERS": "kafka:9092",
    "ENGINE_ROLE": "active",
    "ENGINE_SITE": "dc1",
    "FENCE_PEER_URLS": "http://dc2-engine:8080",
    "CTP_FRONT_ADDRESS": "proxy:41205",
    "CTP_MD_ADDRESS": "proxy:41213",
    "ENGINE_ID": "engine-1",
    "CTP_BROKER_ID": "9999",
    "CTP_USER_ID": "000001",
    "CTP_PASSWORD": "123456",
    "CTP_APP_ID": "client_mockctp_1.0",
    "CTP_AUTH_CODE": "0000000000000000",
    "ADMIN_TOKEN": "token",
    "ENGINE_DEFECTS": "",
}
put("engine_env", "complete", "".join(f"{k}={v}\n" for k, v in env.items()))

order = {"client_order_id": "c-1", "account_id": "000001", "instrument_id": "rb2410",
         "side": "buy", "offset": "open", "limit_price": 3500.0, "volume": 1}
history = [
    {"type": "invoke", "id": 0, "process": 0, "at_ns": 1000, "op": {"f": "submit", **order}},
    {"type": "fault", "at_ns": 1500, "action": "inject", "fault": "latency", "target": "engine->postgres"},
    {"type": "ok", "id": 0, "process": 0, "at_ns": 2000, "result": {"order_id": 7, "status": "accepted"}},
    {"type": "invoke", "id": 1, "process": 1, "at_ns": 2500, "op": {"f": "cancel", "client_order_id": "c-1"}},
    {"type": "info", "id": 1, "process": 1, "at_ns": 3000, "error": {"code": "timeout"}},
    {"type": "invoke", "id": 2, "process": 0, "at_ns": 3500, "op": {"f": "submit", **order, "client_order_id": "c-2"}},
    {"type": "fail", "id": 2, "process": 0, "at_ns": 4000, "error": {"code": "risk_rejected", "field": "volume"}},
    {"type": "fault", "at_ns": 4500, "action": "heal", "fault": "latency", "target": "engine->postgres"},
    {"type": "step", "at_ns": 5000, "step": "promote_database", "dc": "dc2"},
]
put("history", "small", "".join(json.dumps(e) + "\n" for e in history))
