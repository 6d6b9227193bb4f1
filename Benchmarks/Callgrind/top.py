#!/usr/bin/env python3
"""The functions a callgrind window dump spends its instructions in, per message.

usage: top.py DUMP MESSAGES [ROWS [FUNCTION...]]   (DUMP: Benchmarks/Callgrind/run.sh's
<path>-moatd.window, kept with KEEP=dir; prints markdown tables: inclusive and self cost per
message, then, for each FUNCTION (a demangled name, as printed), what its calls cost)

Self costs are exact: their sum is the dump's `totals:` line. Inclusive costs come from the
calls= records, and a call that began before the window was zeroed (a thread's start, an event
loop's run, the control command that zeroed it) carries its cost since it began: such frames
(inclusive above the window's total, or a thread or event-loop base) are left out, as are the
runtime's trampolines (thunks, partial applies, protocol witnesses, the job runner), which
repeat the cost of the function they call. Names are demangled with `swift demangle`.
"""
import re, subprocess, sys
from collections import defaultdict

SPANNING = re.compile(r"^(clone|start_thread|.*ThreadOpsPosix\.run|.*NIOThread|.*setupThreadAndEventLoop|"
                      r".*SelectableEventLoop\.run|.*_blockingWaitForWork|.*whenReady0|_dispatch_worker_thread|"
                      r".*NSThreadStart|Thread\.main|swift_task_switch|event_base_dispatch|0x[0-9a-f]+$)")
TRAMPOLINE = re.compile(r"^(partial apply|thunk|specialized thunk|reabstraction thunk|protocol witness|dispatch thunk|"
                        r"@objc|_dispatch_|__swift_run_job|jobInvoke|swift_job_run|swift::runJob|future_adapter|"
                        r"merged |outlined )")


def parse(path):
    names, self_cost, calls, total = {}, defaultdict(int), defaultdict(lambda: defaultdict(int)), 0
    fn = cfn = None
    pending_call = False
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("totals:"):
            total = int(line.split()[1])
        elif line.startswith(("fn=", "cfn=")):
            key, _, rest = line.partition("=")
            m = re.match(r"\((\d+)\)(?: (.*))?", rest)
            ident = m.group(1) if m else rest
            if m and m.group(2):
                names[ident] = m.group(2)
            if key == "fn":
                fn = ident
            else:
                cfn = ident
        elif line.startswith("calls="):
            pending_call = True
        elif fn is not None and (line[:1].isdigit() or line[:1] in "+-*"):
            fields = line.split()  # position, then the Ir (none: 0)
            cost = int(fields[1]) if len(fields) > 1 else 0
            if pending_call:
                if cfn != fn:
                    calls[fn][cfn] += cost
                pending_call = False
            else:
                self_cost[fn] += cost
    return names, self_cost, calls, total


def demangle(symbols):
    try:
        out = subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(symbols), capture_output=True,
                             text=True, check=True).stdout.splitlines()
        return out if len(out) == len(symbols) else symbols
    except (OSError, subprocess.CalledProcessError):
        return symbols


def table(title, rows, messages, total):
    print(f"\n{title}\n")
    print("| # | Ir per message | share of the window | function |")
    print("|---:|---:|---:|---|")
    for rank, (cost, name) in enumerate(rows, 1):
        print(f"| {rank} | {cost / messages:,.0f} | {100 * cost / total:.1f} % | `{name[:150]}` |")


def main():
    path, messages = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    names, self_cost, calls, total = parse(path)
    functions = set(self_cost) | set(calls)
    inclusive = {f: self_cost[f] + sum(calls[f].values()) for f in functions}
    ids = sorted(functions)
    readable = dict(zip(ids, demangle([names.get(f, f) for f in ids])))
    print(f"window total: {total:,} Ir over {messages} messages = {total / messages:,.0f} Ir per message"
          f" (self costs sum to {sum(self_cost.values()):,})")
    kept = [(inclusive[f], readable[f]) for f in functions
            if inclusive[f] <= total and not SPANNING.match(readable[f]) and not TRAMPOLINE.match(readable[f])]
    merged = defaultdict(int)  # a name callgrind lists once per object or specialisation
    for cost, name in kept:
        merged[name] = max(merged[name], cost)
    table("Inclusive (a function and what it calls; rows nest, so they do not add up)",
          sorted(((c, n) for n, c in merged.items()), reverse=True)[:count], messages, total)
    by_name = defaultdict(int)
    for f in functions:
        by_name[readable[f]] += self_cost[f]
    table("Self (the function's own instructions; exact, they add up to the total)",
          sorted(((c, n) for n, c in by_name.items()), reverse=True)[:count], messages, total)
    for wanted in sys.argv[4:]:
        callees = defaultdict(int)
        own = 0
        for f in functions:
            if readable[f] == wanted:
                own += self_cost[f]
                for callee, cost in calls[f].items():
                    callees[readable[callee]] += cost
        rows = sorted(((c, n) for n, c in callees.items()), reverse=True)[:count]
        table(f"What `{wanted}` calls (its own instructions: {own / messages:,.0f} per message)", rows, messages, total)


main()
