#!/usr/bin/env python3
"""SpamAssassin and rspamd on the same k folds as moat-spam-bench (folds.tsv).

For every fold: the peer's Bayes is emptied, trained on the other folds (sa-learn, rspamc
learn_spam/learn_ham), then the held-out messages are scored by 2 concurrent clients that
speak the peer's protocol directly (spamd's CHECK, rspamd's /checkv2), so no client process
start-up is timed. Writes OUT/<peer>.tsv (path, label, fold, score, spam) and
OUT/<peer>-speed.txt (messages/s with 2 clients, server CPU ms per message).

usage: peers.py sa|rspamd|moatd CORPUS OUT SA_CONFDIR|RSPAMD_PIDS|MOATD_PID

`moatd` measures Moat through its spamd interface the same way (CHECK from 2 clients; its
model is not trained here: the speed of the interface, scan and rules included; the k-fold
accuracy comes from moat-spam-bench).
"""
import concurrent.futures, json, os, socket, subprocess, sys, time, urllib.request

peer, corpus, out = sys.argv[1], sys.argv[2], sys.argv[3]
folds = [line.rstrip("\n").split("\t") for line in open(os.path.join(out, "folds.tsv"))][1:]
K = max(int(f[2]) for f in folds) + 1
ONLY = [int(x) for x in os.environ.get("FOLDS", "").split(",") if x != ""] or list(range(K))


def message(path):
    data = open(os.path.join(corpus, path), "rb").read()
    if data.startswith(b"From "):  # as an MTA passes it on: no mbox From line
        data = data[data.find(b"\n") + 1:]
    return data


def tree_cpu_seconds(roots):
    """CPU time of the processes in `roots` and their descendants: utime+stime, plus
    cutime+cstime, where the time of children that exited (spamd replaces its children
    after a number of connections) is added when they are reaped."""
    stats = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                s = open(f"/proc/{pid}/stat").read()
            except OSError:
                continue
            rest = s[s.rfind(")") + 2:].split()
            stats[int(pid)] = (int(rest[1]), int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14]))
    keep, changed = set(roots), True
    while changed:
        changed = False
        for pid, (ppid, _) in stats.items():
            if ppid in keep and pid not in keep:
                keep.add(pid); changed = True
    return sum(stats[p][1] for p in keep if p in stats) / os.sysconf("SC_CLK_TCK")


def spamd_check(data, port=17840):
    s = socket.create_connection(("127.0.0.1", port), timeout=300)
    s.sendall(b"CHECK SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(data) + data)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while chunk := s.recv(65536):
        reply += chunk
    s.close()
    for line in reply.split(b"\r\n"):
        if line.startswith(b"Spam:"):  # Spam: True ; 7.3 / 5.0
            verdict, scores = line[5:].split(b";")
            return float(scores.split(b"/")[0]), verdict.strip() == b"True"
    raise RuntimeError("no Spam: line in %r" % reply[:200])


def rspamd_check(data):
    req = urllib.request.Request("http://127.0.0.1:11333/checkv2", data=data, method="POST")
    reply = json.load(urllib.request.urlopen(req, timeout=300))
    # Spam at rspamd's default threshold for marking mail: the "add header" action (6.0) or above.
    return float(reply["score"]), reply["action"] in ("add header", "rewrite subject", "reject")


def train(fold):
    if peer == "moatd":
        return
    train_set = [f for f in folds if int(f[2]) != fold]
    for label in ("spam", "ham"):
        files = [os.path.join(corpus, f[0]) for f in train_set if f[1] == label]
        for i in range(0, len(files), 300):
            chunk = files[i:i + 300]
            if peer == "sa":
                subprocess.run(["sa-learn", "--siteconfigpath", sys.argv[4], "--no-sync", "--" + label] + chunk,
                               check=True, stdout=subprocess.DEVNULL)
            else:
                subprocess.run(["rspamc", "-h", "127.0.0.1:11334", "-n", "2", "learn_" + label] + chunk,
                               check=True, stdout=subprocess.DEVNULL)
    if peer == "sa":
        subprocess.run(["sa-learn", "--siteconfigpath", sys.argv[4], "--sync"], check=True, stdout=subprocess.DEVNULL)


def clear():
    if peer == "moatd":
        return
    if peer == "sa":
        subprocess.run(["sa-learn", "--siteconfigpath", sys.argv[4], "--clear"], check=True, stdout=subprocess.DEVNULL)
    else:
        subprocess.run(["redis-cli", "-p", "16379", "flushall"], check=True, stdout=subprocess.DEVNULL)


check = {"sa": spamd_check, "rspamd": rspamd_check, "moatd": lambda data: spamd_check(data, 17850)}[peer]
roots = [int(os.environ["SPAMD_PID"])] if peer == "sa" else [int(p) for p in sys.argv[4].split(",")]
rows, wall, cpu, scanned = ["path\tlabel\tfold\tscore\tspam"], 0.0, 0.0, 0
for fold in ONLY:
    clear()
    t = time.time(); train(fold); learn_seconds = time.time() - t
    test = [f for f in folds if int(f[2]) == fold]
    datas = [message(f[0]) for f in test]
    cpu0, t0 = tree_cpu_seconds(roots), time.time()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(check, datas))
    wall += time.time() - t0; cpu += tree_cpu_seconds(roots) - cpu0; scanned += len(test)
    for f, (score, spam) in zip(test, results):
        rows.append(f"{f[0]}\t{f[1]}\t{f[2]}\t{score}\t{int(spam)}")
    print(f"{peer} fold {fold}: trained in {learn_seconds:.0f} s, scored {len(test)}", flush=True)
open(os.path.join(out, f"{peer}.tsv"), "w").write("\n".join(rows) + "\n")
open(os.path.join(out, f"{peer}-speed.txt"), "w").write(
    "engine\tmessages_per_s_2_clients\tcpu_ms_per_message\n"
    f"{peer}\t{scanned / wall:.1f}\t{cpu / scanned * 1000:.2f}\n")
