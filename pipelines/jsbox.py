"""Run a list page's own pager scripts in a sandbox and collect the links they would write.

Many CMS list pages write their pager with script: ``createPageHTML(countPage, currentPage, …)``
after ``var countPage = Math.ceil(1071/20)`` and an ``if`` that caps it, ``goPage(n)`` functions
behind ``javascript:`` links, ``document.write`` of anchors. Patterns cannot follow that; running
the page's inline scripts (and a same-host pager script it loads) can. The engine is V8 through
mini-racer: no network, no file system, a DOM stub that records ``document.write``, ``innerHTML``
and ``location`` assignments, a time limit and a memory limit. What comes out is a list of URLs
and the arguments of ``createPageHTML`` calls; a script that loops forever, allocates without end
or writes a million links is stopped, with the reason.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

TIME_LIMIT = 1.0  # seconds of script time per page
MEMORY_LIMIT = 64 * 1024 * 1024  # bytes of JavaScript heap per page
MAX_OUTPUT = 2 * 1024 * 1024  # characters written (document.write, innerHTML) kept per page
MAX_CALLS = 2000  # pager calls (createPageHTML, goPage(n) …) recorded per page

# A browser's surface, as little of it as pager scripts touch. Every write is recorded; nothing
# leaves the sandbox. Unknown functions are tolerated (a Proxy returns a no-op for any property).
_PRELUDE = r"""
var __out = [], __nav = [], __calls = [], __size = 0;
function __rec(s) { s = String(s); __size += s.length; if (__size > %(max_output)d) throw new Error("__too_much_output"); __out.push(s); }
function __call(name, args) { if (__calls.length >= %(max_calls)d) throw new Error("__too_many_calls"); __calls.push([name, Array.prototype.slice.call(args).map(function (a) { return (typeof a === "number" || typeof a === "string") ? a : String(a); })]); }
var __noop = function () { return __any; };
var __any = new Proxy(__noop, { get: function (t, k) { if (k === Symbol.toPrimitive) return function () { return ""; }; if (k === "length") return 0; return __any; }, set: function () { return true; }, apply: function () { return __any; }, construct: function () { return __any; } });
function __Element(tag) { this.tagName = tag; this.style = {}; this.children = []; this.attributes = {}; }
__Element.prototype = {
  set innerHTML(v) { __rec(v); this._html = String(v); }, get innerHTML() { return this._html || ""; },
  set outerHTML(v) { __rec(v); }, set href(v) { __nav.push(String(v)); }, get href() { return ""; },
  appendChild: function (c) { if (c && c._html) __rec(c._html); if (c && c.attributes && c.attributes.href) __rec('<a href="' + c.attributes.href + '"></a>'); return c; },
  insertAdjacentHTML: function (p, h) { __rec(h); }, setAttribute: function (k, v) { this.attributes[k] = String(v); if (k === "href") __rec('<a href="' + v + '"></a>'); },
  getAttribute: function (k) { return this.attributes[k] || null; }, addEventListener: function () {},
  removeChild: function () {}, querySelector: function () { return new __Element("div"); }, querySelectorAll: function () { return []; },
  getElementsByTagName: function () { return []; }, cloneNode: function () { return new __Element(this.tagName); }
};
var __loc = { set href(v) { __nav.push(String(v)); }, get href() { return __base; }, assign: function (v) { __nav.push(String(v)); }, replace: function (v) { __nav.push(String(v)); }, reload: function () {}, search: "", hash: "", pathname: "", protocol: "http:", host: "" };
var document = { write: __rec, writeln: __rec, getElementById: function () { return new __Element("div"); },
  getElementsByTagName: function () { return [new __Element("div")]; }, getElementsByClassName: function () { return [new __Element("div")]; },
  querySelector: function () { return new __Element("div"); }, querySelectorAll: function () { return [new __Element("div")]; },
  createElement: function (t) { return new __Element(t); }, createTextNode: function (t) { return new __Element("#text"); },
  addEventListener: function () {}, body: new __Element("body"), documentElement: new __Element("html"), cookie: "", referrer: "", title: "" };
Object.defineProperty(document, "location", { get: function () { return __loc; }, set: function (v) { __nav.push(String(v)); } });
var window = this; var self = this; var top = this; var parent = this;
Object.defineProperty(this, "location", { get: function () { return __loc; }, set: function (v) { __nav.push(String(v)); } });
var navigator = { userAgent: "Mozilla/5.0", language: "zh-CN", platform: "Linux" };
var screen = { width: 1280, height: 800 }; var history = { back: function () {}, go: function () {} };
function setTimeout(f) { if (typeof f === "function") { try { f(); } catch (e) {} } return 0; }
var setInterval = function () { return 0; }, clearTimeout = function () {}, clearInterval = function () {};
function alert() {} function confirm() { return true; } function open(u) { if (u) __nav.push(String(u)); }
var $ = __any, jQuery = __any, XMLHttpRequest = function () { return __any; }, fetch = function () { return __any; };
var console = { log: function () {}, warn: function () {}, error: function () {} };
// A page reads variables its other scripts define: an unknown name is undefined, not an error
// that ends the script (each script runs inside with (__scope)).
var __scope = new Proxy({}, { has: function (t, k) { return typeof k === "string" && !(k in globalThis); },
  get: function () { return undefined; }, set: function (t, k, v) { globalThis[k] = v; return true; } });
"""

_RESULT = "JSON.stringify({out: __out.join('\\n'), nav: __nav, calls: __calls})"


@dataclass
class ScriptRun:
    """What a page's scripts wrote: HTML (to look for links in), navigations, recorded pager calls."""

    html: str = ""
    navigations: list[str] = field(default_factory=list)
    calls: list[tuple[str, list]] = field(default_factory=list)
    error: str | None = None  # why the run stopped early (timeout, memory, too much output), if it did


def run_scripts(scripts: list[str], base: str, *, stubs: tuple[str, ...] = ("createPageHTML",),
                calls: list[str] | None = None, time_limit: float = TIME_LIMIT,
                memory_limit: int = MEMORY_LIMIT) -> ScriptRun:
    """Run ``scripts`` in order (each in its own try, as a browser runs script elements), then each
    of ``calls`` (expressions such as ``goPage(3)``); functions named in ``stubs`` are replaced by
    recorders (``createPageHTML`` is the TRS pager, whose URL convention is known).
    """
    try:
        import asyncio

        asyncio.get_running_loop()
    except RuntimeError:
        pass  # no event loop here: run in this thread
    else:  # mini-racer refuses timeouts inside a running event loop (the crawl's reactor): a thread
        return _pool().submit(run_scripts, scripts, base, stubs=stubs, calls=calls, time_limit=time_limit,
                              memory_limit=memory_limit).result()
    from py_mini_racer import MiniRacer

    prelude = _PRELUDE % {"max_output": MAX_OUTPUT, "max_calls": MAX_CALLS}
    stub_code = "".join(f"function {name}() {{ __call({json.dumps(name)}, arguments); }}\n" for name in stubs)
    body = [f"var __base = {json.dumps(base)};", prelude]
    for code in scripts:
        body.append("try { with (__scope) {" + code + "\n} } catch (e) { if (String(e).indexOf('__too') >= 0) throw e; }")
        body.append(stub_code)  # a page's own definition of a stubbed pager must not replace the recorder
    for expr in calls or []:
        body.append("try {" + expr + "\n} catch (e) { if (String(e).indexOf('__too') >= 0) throw e; }")
    ctx = MiniRacer()
    result = ScriptRun()
    try:
        ctx.eval(stub_code + "\n".join(body), timeout_sec=time_limit, max_memory=memory_limit)
    except Exception as exc:  # noqa: BLE001 - mini-racer's timeout, memory and script errors
        result.error = _reason(exc)
    try:
        data = json.loads(ctx.eval(_RESULT, timeout_sec=time_limit))
        result.html, result.navigations = data["out"], data["nav"]
        result.calls = [(name, args) for name, args in data["calls"]]
    except Exception as exc:  # noqa: BLE001 - a heap already exhausted cannot even report
        result.error = result.error or _reason(exc)
    finally:
        ctx.close()
    if result.error:
        log.warning("pager script on %s stopped: %s", base, result.error)
    return result


@functools.cache
def _pool():  # noqa: ANN202
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="govarchive-jsbox")


def _reason(exc: BaseException) -> str:
    name = type(exc).__name__
    text = str(exc)
    if "Timeout" in name:
        return f"time limit ({TIME_LIMIT:g} s) reached"
    if "OOM" in name or "memory" in text.lower():
        return f"memory limit ({MEMORY_LIMIT // 2**20} MB) reached"
    if "__too_much_output" in text:
        return f"more than {MAX_OUTPUT:,} characters written"
    if "__too_many_calls" in text:
        return f"more than {MAX_CALLS:,} pager calls"
    return f"{name}: {text[:200]}"
