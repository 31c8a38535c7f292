"""Conformance checks of the tsyft kernel, driven through jupyter_client.

Started by test/kernel/conformance.test.ts with /usr/bin/python3:

    python3 conformance.py --cwd <dir> --typescript <version> [--only check,...]

JUPYTER_PATH must name a folder whose kernels/tsyft/kernel.json starts the
compiled kernel. Prints one JSON line per check: {"check", "ok", "detail"}.
A check that raises is reported as failed with its message; the driver goes
on with the next one (the kernel is restarted if it died).
"""

import argparse
import json
import os
import sys
import time
import traceback
from queue import Empty

from jupyter_client.manager import KernelManager

TIMEOUT = 60


def emit(check, ok, detail=""):
    print(json.dumps({"check": check, "ok": ok, "detail": detail}), flush=True)


class Kernel:
    def __init__(self, cwd):
        self.km = KernelManager(kernel_name="tsyft")
        self.km.start_kernel(cwd=cwd)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=TIMEOUT)
        self.drain()

    def drain(self, seconds=0.2):
        end = time.time() + seconds
        while time.time() < end:
            try:
                self.kc.get_iopub_msg(timeout=0.05)
            except Empty:
                pass

    def send(self, code, **kw):
        return self.kc.execute(code, **kw)

    def reply(self, msg_id, timeout=TIMEOUT, channel="shell"):
        if channel == "control":
            return self.kc._recv_reply(msg_id, timeout=timeout, channel="control")
        end = time.time() + timeout
        while True:
            msg = self.kc.get_shell_msg(timeout=max(0.1, end - time.time()))
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    def iopub_until_idle(self, msg_ids, timeout=TIMEOUT):
        """All iopub messages whose parent is one of msg_ids, until each got status idle."""
        msg_ids = list(msg_ids)
        pending = set(msg_ids)
        got = {m: [] for m in msg_ids}
        end = time.time() + timeout
        while pending:
            msg = self.kc.get_iopub_msg(timeout=max(0.1, end - time.time()))
            parent = msg["parent_header"].get("msg_id")
            if parent in got:
                got[parent].append(msg)
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    pending.discard(parent)
        return got

    def run(self, code, timeout=TIMEOUT, **kw):
        msg_id = self.send(code, **kw)
        reply = self.reply(msg_id, timeout)
        iopub = self.iopub_until_idle([msg_id], timeout)[msg_id]
        return reply, iopub

    def request(self, msg_type, content, channel="shell"):
        msg = self.kc.session.msg(msg_type, content)
        (self.kc.shell_channel if channel == "shell" else self.kc.control_channel).send(msg)
        return msg["header"]["msg_id"]

    def close(self):
        try:
            self.kc.stop_channels()
        finally:
            if self.km.is_alive():
                self.km.shutdown_kernel(now=True)


def of_type(msgs, msg_type):
    return [m for m in msgs if m["msg_type"] == msg_type]


def results(msgs):
    return [m["content"] for m in of_type(msgs, "execute_result")]


def stream_text(msgs, name):
    return "".join(m["content"]["text"] for m in of_type(msgs, "stream") if m["content"]["name"] == name)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def ok_reply(reply, what):
    expect(reply["content"]["status"] == "ok", f"{what}: expected status ok, got {json.dumps(reply['content'])[:600]}")


# ---------------------------------------------------------------------------
# Checks. Each takes the Kernel and an args namespace; raises AssertionError.

def check_kernel_info(k, args):
    msg_id = k.kc.kernel_info()
    reply = k.reply(msg_id)
    c = reply["content"]
    expect(reply["msg_type"] == "kernel_info_reply", f"msg_type {reply['msg_type']}")
    expect(c.get("status") == "ok", f"status {c.get('status')}")
    expect(c.get("protocol_version") == "5.3", f"protocol_version {c.get('protocol_version')}")
    expect(c.get("implementation") == "tsyft", f"implementation {c.get('implementation')}")
    expect(isinstance(c.get("implementation_version"), str) and c["implementation_version"], "implementation_version")
    li = c.get("language_info", {})
    expect(li.get("name") == "typescript", f"language_info.name {li.get('name')}")
    expect(li.get("version") == args.typescript, f"language_info.version {li.get('version')} != compiler {args.typescript}")
    expect(li.get("mimetype") == "text/typescript", f"mimetype {li.get('mimetype')}")
    expect(li.get("file_extension") == ".ts", f"file_extension {li.get('file_extension')}")
    expect(isinstance(c.get("banner"), str) and "TypeScript" in c["banner"], f"banner {c.get('banner')!r}")
    links = c.get("help_links")
    expect(isinstance(links, list) and links and all("text" in l and "url" in l for l in links), f"help_links {links}")
    iopub = k.iopub_until_idle([msg_id])[msg_id]
    states = [m["content"]["execution_state"] for m in of_type(iopub, "status")]
    expect(states[:1] == ["busy"] and states[-1:] == ["idle"], f"kernel_info status messages {states}")
    # kernel_info on the control channel too
    ctrl = k.request("kernel_info_request", {}, channel="control")
    expect(k.reply(ctrl, channel="control")["content"]["language_info"]["name"] == "typescript", "kernel_info on control")


def check_heartbeat(k, args):
    expect(k.kc.hb_channel.is_beating(), "heartbeat channel is not beating")


def check_status_busy_idle(k, args):
    reply, iopub = k.run("1 + 1")
    types = [m["msg_type"] for m in iopub]
    expect(types[0] == "status" and iopub[0]["content"]["execution_state"] == "busy", f"first iopub message {types[:2]}")
    expect(types[-1] == "status" and iopub[-1]["content"]["execution_state"] == "idle", f"last iopub message {types[-2:]}")
    expect(types.index("execute_input") < types.index("execute_result"), f"order {types}")
    for m in iopub:
        expect(m["parent_header"]["msg_id"] == reply["parent_header"]["msg_id"], "iopub parent header is the request")
    expect(reply["header"]["session"] != reply["parent_header"]["session"], "kernel uses its own session id")


def check_execute_input_and_count(k, args):
    r1, i1 = k.run("const counted1 = 1;")
    r2, i2 = k.run("counted1 + 1")
    n1, n2 = r1["content"]["execution_count"], r2["content"]["execution_count"]
    expect(isinstance(n1, int) and n2 == n1 + 1, f"execution_count {n1} then {n2}")
    inputs = of_type(i2, "execute_input")
    expect(len(inputs) == 1 and inputs[0]["content"]["code"] == "counted1 + 1", f"execute_input {inputs}")
    expect(inputs[0]["content"]["execution_count"] == n2, "execute_input execution_count")
    res = results(i2)
    expect(len(res) == 1 and res[0]["execution_count"] == n2, f"execute_result execution_count {res}")
    # silent: no increment, no execute_input, no result
    r3, i3 = k.run("counted1 + 41", silent=True)
    expect(r3["content"]["status"] == "ok", "silent status")
    expect(not of_type(i3, "execute_input") and not results(i3), f"silent request broadcast {[m['msg_type'] for m in i3]}")
    r4, _ = k.run("counted1")
    expect(r4["content"]["execution_count"] == n2 + 1, f"count after silent {r4['content']['execution_count']} != {n2 + 1}")


def check_execute_result_plain(k, args):
    _, iopub = k.run("const obj = { a: 1, b: [1, 2, 3] };\nobj")
    res = results(iopub)
    expect(len(res) == 1, f"one execute_result, got {len(res)}")
    expect(res[0]["data"]["text/plain"] == "{ a: 1, b: [ 1, 2, 3 ] }", f"text/plain {res[0]['data']!r}")
    _, iopub = k.run("'a string'")
    expect(results(iopub)[0]["data"]["text/plain"] == "'a string'", "string result")
    _, iopub = k.run("null")
    expect(results(iopub)[0]["data"]["text/plain"] == "null", "null result")


def check_execute_result_rich(k, args):
    code = (
        "class Shown {\n"
        "  [Symbol.for('tsyft.display')]() {\n"
        "    return { 'text/html': '<b>rich</b>', 'image/svg+xml': '<svg></svg>' };\n"
        "  }\n"
        "}\n"
        "new Shown()"
    )
    _, iopub = k.run(code)
    res = results(iopub)
    expect(len(res) == 1, f"one execute_result, got {[m['msg_type'] for m in iopub]}")
    data = res[0]["data"]
    expect(data.get("text/html") == "<b>rich</b>", f"text/html {data}")
    expect(data.get("image/svg+xml") == "<svg></svg>", f"image/svg+xml {data}")
    expect(isinstance(data.get("text/plain"), str) and "Shown" in data["text/plain"], f"text/plain fallback {data.get('text/plain')!r}")
    code2 = "({ [Symbol.for('tsyft.display')]: () => ({ 'text/plain': 'own text', 'text/markdown': '**md**' }) })"
    data2 = results(k.run(code2)[1])[0]["data"]
    expect(data2 == {"text/plain": "own text", "text/markdown": "**md**"}, f"bundle with its own text/plain {data2}")


def check_undefined_shows_nothing(k, args):
    for code in ["undefined", "let quiet = 5;", "console.log('x')", "void 0", "function g() {}"]:
        reply, iopub = k.run(code)
        ok_reply(reply, code)
        expect(not results(iopub), f"{code!r} produced an execute_result {results(iopub)}")


def check_promise_awaited(k, args):
    _, iopub = k.run("Promise.resolve(42)")
    expect(results(iopub)[0]["data"]["text/plain"] == "42", f"promise result {results(iopub)}")
    _, iopub = k.run("await new Promise((r) => setTimeout(() => r('late'), 150))")
    expect(results(iopub)[0]["data"]["text/plain"] == "'late'", f"awaited result {results(iopub)}")
    reply, iopub = k.run("Promise.reject(new TypeError('rejected'))")
    expect(reply["content"]["status"] == "error" and reply["content"]["ename"] == "TypeError", f"rejected promise {reply['content']}")


def check_stream_output(k, args):
    code = "console.log('to stdout', 1);\nconsole.error('to stderr');\nprocess.stdout.write('raw\\n');"
    reply, iopub = k.run(code)
    ok_reply(reply, "stream cell")
    expect(stream_text(iopub, "stdout") == "to stdout 1\nraw\n", f"stdout {stream_text(iopub, 'stdout')!r}")
    expect(stream_text(iopub, "stderr") == "to stderr\n", f"stderr {stream_text(iopub, 'stderr')!r}")


def check_async_output_parent(k, args):
    code = (
        "console.log('before');\n"
        "await new Promise((r) => setTimeout(r, 100));\n"
        "console.log('after await');\n"
        "(globalThis as any)[Symbol.for('tsyft.kernel')].display({ 'text/plain': 'from async' });\n"
        "await new Promise((r) => setTimeout(r, 50));\n"
        "'end'"
    )
    reply, iopub = k.run(code)
    ok_reply(reply, "async cell")
    expect(stream_text(iopub, "stdout") == "before\nafter await\n", f"stdout {stream_text(iopub, 'stdout')!r}")
    shown = of_type(iopub, "display_data")
    expect(len(shown) == 1 and shown[0]["content"]["data"]["text/plain"] == "from async", f"display_data {shown}")


def check_display_bridge(k, args):
    code = (
        "const bridge = (globalThis as any)[Symbol.for('tsyft.kernel')];\n"
        "bridge.display({ 'text/plain': 'v1', 'text/html': '<i>v1</i>' }, { displayId: 'conf-d1', metadata: { m: 1 } });\n"
        "await new Promise((r) => setTimeout(r, 20));\n"
        "bridge.updateDisplay({ 'text/plain': 'v2', 'text/html': '<i>v2</i>' }, { displayId: 'conf-d1' });"
    )
    reply, iopub = k.run(code)
    ok_reply(reply, "display cell")
    shown = of_type(iopub, "display_data")
    updated = of_type(iopub, "update_display_data")
    expect(len(shown) == 1, f"display_data count {len(shown)}")
    expect(shown[0]["content"]["data"] == {"text/plain": "v1", "text/html": "<i>v1</i>"}, f"display data {shown[0]['content']}")
    expect(shown[0]["content"]["transient"] == {"display_id": "conf-d1"}, f"transient {shown[0]['content'].get('transient')}")
    expect(shown[0]["content"]["metadata"] == {"m": 1}, f"metadata {shown[0]['content']['metadata']}")
    expect(len(updated) == 1 and updated[0]["content"]["data"]["text/plain"] == "v2", f"update_display_data {updated}")
    expect(updated[0]["content"]["transient"] == {"display_id": "conf-d1"}, "update transient display_id")


def check_library_display(k, args):
    code = (
        "import * as sy from 'tsyft';\n"
        "const handle = sy.display(sy.html('<b>first</b>'));\n"
        "handle.update(sy.html('<b>second</b>'));\n"
        "handle.displayId"
    )
    reply, iopub = k.run(code)
    ok_reply(reply, "sy.display cell")
    shown = of_type(iopub, "display_data")
    updated = of_type(iopub, "update_display_data")
    expect(len(shown) == 1 and shown[0]["content"]["data"]["text/html"] == "<b>first</b>", f"display_data {shown}")
    expect(shown[0]["content"]["data"]["text/plain"] == "first", f"text/plain {shown[0]['content']['data']}")
    did = shown[0]["content"]["transient"].get("display_id")
    expect(did, "sy.display sends a display_id")
    expect(len(updated) == 1 and updated[0]["content"]["transient"]["display_id"] == did, f"update for {did}: {updated}")
    expect(updated[0]["content"]["data"]["text/html"] == "<b>second</b>", "updated html")
    expect(results(iopub)[0]["data"]["text/plain"] == repr(did).replace('"', "'"), "handle.displayId is the sent id")


def check_variables_across_cells(k, args):
    k.run("const seedAcross = 42;\nfunction twice(n: number) { return 2 * n; }")
    # shorthand properties naming an earlier cell's variable (tslab compiles them to a ReferenceError)
    reply, iopub = k.run("const packed = { seedAcross, n: twice(seedAcross) };\npacked")
    ok_reply(reply, "shorthand property of an earlier cell's variable")
    expect(results(iopub)[0]["data"]["text/plain"] == "{ seedAcross: 42, n: 84 }", f"result {results(iopub)}")
    reply, _ = k.run("const later = { seedAcross };\nconst wrongType: string = later.seedAcross;")
    c = reply["content"]
    expect(c["ename"] == "CompileError" and "line 2, column 7" in c["evalue"], f"positions refer to the source as written: {c}")


def check_compile_error(k, args):
    code = "const fine = 1;\nconst wrong: number = 'text';"
    reply, iopub = k.run(code)
    c = reply["content"]
    expect(c["status"] == "error", f"status {c['status']}")
    expect(c["ename"] == "CompileError", f"ename {c['ename']}")
    expect("line 2" in c["evalue"] and "column 7" in c["evalue"], f"evalue names line/column: {c['evalue']}")
    expect("not assignable" in c["evalue"], f"evalue has the message: {c['evalue']}")
    tb = "\n".join(c["traceback"])
    expect(isinstance(c["traceback"], list) and all(isinstance(t, str) for t in c["traceback"]), "traceback is a list of strings")
    expect(":2:7" in tb and "TS2322" in tb, f"traceback location/code: {tb}")
    expect("2 | const wrong: number = 'text';" in tb, f"traceback quotes the line: {tb}")
    lines = tb.split("\n")
    quoted = next(i for i, l in enumerate(lines) if "2 | const wrong" in l)
    caret = lines[quoted + 1] if quoted + 1 < len(lines) else ""
    expect("^" in caret and caret.index("^") == lines[quoted].index("wrong"), f"caret under the name: {tb}")
    errors = of_type(iopub, "error")
    expect(len(errors) == 1 and errors[0]["content"]["ename"] == "CompileError", f"iopub error {errors}")
    expect(errors[0]["content"]["traceback"] == c["traceback"], "iopub error traceback equals the reply's")
    expect(c["execution_count"] == of_type(iopub, "execute_input")[0]["content"]["execution_count"], "error reply has execution_count")


def check_runtime_error(k, args):
    code = "function explode(n: number) {\n  if (n > 1) {\n    throw new RangeError('too big: ' + n);\n  }\n}\nexplode(5);"
    reply, iopub = k.run(code)
    c = reply["content"]
    expect(c["status"] == "error" and c["ename"] == "RangeError" and c["evalue"] == "too big: 5", f"reply {c}")
    tb = "\n".join(c["traceback"])
    expect(tb.startswith("RangeError: too big: 5"), f"traceback starts with the error: {tb}")
    expect("at explode (cell-" in tb, f"frame of the cell function: {tb}")
    expect(":3:" in tb and ":6:" in tb, f"frames point at the TypeScript lines 3 and 6: {tb}")
    for internal in ["tslab", "kernel/engine", "node:internal", "worker.js", "executor.js", "evalmachine"]:
        expect(internal not in tb, f"traceback leaks {internal!r}: {tb}")
    expect("throw new RangeError('too big: ' + n);" in tb, f"traceback quotes the source line: {tb}")
    errors = of_type(iopub, "error")
    expect(len(errors) == 1 and errors[0]["content"]["evalue"] == "too big: 5", f"iopub error {errors}")


def check_next_cell_after_error(k, args):
    reply, _ = k.run("throw new Error('first')")
    expect(reply["content"]["status"] == "error", "first cell fails")
    # sent immediately after the error reply: tslab aborts these (200 ms window), we must not
    reply, iopub = k.run("'second runs'")
    ok_reply(reply, "cell right after an error")
    expect(results(iopub)[0]["data"]["text/plain"] == "'second runs'", "its result")
    msg_id = k.send("throw new Error('again')")
    expect(k.reply(msg_id)["content"]["status"] == "error", "fails again")
    msg_id2 = k.send("'third runs'")
    expect(k.reply(msg_id2)["content"]["status"] == "ok", "cell sent within ms of an error reply runs")
    k.iopub_until_idle([msg_id, msg_id2])


def check_stop_on_error_aborts(k, args):
    before = k.run("1")[0]["content"]["execution_count"]
    ids = [k.send("await new Promise((r) => setTimeout(r, 300)); throw new Error('batch failure')"),
           k.send("'queued 1'"), k.send("'queued 2'")]
    replies = [k.reply(i) for i in ids]
    iopub = k.iopub_until_idle(ids)
    statuses = [r["content"]["status"] for r in replies]
    expect(statuses == ["error", "aborted", "aborted"], f"statuses {statuses}")
    expect(replies[0]["content"]["execution_count"] == before + 1, "failing cell counted")
    expect(not results(iopub[ids[1]]) and not of_type(iopub[ids[1]], "execute_input"), "aborted cell did not run")
    after = k.run("'after batch'")
    ok_reply(after[0], "cell after the aborted batch")
    expect(after[0]["content"]["execution_count"] == before + 2, f"aborted cells are not counted: {after[0]['content']['execution_count']}")


def check_stop_on_error_false(k, args):
    ids = [k.send("throw new Error('tolerated')", stop_on_error=False), k.send("'still runs'")]
    replies = [k.reply(i) for i in ids]
    k.iopub_until_idle(ids)
    expect([r["content"]["status"] for r in replies] == ["error", "ok"], f"statuses {[r['content'] for r in replies]}")


def interrupt_case(k, code, how, setup_name):
    k.run(f"const {setup_name} = 'kept';")
    msg_id = k.send(code)
    time.sleep(1.5)
    started = time.time()
    if how == "signal":
        k.km.interrupt_kernel()
    else:
        ctrl = k.request("interrupt_request", {}, channel="control")
        ireply = k.reply(ctrl, channel="control")
        expect(ireply["msg_type"] == "interrupt_reply" and ireply["content"]["status"] == "ok", f"interrupt_reply {ireply['content']}")
    reply = k.reply(msg_id, timeout=20)
    elapsed = time.time() - started
    k.iopub_until_idle([msg_id])
    c = reply["content"]
    expect(c["status"] == "error" and c["ename"] == "Interrupted", f"reply after interrupt {c}")
    expect(elapsed < 10, f"interrupt took {elapsed:.1f} s")
    reply, iopub = k.run(f"{setup_name} + '!'")
    ok_reply(reply, "cell after interrupt")
    expect(results(iopub)[0]["data"]["text/plain"] == "'kept!'", f"state kept after interrupt: {results(iopub)}")


def check_interrupt_signal_sync(k, args):
    interrupt_case(k, "let spin1 = 0; while (true) { spin1++; }", "signal", "before1")


def check_interrupt_signal_after_await(k, args):
    interrupt_case(k, "await new Promise((r) => setTimeout(r, 50)); let spin2 = 0; while (true) { spin2++; }", "signal", "before2")


def check_interrupt_message_sync(k, args):
    interrupt_case(k, "let spin3 = 0; while (true) { spin3++; }", "message", "before3")


def check_interrupt_message_after_await(k, args):
    interrupt_case(k, "await new Promise((r) => setTimeout(r, 50)); let spin4 = 0; while (true) { spin4++; }", "message", "before4")


def check_interrupt_awaiting(k, args):
    interrupt_case(k, "await new Promise((r) => setTimeout(r, 600000));", "message", "before5")


def check_interrupt_with_async_hooks(k, args):
    # AsyncLocalStorage enables async hooks: a termination must not abort Node
    reply, _ = k.run("import { AsyncLocalStorage } from 'async_hooks';\nconst als = new AsyncLocalStorage<number>();\nals.enterWith(7);")
    ok_reply(reply, "enabling AsyncLocalStorage")
    interrupt_case(k, "await new Promise((r) => setTimeout(r, 50)); let spin7 = 0; while (true) { spin7++; }", "signal", "before7")
    interrupt_case(k, "await new Promise((r) => setTimeout(() => { let spin8 = 0; while (true) { spin8++; } }, 50));", "message", "before8")
    reply, iopub = k.run("await als.run(3, async () => { await new Promise((r) => setTimeout(r, 10)); return als.getStore(); })")
    ok_reply(reply, "AsyncLocalStorage after interrupts")
    expect(results(iopub)[0]["data"]["text/plain"] == "3", f"AsyncLocalStorage still tracks its store: {results(iopub)}")


def check_interrupt_background_loop(k, args):
    k.run("const before6 = 'kept';")
    reply, _ = k.run("setTimeout(() => { let z = 0; while (true) { z++; } }, 100);\n'scheduled'")
    ok_reply(reply, "cell scheduling a runaway timer")
    time.sleep(0.5)
    msg_id = k.send("'queued behind the loop'")
    time.sleep(1.5)
    started = time.time()
    ctrl = k.request("interrupt_request", {}, channel="control")
    k.reply(ctrl, channel="control")
    reply = k.reply(msg_id, timeout=20)
    k.iopub_until_idle([msg_id])
    expect(time.time() - started < 10, "the stuck worker was freed quickly")
    expect(reply["content"]["status"] in ("ok", "error"), f"queued cell answered: {reply['content']}")
    if reply["content"]["status"] == "error":
        expect(reply["content"]["ename"] == "Interrupted", f"queued cell error {reply['content']}")
    reply, iopub = k.run("before6")
    ok_reply(reply, "cell after freeing the worker")
    expect(results(iopub)[0]["data"]["text/plain"] == "'kept'", "state kept")


def iopub_for(k, seconds):
    """Every iopub message that arrives within `seconds`, whatever its parent."""
    got = []
    end = time.time() + seconds
    while time.time() < end:
        try:
            got.append(k.kc.get_iopub_msg(timeout=max(0.05, end - time.time())))
        except Empty:
            pass
    return got


def check_svg_gets_png(k, args):
    import base64
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="red"/></svg>'
    code = (
        "console.log('before the svg');\n"
        f"(globalThis as any)[Symbol.for('tsyft.kernel')].display({{ 'text/plain': 'box', 'image/svg+xml': '{svg}' }});\n"
        "console.log('after the svg');\n"
        f"({{ [Symbol.for('tsyft.display')]: () => ({{ 'text/plain': 'result box', 'image/svg+xml': '{svg}' }}) }})"
    )
    reply, iopub = k.run(code)
    ok_reply(reply, "cell showing SVGs")
    kinds = [m["msg_type"] for m in iopub if m["msg_type"] in ("stream", "display_data", "execute_result")]
    expect(kinds == ["stream", "display_data", "stream", "execute_result"], f"output order kept: {kinds}")
    for m in of_type(iopub, "display_data") + of_type(iopub, "execute_result"):
        data = m["content"]["data"]
        expect(data.get("image/svg+xml") == svg, f"the SVG stays: {list(data)}")
        expect(base64.b64decode(data.get("image/png", ""))[:4] == b"\x89PNG", f"a PNG beside it: {list(data)}")
        expect(m["content"]["metadata"].get("image/png", {}).get("width") == 40, f"shown at the SVG's width: {m['content']['metadata']}")


def wait_for_output(k, msg_id, text):
    """The cell's iopub messages until its stdout shows `text` (so an interrupt finds it running)."""
    got = []
    end = time.time() + TIMEOUT
    while text not in stream_text(got, "stdout"):
        msg = k.kc.get_iopub_msg(timeout=max(0.1, end - time.time()))
        if msg["parent_header"].get("msg_id") == msg_id:
            got.append(msg)
    return got


def check_interrupt_stops_continuation(k, args):
    # A loop of awaits, interrupted at about step 3: steps 4..15 must never print, here or in a later cell.
    msg_id = k.send("for (let k = 0; k < 16; k++) { await new Promise((r) => setTimeout(r, 300)); console.log('step', k); }")
    early = wait_for_output(k, msg_id, "step 2")
    k.reply(k.request("interrupt_request", {}, channel="control"), channel="control")
    c = k.reply(msg_id, timeout=20)["content"]
    expect(c["status"] == "error" and c["ename"] == "Interrupted", f"reply after interrupt {c}")
    before = stream_text(early + k.iopub_until_idle([msg_id])[msg_id], "stdout")
    expect("step 0" in before and "step 15" not in before, f"steps before the interrupt: {before!r}")
    later = k.send("await new Promise((r) => setTimeout(r, 2500)); 'later'")
    ok_reply(k.reply(later), "cell after the interrupt")
    after = iopub_for(k, 1.0)
    printed = [(m["parent_header"].get("msg_id"), m["content"]["text"]) for m in of_type(after, "stream")]
    expect(not any("step" in text for _, text in printed), f"the interrupted loop went on printing: {printed}")
    # One long await followed by a log: interrupted, the log never comes.
    msg_id = k.send("console.log('waiting'); await new Promise((r) => setTimeout(r, 2000)); console.log('late log');")
    wait_for_output(k, msg_id, "waiting")
    k.reply(k.request("interrupt_request", {}, channel="control"), channel="control")
    expect(k.reply(msg_id, timeout=20)["content"]["ename"] == "Interrupted", "long await interrupted")
    after = iopub_for(k, 2.5)
    late = [m["content"]["text"] for m in of_type(after, "stream") if "late log" in m["content"]["text"]]
    expect(not late, f"the interrupted cell's continuation ran: {late}")
    # Timers of a cell that ended normally keep running, and print into that cell.
    first = k.send("setTimeout(() => console.log('background tick'), 400); 'scheduled'")
    ok_reply(k.reply(first), "cell scheduling a timer")
    k.iopub_until_idle([first])
    second = k.send("'next cell'")
    ok_reply(k.reply(second), "next cell")
    after = iopub_for(k, 1.0)
    ticks = [m["parent_header"].get("msg_id") for m in of_type(after, "stream") if "background tick" in m["content"]["text"]]
    expect(ticks == [first], f"a finished cell's timer prints into that cell (parents {ticks}, cell {first})")


def check_library_error_frames(k, args):
    reply, iopub = k.run("import * as tfErr from '@tensorflow/tfjs';\nconst shaped = tfErr.tensor([1, 2, 3]);\nshaped.reshape([2, 2]);")
    c = reply["content"]
    expect(c["status"] == "error", f"reshape fails: {c}")
    tb = "\n".join(c["traceback"])
    expect("cell-" in tb and ":3:" in tb, f"the cell's frame and line: {tb}")
    expect("shaped.reshape([2, 2]);" in tb and "^" in tb, f"the line quoted with a caret: {tb}")
    expect("node_modules" not in tb and "frames in @tensorflow/tfjs-core" in tb, f"TF.js frames summarized: {tb}")
    banner = [m["content"]["text"] for m in of_type(iopub, "stream") if "node backend" in m["content"]["text"]]
    expect(not banner, f"TF.js's tfjs-node banner was shown: {banner}")


def check_exit_in_cell_resets(k, args):
    k.run("const beforeExit = 1;")
    reply, iopub = k.run("process.exit(3)")
    c = reply["content"]
    expect(c["status"] == "error" and c["ename"] == "KernelStateReset", f"reply {c}")
    expect("kernel state was reset" in c["evalue"], f"says plainly that state was reset: {c['evalue']}")
    expect(k.km.is_alive(), "the kernel process survives process.exit() in a cell")
    reply, _ = k.run("beforeExit")
    expect(reply["content"]["status"] == "error" and "Cannot find name 'beforeExit'" in reply["content"]["evalue"], f"fresh context after the reset: {reply['content']}")
    reply, iopub = k.run("1 + 1")
    ok_reply(reply, "cell after the reset")
    expect(results(iopub)[0]["data"]["text/plain"] == "2", f"result after reset: {results(iopub)}")


def check_comm(k, args):
    msg_id = k.request("comm_info_request", {})
    reply = k.reply(msg_id)
    expect(reply["msg_type"] == "comm_info_reply", f"msg_type {reply['msg_type']}")
    expect(reply["content"] == {"status": "ok", "comms": {}}, f"content {reply['content']}")
    k.iopub_until_idle([msg_id])
    open_id = k.request("comm_open", {"comm_id": "c-1", "target_name": "jupyter.widget", "data": {}})
    opened = k.iopub_until_idle([open_id])[open_id]
    closes = of_type(opened, "comm_close")
    expect(closes and closes[0]["content"]["comm_id"] == "c-1", f"comm_open answered with comm_close: {[m['msg_type'] for m in opened]}")
    msg_id = k.request("comm_msg", {"comm_id": "c-1", "data": {"x": 1}})
    k.iopub_until_idle([msg_id])
    msg_id = k.request("comm_close", {"comm_id": "c-1", "data": {}})
    k.iopub_until_idle([msg_id])
    reply, _ = k.run("'alive after comms'")
    ok_reply(reply, "cell after comm messages")


def check_history(k, args):
    k.run("const historyMarker = 'h1';")
    k.run("historyMarker.length")
    msg_id = k.kc.history(hist_access_type="tail", n=2, output=False, raw=True)
    reply = k.reply(msg_id)
    expect(reply["msg_type"] == "history_reply" and reply["content"]["status"] == "ok", f"history_reply {reply['content']}")
    hist = reply["content"]["history"]
    expect([h[2] for h in hist] == ["const historyMarker = 'h1';", "historyMarker.length"], f"tail history {hist}")
    expect(all(isinstance(h[0], int) and isinstance(h[1], int) for h in hist) and hist[1][1] == hist[0][1] + 1, f"session/line numbers {hist}")
    msg_id = k.kc.history(hist_access_type="range", session=0, start=hist[0][1], stop=hist[1][1] + 1, output=True, raw=True)
    ranged = k.reply(msg_id)["content"]["history"]
    expect(len(ranged) == 2 and ranged[1][2] == ["historyMarker.length", "2"], f"range with output {ranged}")
    msg_id = k.kc.history(hist_access_type="search", pattern="const historyMarker*", output=False, raw=True)
    found = k.reply(msg_id)["content"]["history"]
    expect([h[2] for h in found] == ["const historyMarker = 'h1';"], f"search {found}")


def check_is_complete(k, args):
    cases = {
        "let a = 1": ("complete", None),
        "function f() {": ("incomplete", "  "),
        "const xs = [1,\n  2,": ("incomplete", "  "),
        "let a = ;": ("invalid", None),
        "}} foo": ("invalid", None),
        "`multi\nline": ("incomplete", ""),
    }
    for code, (status, indent) in cases.items():
        msg_id = k.kc.is_complete(code)
        reply = k.reply(msg_id)
        c = reply["content"]
        expect(reply["msg_type"] == "is_complete_reply", reply["msg_type"])
        expect(c["status"] == status, f"{code!r}: status {c['status']} (want {status})")
        if indent is not None:
            expect(c.get("indent") == indent, f"{code!r}: indent {c.get('indent')!r} (want {indent!r})")


def check_complete_and_inspect(k, args):
    k.run("const abcdefLong = 42;")
    code = "abcdef"
    msg_id = k.kc.complete(code, len(code))
    c = k.reply(msg_id)["content"]
    expect(c["status"] == "ok" and "abcdefLong" in c["matches"], f"complete {c}")
    expect(c["cursor_start"] == 0 and c["cursor_end"] == len(code), f"cursor range {c}")
    code = "Math.fl"
    c = k.reply(k.kc.complete(code, len(code)))["content"]
    expect("floor" in c["matches"] and c["cursor_start"] == 5, f"member completion {c}")
    code = "abcdefLong"
    c = k.reply(k.kc.inspect(code, 3))["content"]
    expect(c["status"] == "ok" and c["found"] is True, f"inspect {c}")
    expect("abcdefLong" in c["data"]["text/plain"] and "42" in c["data"]["text/plain"], f"inspect text {c['data']}")
    k.run("/**\n * Doubles a number.\n * @example\n * ```ts\n * twiceDoc(2); // 4\n * ```\n */\nfunction twiceDoc(n: number) { return 2 * n; }")
    c = k.reply(k.kc.inspect("twiceDoc", 3))["content"]
    doc = c["data"].get("text/plain", "")
    expect("Doubles a number" in doc and "```" not in doc and "    twiceDoc(2)" in doc, f"docs without Markdown fences: {doc!r}")


def check_user_expressions(k, args):
    k.run("const ue = 6;")
    reply, _ = k.run("ue * 1", user_expressions={"double": "ue * 2", "bad": "ue.nope()"})
    ue = reply["content"]["user_expressions"]
    expect(ue["double"]["status"] == "ok" and ue["double"]["data"]["text/plain"] == "12", f"user_expressions {ue}")
    expect(ue["bad"]["status"] == "error", f"failing user expression {ue['bad']}")


def check_shutdown(k, args):
    k.run("setInterval(() => {}, 1000); const pending = setTimeout(() => {}, 600000);")
    pid = k.km.provisioner.process.pid if k.km.provisioner and k.km.provisioner.process else None
    msg_id = k.kc.shutdown(restart=True)
    reply = k.reply(msg_id, channel="control", timeout=20)
    expect(reply["msg_type"] == "shutdown_reply", f"msg_type {reply['msg_type']}")
    expect(reply["content"].get("status") == "ok" and reply["content"].get("restart") is True, f"content {reply['content']}")
    end = time.time() + 10
    while time.time() < end and k.km.is_alive():
        time.sleep(0.1)
    expect(not k.km.is_alive(), "kernel process still alive 10 s after shutdown_reply (pending timers)")
    code = k.km.provisioner.process.poll() if k.km.provisioner and k.km.provisioner.process else 0
    expect(code == 0, f"kernel exit status {code} (pid {pid})")


CHECKS = [
    ("kernel_info", check_kernel_info),
    ("heartbeat", check_heartbeat),
    ("status_busy_idle", check_status_busy_idle),
    ("execute_input_and_count", check_execute_input_and_count),
    ("execute_result_plain", check_execute_result_plain),
    ("execute_result_rich", check_execute_result_rich),
    ("undefined_shows_nothing", check_undefined_shows_nothing),
    ("promise_awaited", check_promise_awaited),
    ("stream_output", check_stream_output),
    ("async_output_parent", check_async_output_parent),
    ("display_bridge", check_display_bridge),
    ("library_display", check_library_display),
    ("variables_across_cells", check_variables_across_cells),
    ("compile_error", check_compile_error),
    ("runtime_error", check_runtime_error),
    ("next_cell_after_error", check_next_cell_after_error),
    ("stop_on_error_aborts", check_stop_on_error_aborts),
    ("stop_on_error_false", check_stop_on_error_false),
    ("interrupt_signal_sync", check_interrupt_signal_sync),
    ("interrupt_signal_after_await", check_interrupt_signal_after_await),
    ("interrupt_message_sync", check_interrupt_message_sync),
    ("interrupt_message_after_await", check_interrupt_message_after_await),
    ("interrupt_awaiting", check_interrupt_awaiting),
    ("interrupt_with_async_hooks", check_interrupt_with_async_hooks),
    ("interrupt_background_loop", check_interrupt_background_loop),
    ("interrupt_stops_continuation", check_interrupt_stops_continuation),
    ("svg_gets_png", check_svg_gets_png),
    ("library_error_frames", check_library_error_frames),
    ("exit_in_cell_resets", check_exit_in_cell_resets),
    ("comm", check_comm),
    ("history", check_history),
    ("is_complete", check_is_complete),
    ("complete_and_inspect", check_complete_and_inspect),
    ("user_expressions", check_user_expressions),
    ("shutdown", check_shutdown),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cwd", required=True)
    parser.add_argument("--typescript", required=True)
    parser.add_argument("--only", default="")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        print(json.dumps([name for name, _ in CHECKS]))
        return
    only = set(filter(None, args.only.split(",")))
    kernel = None
    try:
        for name, check in CHECKS:
            if only and name not in only:
                continue
            try:
                if kernel is None or not kernel.km.is_alive():
                    if kernel is not None:
                        kernel.close()
                    kernel = Kernel(args.cwd)
                check(kernel, args)
                emit(name, True)
            except Exception as error:  # report and go on
                detail = f"{type(error).__name__}: {error}"
                if not isinstance(error, AssertionError):
                    detail += "\n" + traceback.format_exc(limit=4)
                emit(name, False, detail)
                if kernel is not None:
                    kernel.drain(1.0)
    finally:
        if kernel is not None:
            kernel.close()


if __name__ == "__main__":
    main()
    sys.stdout.flush()
